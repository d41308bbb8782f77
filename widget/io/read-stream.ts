/**
 * Reads one response body into a {@link StreamDecoder} (codegpt-api.md section 9.3): one streaming
 * `TextDecoder`, an idle timer, and the mapping of every way a read can end to one outcome.
 * After this starts, bytes may have been received: nothing here ever re-sends a request (rule 5).
 */
import { WidgetError } from '../core/errors';
import type { StreamDecoder } from '../core/stream-decoder';
import { abortError, captureTimers } from './http';
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

const INTERRUPTED = 'The answer was interrupted.';
const STALLED = 'The answer stopped arriving.';

/** Errors past this point never lead to a re-POST (rule 5, reliability D1): mark them so. */
function afterBytes(error: WidgetError): WidgetError {
  return error.afterBytes
    ? error
    : new WidgetError(error.code, error.message, { status: error.status, retryAfterMs: error.retryAfterMs, afterBytes: true, cause: error });
}

/**
 * Pumps `body` through a UTF-8 decoder into `decoder` until one of:
 * - EOF: the text decoder is flushed, `decoder.end()` is called, resolves (or rejects with the
 *   decoder's error);
 * - the decoder is `done` ([DONE]) or reported an error: the read is cancelled; resolves / rejects;
 * - no byte for `idleTimeoutMs`: cancelled; rejects with `interrupted` (reliability D2);
 * - the read rejects (connection reset, iOS `TypeError: Load failed`, an AbortError that is not
 *   ours): rejects with `interrupted` (reliability D12);
 * - `signal` aborts: cancelled; rejects with an AbortError (the caller treats it as Stop).
 * Every WidgetError it rejects with has `afterBytes: true`: the response had started. The timer
 * and the abort listener are always removed.
 */
export function readBody(body: ReadableStream<Uint8Array>, decoder: StreamDecoder, options: ReadBodyOptions): Promise<void> {
  const { signal, idleTimeoutMs, onFirstByte, decodeError } = options;
  const timers = options.timers ?? captureTimers();
  if (signal.aborted) return Promise.reject(abortError(signal));
  const reader = body.getReader();
  // One decoder for the whole body: a multi-byte character may be split across chunks (section 9.3).
  const text = new TextDecoder('utf-8');
  let started = false;
  let settled = false;
  let timer: unknown;

  return new Promise<void>((resolve, reject) => {
    function finish(error?: Error): void {
      if (settled) return;
      settled = true;
      timers.clear(timer);
      signal.removeEventListener('abort', onAbort);
      // Cancelling after EOF is a no-op; otherwise it tells the server we stopped listening.
      reader.cancel().catch(() => {});
      if (error) reject(error);
      else resolve();
    }

    function onAbort(): void {
      finish(abortError(signal));
    }

    function armIdleTimer(): void {
      timers.clear(timer);
      timer = timers.set(() => finish(new WidgetError('interrupted', STALLED, { afterBytes: true })), idleTimeoutMs);
    }

    /** True when the read must stop: the decoder finished or failed. */
    function checkDecoder(): boolean {
      const error = decodeError?.();
      if (error) finish(afterBytes(error));
      else if (decoder.done) finish();
      return settled;
    }

    async function pump(): Promise<void> {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          // After our own abort, finish() already ran (the listener fires first); this is a real failure.
          return finish(new WidgetError('interrupted', INTERRUPTED, { afterBytes: true, cause: error }));
        }
        if (settled) return;
        if (chunk.done) {
          const rest = text.decode();
          if (rest) decoder.push(rest);
          if (checkDecoder()) return;
          decoder.end();
          if (!checkDecoder()) finish();
          return;
        }
        if (chunk.value.byteLength === 0) continue;
        armIdleTimer();
        if (!started) {
          started = true;
          onFirstByte?.();
        }
        const decoded = text.decode(chunk.value, { stream: true });
        if (decoded) decoder.push(decoded);
        if (checkDecoder()) return;
      }
    }

    signal.addEventListener('abort', onAbort, { once: true });
    armIdleTimer();
    // A throw from a consumer callback (onDelta, onFirstByte) ends the read with that error.
    pump().catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))));
  });
}
