// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureNatives, natives } from '../../widget/embed/natives';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('natives (reliability E4)', () => {
  it('without a capture, reads the current functions at each call (ESM: an SPA may mock fetch)', async () => {
    const frame = { fetch: vi.fn(async () => new Response('one')), setTimeout, clearTimeout } as unknown as Window;
    expect(await (await natives(frame).fetch('https://x.test')).text()).toBe('one');
    (frame as unknown as { fetch: unknown }).fetch = vi.fn(async () => new Response('two'));
    expect(await (await natives(frame).fetch('https://x.test')).text()).toBe('two');
  });

  it('after captureNatives, later wrappers of fetch and the timers are never called', async () => {
    const real = vi.fn(async () => new Response('native'));
    const win = { fetch: real, setTimeout: window.setTimeout.bind(window), clearTimeout: window.clearTimeout.bind(window) } as unknown as Window & Record<string, unknown>;
    captureNatives(win);
    const looping = vi.fn(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    win.fetch = looping;
    win.setTimeout = looping;
    const n = natives(win);
    expect(await (await n.fetch('https://x.test', { method: 'POST' })).text()).toBe('native');
    expect(real).toHaveBeenCalledWith('https://x.test', { method: 'POST' });
    await n.wait(1);
    const fired = vi.fn();
    n.timers.clear(n.timers.set(fired, 1));
    await n.wait(5);
    expect(fired).not.toHaveBeenCalled();
    expect(looping).not.toHaveBeenCalled();
    captureNatives(win); // a second capture keeps the first
    expect(natives(win)).toBe(n);
  });

  it('calls fetch with the window as `this` (browsers throw "Illegal invocation" otherwise)', async () => {
    const win = {} as Window & { fetch: unknown };
    win.fetch = vi.fn(function (this: unknown) {
      if (this !== win) throw new TypeError('Illegal invocation');
      return Promise.resolve(new Response('ok'));
    });
    expect(await (await natives(win).fetch('https://x.test')).text()).toBe('ok');
  });
});
