/**
 * Small HTTP helpers shared by the token provider and the chat transport: captured timers, abort
 * wiring, an abortable sleep, jittered backoff, `Retry-After` and size-capped body reads. No fetch here.
 */
import { isAbortError, WidgetError } from '../core/errors';
import type { ErrorCode } from '../core/types';

/** Timer functions captured once, so a host that wraps `setTimeout` later cannot affect us (reliability E4). */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(id: unknown): void;
}

/** Waits `ms`, or rejects with an AbortError-named error as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What the token provider and the transport take for waiting between tries. */
export interface WaitOptions {
  /** Abortable wait used between tries. @defaultValue a `setTimeout` captured at creation */
  sleep?: Sleep;
  /** Timers for timeouts (and `sleep`). @defaultValue the globals, captured at creation */
  timers?: Timers;
  /** Source of backoff jitter in [0, 1). @defaultValue Math.random */
  random?: () => number;
}

/** Waits before try `attempt + 1`: `ms` when the server named a wait, else the jittered backoff. */
export type Pause = (attempt: number, signal: AbortSignal, ms?: number) => Promise<void>;

/** Longest server-requested wait we honour (embed.md section 5 rule 6; reliability C4, D10). */
const RETRY_AFTER_CAP_MS = 60_000;

/** Catch-all for promises whose failure means nothing to us (a cancel of a body we are done with). */
export const ignore = (): void => {};

/** Messages both the token provider and the transport use; the view shows localised text per `code`. */
export const UNAVAILABLE = 'Chat is unavailable on this page.';
export const BUSY = 'Too many requests.';
export const UNREACHABLE = 'Could not connect.';

/** An error about a response: its HTTP status, and the server's capped `Retry-After` when it sent one. */
export function httpError(code: ErrorCode, message: string, status?: number, retryAfterMs?: number): WidgetError {
  return new WidgetError(code, message, { status, retryAfterMs });
}

/** Captures the current global timers (bound: browsers throw "Illegal invocation" on unbound calls). */
export function captureTimers(): Timers {
  return { set: setTimeout.bind(globalThis), clear: clearTimeout.bind(globalThis) } as Timers;
}

/** The error to reject with when `signal` aborted: its reason when that is already an AbortError. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  return isAbortError(reason) ? (reason as Error) : new DOMException('Aborted.', 'AbortError');
}

/** Throws {@link abortError} when `signal` has aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Calls `fn` when `signal` aborts (at once if it already has); returns the function that stops listening. */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (signal?.aborted) fn();
  else signal?.addEventListener('abort', fn);
  return () => signal?.removeEventListener('abort', fn);
}

/**
 * A signal that aborts after `ms` or when `parent` does, and the function that clears the timer
 * and the listener (call it in every outcome).
 */
export function deadline(timers: Timers, ms: number, parent: AbortSignal): [AbortSignal, () => void] {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const id = timers.set(abort, ms);
  const off = onAbort(parent, abort);
  return [
    controller.signal,
    () => {
      timers.clear(id);
      off();
    },
  ];
}

/** A `setTimeout`-based {@link Sleep} that always clears its timer and listener. */
export function createSleep(timers: Timers): Sleep {
  return (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      const id = timers.set(() => {
        off();
        resolve();
      }, ms);
      const off = onAbort(signal, () => {
        timers.clear(id);
        reject(abortError(signal));
      });
    });
}

/**
 * Delay before try `attempt + 1`: about 500 ms after the first failure, 1 s after the second
 * (reliability C2), with ±25 % jitter so many widgets do not retry in lockstep.
 */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.round(500 * 2 ** (attempt - 1) * (0.75 + 0.5 * random()));
}

/** The timers of `options` (else the globals, captured now: reliability E4) and the {@link Pause} between tries. */
export function waits(options: WaitOptions): [Timers, Pause] {
  const timers = options.timers ?? captureTimers();
  const sleep = options.sleep ?? createSleep(timers);
  const random = options.random ?? Math.random;
  return [timers, (attempt, signal, ms) => sleep(ms ?? backoffMs(attempt, random), signal)];
}

/**
 * `Retry-After` in ms: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3), uncapped;
 * `undefined` when absent or unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  const text = value?.trim() ?? '';
  // Only an HTTP-date (always in GMT) counts; Date.parse alone accepts far too much ("1.5", "12").
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : /gmt$/i.test(text) ? Date.parse(text) - nowMs : NaN;
  return isNaN(ms) ? undefined : Math.max(0, Math.round(ms));
}

/**
 * The `Retry-After` of a 429/503 as `[wait, retryAfterMs]`: the wait to honour (none when over the
 * 60 s cap: the normal backoff applies, reliability C4) and the capped value errors carry.
 */
export function retryAfter(response: Response): [wait?: number, retryAfterMs?: number] {
  const after = parseRetryAfter(response.headers.get('retry-after'), Date.now());
  return after === undefined ? [] : [after > RETRY_AFTER_CAP_MS ? undefined : after, Math.min(after, RETRY_AFTER_CAP_MS)];
}

/** The lower-cased `Content-Type`, '' when missing (codegpt-api.md section 9.9). */
export function contentType(response: Response): string {
  return (response.headers.get('content-type') ?? '').toLowerCase();
}

/** Drops a body we will not read (or have read), so the connection is released. Never throws. */
export function discard(response: Response): void {
  // A locked or finished body rejects the cancel: nothing to release then.
  response.body?.cancel().catch(ignore);
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
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await untilAborted(reader.read(), signal);
      if (done) return text + decoder.decode();
      if ((size += value.byteLength) > maxBytes) return undefined;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    // Past the cap, on abort or a read error: stop the body (a no-op after EOF).
    reader.cancel().catch(ignore);
  }
}

/**
 * Settles like `promise`, or rejects with an AbortError as soon as `signal` aborts (the promise
 * itself keeps running: a shared token request must not die with one caller).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const off = onAbort(signal, () => reject(abortError(signal)));
    void promise.then(resolve, reject).finally(off);
  });
}
