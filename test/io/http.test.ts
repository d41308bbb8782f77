import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, createSleep, captureTimers, parseRetryAfter, readCapped, untilAborted } from '../../widget/io/http';

const NOW = Date.parse('2030-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['7', 7_000],
    [' 7 ', 7_000],
    ['0', 0],
    ['1.5', 1_500],
    ['3600', 3_600_000],
    ['Tue, 01 Jan 2030 00:00:20 GMT', 20_000],
    ['Mon, 31 Dec 2029 23:59:00 GMT', 0], // in the past
  ])('%j → %i ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it.each([null, '', '-1', 'soon', '2030-01-01T00:00:20Z', '1e3', 'Tue, 01 Jan 2030 00:00:20'])('%j → undefined', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('is about 500 ms then 1 s, jittered ±25 %', () => {
    expect(backoffMs(1, () => 0.5)).toBe(500);
    expect(backoffMs(2, () => 0.5)).toBe(1_000);
    expect(backoffMs(1, () => 0)).toBe(375);
    expect(backoffMs(1, () => 0.999999)).toBe(625);
  });
});

describe('readCapped', () => {
  const encoder = new TextEncoder();

  function body(chunks: Uint8Array[]) {
    const state = { cancelled: false };
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
      cancel() {
        state.cancelled = true;
      },
    });
    return { stream, state };
  }

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = encoder.encode('café ☕');
    const { stream } = body([bytes.slice(0, 4), bytes.slice(4, 8), bytes.slice(8)]);
    await expect(readCapped(stream, 100)).resolves.toBe('café ☕');
  });

  it('stops and cancels past the cap', async () => {
    const { stream, state } = body([encoder.encode('aaaa'), encoder.encode('bbbb'), encoder.encode('cccc')]);
    await expect(readCapped(stream, 6)).resolves.toBeUndefined();
    expect(state.cancelled).toBe(true);
  });

  it('reads a null body as empty', async () => {
    await expect(readCapped(null, 10)).resolves.toBe('');
  });

  it('rejects with an AbortError when its signal aborts mid-read', async () => {
    const stream = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(encoder.encode('x')) });
    const controller = new AbortController();
    const pending = readCapped(stream, 100, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('createSleep and untilAborted', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sleep resolves after the delay, or rejects on abort and clears its timer', async () => {
    vi.useFakeTimers();
    const sleep = createSleep(captureTimers());
    let resolved = false;
    void sleep(100).then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(resolved).toBe(true);

    const controller = new AbortController();
    const pending = sleep(1_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('untilAborted rejects early but leaves the promise running', async () => {
    let resolve!: (value: string) => void;
    const inner = new Promise<string>((r) => (resolve = r));
    const controller = new AbortController();
    const outer = untilAborted(inner, controller.signal);
    controller.abort();
    await expect(outer).rejects.toMatchObject({ name: 'AbortError' });
    resolve('still here');
    await expect(inner).resolves.toBe('still here');
  });
});
