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

  describe('a burst already buffered', () => {
    /** A decoder that records the size of every push, and how many pushes came before a host task ran. */
    function recording() {
      const pushes: number[] = [];
      let text = '';
      let pushesBeforeHostTask: number | undefined;
      const decoder: StreamDecoder = {
        push(chunk) {
          if (pushes.length === 0) {
            // A task the host page queued when the burst began: it must get a turn before the end.
            const { port1, port2 } = new MessageChannel();
            port1.onmessage = () => {
              port1.close();
              pushesBeforeHostTask = pushes.length;
            };
            port2.postMessage(0);
          }
          pushes.push(chunk.length);
          text += chunk;
        },
        end() {},
        done: false,
        skipped: 0,
      };
      return { decoder, pushes, text: () => text, hostTask: () => pushesBeforeHostTask };
    }

    it('is decoded in slices of at most 16 KiB with a turn of the event loop between them', async () => {
      const body = controlledBody();
      const r = recording();
      const sent = 'a'.repeat(40_000) + 'b'.repeat(30_000);
      body.push(sent.slice(0, 40_000));
      body.push(sent.slice(40_000));
      body.close();
      await readBody(body.stream, r.decoder, { signal: new AbortController().signal, idleTimeoutMs: 1_000 });
      expect(r.text()).toBe(sent);
      expect(Math.max(...r.pushes)).toBeLessThanOrEqual(16_384);
      expect(r.pushes.length).toBeGreaterThanOrEqual(5);
      expect(r.hostTask()).toBeGreaterThan(0);
      expect(r.hostTask()).toBeLessThan(r.pushes.length);
    });

    it('Stop between two slices ends the read with an AbortError and pushes nothing more', async () => {
      const body = controlledBody();
      const r = recording();
      const controller = new AbortController();
      body.push('x'.repeat(40_000));
      const result = track(readBody(body.stream, r.decoder, { signal: controller.signal, idleTimeoutMs: 1_000 }));
      await Promise.resolve();
      await Promise.resolve();
      await Promise.resolve();
      controller.abort();
      await vi.waitFor(() => expect(result.done).toBe(true));
      expect((result.error as Error).name).toBe('AbortError');
      expect(r.pushes.length).toBeLessThan(3);
      expect(body.cancelled).toBe(true);
    });
  });
});
