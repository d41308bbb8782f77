import { describe, expect, it } from 'vitest';
import { createDeltaBuffer } from '../../widget/core/delta-buffer';

function manualScheduler() {
  const queue: (() => void)[] = [];
  return {
    schedule(cb: () => void) {
      queue.push(cb);
      return () => queue.splice(queue.indexOf(cb) >>> 0, 1);
    },
    run() {
      for (const cb of queue.splice(0)) cb();
    },
    get size() {
      return queue.length;
    },
  };
}

describe('delta buffer', () => {
  it('coalesces many deltas into one delivery per scheduled frame', () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule);
    b.push('a');
    b.push('b');
    b.push('');
    b.push('c');
    expect(s.size).toBe(1);
    expect(out).toEqual([]);
    s.run();
    expect(out).toEqual(['abc']);
    b.push('d');
    s.run();
    expect(out).toEqual(['abc', 'd']);
  });

  it('flush delivers now and cancels the scheduled frame; cancel drops text', () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule);
    b.push('x');
    b.flush();
    expect(out).toEqual(['x']);
    expect(s.size).toBe(0);
    b.push('lost');
    b.cancel();
    s.run();
    b.flush();
    expect(out).toEqual(['x']);
  });

  it('works with a scheduler that runs callbacks synchronously', () => {
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), (cb) => (cb(), () => {}));
    b.push('a');
    b.push('b');
    expect(out).toEqual(['a', 'b']);
  });
});
