/**
 * Reads one response body into a {@link StreamDecoder} (codegpt-api.md section 9.3): one streaming
 * `TextDecoder`, an idle timer, and the mapping of every way a read can end to one outcome.
 * After this starts, bytes may have been received: nothing here ever re-sends a request (rule 5).
 */
import { WidgetError } from '../core/errors';
import type { StreamDecoder } from '../core/stream-decoder';
import { captureTimers, deadline, ignore, throwIfAborted, untilAborted } from './http';
import type { Timers } from './http';

/** How {@link readBody} watches a body. */
export interface ReadBodyOptions {
  /** The caller's signal: aborting it (Stop, destroy) ends the read with an AbortError. */
  signal: AbortSignal;
  /** Longest silence between two chunks (any byte, keep-alive comments included: reliability D2/D3). */
  idleTimeoutMs: number;
  /** Called once, when the first byte arrives. */
  onFirstByte?(): void;
  /**
   * The error the decoder reported through its `onError` callback, if any. The decoder only
   * reports through that callback, so its creator passes a getter; checked after every push.
   */
  decodeError?(): WidgetError | undefined;
  /** Timers to use. @defaultValue the globals, captured when readBody is called */
  timers?: Timers;
}

/**
 * Decoded characters handled between two turns of the event loop. A burst of body that is already
 * buffered (a proxy that held the whole answer, a fast model) resolves read after read as
 * microtasks: decoding it in slices, with a turn of the event loop between them, keeps each task short.
 */
const SLICE = 16_384;

/** Resolves in a later task: a message to ourselves is, unlike a timer, never clamped or throttled. */
function nextTask(): Promise<void> {
  return new Promise((go) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      go();
    };
    port2.postMessage(0);
  });
}

/** `error`, marked as raised after answer bytes arrived: such a request is never re-POSTed (rule 5, reliability D1). */
function afterBytes(error: WidgetError): WidgetError {
  return new WidgetError(error.code, error.message, { ...error, afterBytes: true, cause: error });
}

/**
 * Pumps `body` through a UTF-8 decoder into `decoder` until one of:
 * - EOF: the text decoder is flushed, `decoder.end()` is called, resolves (or rejects with the
 *   decoder's error);
 * - the decoder is `done` ([DONE]) or reported an error: the read is cancelled; resolves / rejects;
 * - no byte for `idleTimeoutMs`: cancelled; rejects with `interrupted` (reliability D2);
 * - the read rejects (connection reset, iOS `TypeError: Load failed`, an AbortError that is not
 *   ours): rejects with `interrupted` (reliability D12);
 * - `signal` aborts: cancelled; rejects with an AbortError (the caller treats it as Stop);
 * - a consumer callback (onDelta, onFirstByte) throws: cancelled; rejects with that error.
 * Every WidgetError it rejects with has `afterBytes: true`: the response had started. The timer
 * and the abort listener are always removed, and the body is always cancelled (a no-op after EOF).
 */
export async function readBody(body: ReadableStream<Uint8Array>, decoder: StreamDecoder, options: ReadBodyOptions): Promise<void> {
  const { signal, idleTimeoutMs, decodeError, timers = captureTimers() } = options;
  let { onFirstByte } = options;
  throwIfAborted(signal);
  const reader = body.getReader();
  // One decoder for the whole body: a multi-byte character may be split across chunks (section 9.3).
  const text = new TextDecoder();
  /** Aborts on Stop or after `idleTimeoutMs` without a byte; renewed by every non-empty chunk. */
  let [idle, off] = deadline(timers, idleTimeoutMs, signal);
  /** Pushes decoded text; true when the read must stop (the decoder is done). Throws its error. */
  const push = (chunk: string): boolean => {
    if (chunk) decoder.push(chunk);
    const error = decodeError?.();
    if (error) throw afterBytes(error);
    return decoder.done;
  };
  /** Characters pushed since the last turn of the event loop. */
  let sinceYield = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await untilAborted(reader.read(), idle);
      } catch (error) {
        // Stop (which also errors a fetch body) is an AbortError; silence or any other failure, a broken answer.
        throwIfAborted(signal);
        throw new WidgetError('interrupted', idle.aborted ? 'Answer stalled.' : 'Answer interrupted.', { afterBytes: true, cause: error });
      }
      if (chunk.done) {
        if (!push(text.decode())) {
          decoder.end();
          push('');
        }
        return;
      }
      if (!chunk.value.byteLength) continue;
      off();
      [idle, off] = deadline(timers, idleTimeoutMs, signal);
      onFirstByte?.();
      onFirstByte = undefined;
      const decoded = text.decode(chunk.value, { stream: true });
      for (let at = 0; at < decoded.length; at += SLICE) {
        if (sinceYield >= SLICE) {
          sinceYield = 0;
          await nextTask();
          throwIfAborted(signal);
        }
        const slice = decoded.slice(at, at + SLICE);
        sinceYield += slice.length;
        if (push(slice)) return;
      }
    }
  } finally {
    off();
    // Tells the server we stopped listening (a no-op after EOF); settles the read left pending.
    reader.cancel().catch(ignore);
  }
}
