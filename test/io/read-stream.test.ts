import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import { createStreamDecoder } from '../../widget/core/stream-decoder';
import type { StreamDecoder } from '../../widget/core/stream-decoder';
import { readBody } from '../../widget/io/read-stream';
import { controlledBody, track } from './fetch-stub';

function textDecoder(deltas: string[]) {
  let failure: WidgetError | undefined;
  const decoder = createStreamDecoder('text', {
    onDelta: (text) => deltas.push(text),
    onError: (error) => (failure ??= error),
  });
  return { decoder, decodeError: () => failure };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('readBody', () => {
  it('flushes the UTF-8 decoder at EOF: a truncated character becomes U+FFFD, not lost', async () => {
    const body = controlledBody();
    const deltas: string[] = [];
    const { decoder, decodeError } = textDecoder(deltas);
    const done = readBody(body.stream, decoder, { signal: new AbortController().signal, idleTimeoutMs: 1_000, decodeError });
    body.push(new Uint8Array([0x61, 0xe2, 0x98])); // "a" + the first two bytes of ☕
    body.close();
    await done;
    expect(deltas.join('')).toBe('a\ufffd');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('empty chunks do not count as activity for the idle timer', async () => {
    const body = controlledBody();
    const { decoder } = textDecoder([]);
    const result = track(readBody(body.stream, decoder, { signal: new AbortController().signal, idleTimeoutMs: 1_000 }));
    await vi.advanceTimersByTimeAsync(600);
    body.push(new Uint8Array(0));
    await vi.advanceTimersByTimeAsync(400);
    expect(result.error).toMatchObject({ code: 'interrupted', afterBytes: true });
  });

  it('marks a decoder error afterBytes and cancels the read', async () => {
    const body = controlledBody();
    let failure: WidgetError | undefined;
    const decoder = createStreamDecoder('json', { onDelta: () => {}, onError: (e) => (failure ??= e) });
    const result = track(
      readBody(body.stream, decoder, { signal: new AbortController().signal, idleTimeoutMs: 1_000, decodeError: () => failure }),
    );
    body.push('data: {"error":{"message":"boom"}}\n\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(result.error).toBeInstanceOf(WidgetError);
    expect(result.error).toMatchObject({ code: 'server', afterBytes: true });
    expect(body.cancelled).toBe(true);
  });

  it('a throwing consumer ends the read with that error', async () => {
    const body = controlledBody();
    const boom = new Error('consumer bug');
    const decoder: StreamDecoder = {
      push: () => {
        throw boom;
      },
      end: () => {},
      done: false,
      skipped: 0,
    };
    const result = track(readBody(body.stream, decoder, { signal: new AbortController().signal, idleTimeoutMs: 1_000 }));
    body.push('x');
    await vi.advanceTimersByTimeAsync(0);
    expect(result.error).toBe(boom);
    expect(body.cancelled).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an already aborted signal rejects without reading', async () => {
    const body = controlledBody();
    const controller = new AbortController();
    controller.abort();
    await expect(
      readBody(body.stream, textDecoder([]).decoder, { signal: controller.signal, idleTimeoutMs: 1_000 }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(body.stream.locked).toBe(false);
  });

  it('rejects with the abort reason when it is an AbortError', async () => {
    const body = controlledBody();
    const controller = new AbortController();
    const reason = new DOMException('Stopped by the visitor', 'AbortError');
    const pending = readBody(body.stream, textDecoder([]).decoder, { signal: controller.signal, idleTimeoutMs: 1_000 });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
