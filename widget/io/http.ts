/**
 * Small HTTP helpers shared by the token provider and the chat transport: captured timers, an
 * abortable sleep, jittered backoff, `Retry-After` parsing and size-capped body reads. No fetch here.
 */
import { isAbortError } from '../core/errors';

/** Timer functions captured once, so a host that wraps `setTimeout` later cannot affect us (reliability E4). */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(id: unknown): void;
}

/** Waits `ms`, or rejects with an AbortError-named error as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Longest server-requested wait we honour (embed.md section 5 rule 6; reliability C4, D10). */
export const RETRY_AFTER_CAP_MS = 60_000;

/** Captures the current global timers (bound: browsers throw "Illegal invocation" on unbound calls). */
export function captureTimers(): Timers {
  const set = globalThis.setTimeout.bind(globalThis);
  const clear = globalThis.clearTimeout.bind(globalThis);
  return {
    set: (callback, ms) => set(callback, ms),
    clear: (id) => clear(id as Parameters<typeof clear>[0]),
  };
}

/** The error to reject with when `signal` aborted: its reason when that is already an AbortError. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  return isAbortError(reason) ? (reason as Error) : new DOMException('The operation was aborted.', 'AbortError');
}

/** A `setTimeout`-based {@link Sleep} that always clears its timer and listener. */
export function createSleep(timers: Timers): Sleep {
  return (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = (): void => {
        timers.clear(id);
        reject(abortError(signal));
      };
      const id = timers.set(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}

/**
 * Delay before try `attempt + 1`: about 500 ms after the first failure, 1 s after the second
 * (reliability C2), with ±25 % jitter so many widgets do not retry in lockstep.
 */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.round(500 * 2 ** (attempt - 1) * (0.75 + 0.5 * random()));
}

/**
 * `Retry-After` in ms: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3), uncapped;
 * `undefined` when absent or unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Only an HTTP-date (always in GMT) counts; Date.parse alone accepts far too much ("1.5", "12").
  if (!/gmt$/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The lower-cased `Content-Type`, '' when missing (codegpt-api.md section 9.9). */
export function contentType(response: Response): string {
  return (response.headers.get('content-type') ?? '').toLowerCase();
}

/** Drops a body we will not read, so the connection is released. Never throws. */
export function discard(response: Response): void {
  if (response.body && !response.bodyUsed) response.body.cancel().catch(() => {});
}

/**
 * Reads a whole body as UTF-8 text, but never more than `maxBytes`: past the cap the read is
 * cancelled and `undefined` returned (reliability C5: a 1 MB token answer is not buffered).
 * Rejects with an AbortError when `signal` aborts, or with the read error.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (!body) return '';
  if (signal?.aborted) throw abortError(signal);
  const reader = body.getReader();
  // Cancelling settles a pending read at once, so an abort is noticed even mid-read.
  const onAbort = (): void => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw signal?.aborted ? abortError(signal) : error;
      }
      if (signal?.aborted) throw abortError(signal);
      const { done, value } = chunk;
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        return undefined;
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Settles like `promise`, or rejects with an AbortError as soon as `signal` aborts (the promise
 * itself keeps running: a shared token request must not die with one caller).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
