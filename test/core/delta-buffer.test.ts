import { describe, expect, it } from 'vitest';
import { createDeltaBuffer, FRAME_CHARS } from '../../widget/core/delta-buffer';

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

  it('delivers at most one frame of text per frame; the rest follows in the next frames, in order', () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule, 4);
    b.push('abcdef');
    b.push('ghij');
    s.run();
    expect(out).toEqual(['abcd']);
    expect(s.size).toBe(1);
    s.run();
    s.run();
    expect(out).toEqual(['abcd', 'efgh', 'ij']);
    expect(s.size).toBe(0);
  });

  it('never cuts a surrogate pair between two frames', () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule, 4);
    b.push('abc😀de');
    s.run();
    s.run();
    expect(out).toEqual(['abc', '😀de']);
  });

  it('drain resolves at once when nothing is queued', async () => {
    const s = manualScheduler();
    const b = createDeltaBuffer(() => {}, s.schedule, 4);
    await b.drain();
    expect(s.size).toBe(0);
  });

  it('drain waits for the frames that show the rest, one frame of text each', async () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule, 4);
    b.push('0123456789');
    let drained = false;
    const done = b.drain().then(() => (drained = true));
    expect(out).toEqual([]);
    s.run();
    await Promise.resolve();
    expect(drained).toBe(false);
    s.run();
    await Promise.resolve();
    expect(drained).toBe(false);
    expect(out).toEqual(['0123', '4567']);
    s.run();
    await done;
    expect(out).toEqual(['0123', '4567', '89']);
    expect(s.size).toBe(0);
  });

  it('flush during a drain delivers the rest at once; cancel drops it; both end the drain', async () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule, 4);
    b.push('0123456789');
    const first = b.drain();
    s.run();
    b.flush();
    await first;
    expect(out).toEqual(['0123', '456789']);
    b.push('abcdefghij');
    const second = b.drain();
    s.run();
    b.cancel();
    await second;
    expect(out).toEqual(['0123', '456789', 'abcd']);
    expect(s.size).toBe(0);
  });

  it('a backlog of more than 16 frames is cut to 16 in one step, so a giant burst never takes hundreds of frames', () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule, 4);
    b.push('x'.repeat(100));
    s.run();
    expect(out.map((t) => t.length)).toEqual([36]);
    for (let i = 0; i < 16; i++) s.run();
    expect(out.map((t) => t.length)).toEqual([36, ...Array<number>(16).fill(4)]);
    expect(s.size).toBe(0);
  });

  it('paces with the default frame size too', () => {
    const s = manualScheduler();
    const out: string[] = [];
    const b = createDeltaBuffer((t) => out.push(t), s.schedule);
    b.push('x'.repeat(FRAME_CHARS * 2 + 1));
    s.run();
    s.run();
    s.run();
    expect(out.map((t) => t.length)).toEqual([FRAME_CHARS, FRAME_CHARS, 1]);
  });
});
