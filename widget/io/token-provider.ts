/**
 * Short-lived tokens from the site owner's token endpoint or a `getToken` callback
 * (embed.md section 5, client rules 1–7; reliability.md C1–C7). Tokens live in this closure only
 * (rule 3): never in storage, the DOM, events, logs or error messages.
 */
import { WidgetError } from '../core/errors';
import type { TokenResponse } from '../core/types';
import {
  RETRY_AFTER_CAP_MS,
  abortError,
  backoffMs,
  captureTimers,
  contentType,
  createSleep,
  discard,
  parseRetryAfter,
  readCapped,
  untilAborted,
} from './http';
import type { Sleep, Timers } from './http';

/** How to obtain tokens for one agent. */
export interface TokenProviderOptions {
  /** The agent the token is for; sent in the token request body. */
  agentId: string;
  /** Absolute URL of the token endpoint (resolved by the caller). Required unless `getToken` is given. */
  endpoint?: string;
  /**
   * Used instead of `endpoint`. Its result is validated like an endpoint answer; if it throws or
   * rejects, that is one failed try (no automatic retry: the host owns that request) and becomes a
   * `token` error, unless it threw a {@link WidgetError}, which is passed on as is.
   */
  getToken?: () => Promise<TokenResponse>;
  /** `credentials` mode of the token request. @defaultValue 'same-origin' */
  credentials?: RequestCredentials;
  /** The fetch to use (injected; the global is never read here). */
  fetch: typeof fetch;
  /** Monotonic clock in ms (rule 4). @defaultValue `performance.now`, captured at creation */
  now?: () => number;
  /** Abortable wait used between tries. @defaultValue a `setTimeout` captured at creation */
  sleep?: Sleep;
  /** Timers for the request timeout (and `sleep`). @defaultValue the globals, captured at creation */
  timers?: Timers;
  /** Source of backoff jitter in [0, 1). @defaultValue Math.random */
  random?: () => number;
  /** Limit for one token request, body included (reliability C6). @defaultValue 10_000 */
  timeoutMs?: number;
}

/** What a caller needs to make an API request. */
export interface TokenInfo {
  token: string;
  /** The validated `apiBase` of the token response, if it had one. */
  apiBase: string | undefined;
}

/** Hands out tokens for one `(endpoint, agentId)`. */
export interface TokenProvider {
  /**
   * A valid token, fetching or refreshing first when needed (rule 4: refresh when less than
   * `max(30 s, 20 % of expiresIn)` remains). Single flight: concurrent callers share one request
   * (rule 2). Rejects with a {@link WidgetError}, or an AbortError when `signal` aborts or the
   * provider is disposed. After a failure nothing happens on its own; the next call tries again.
   */
  get(signal?: AbortSignal): Promise<TokenInfo>;
  /** Forgets the cached token if it is still `token` (the API answered 401), so the next get() fetches anew. */
  invalidate(token: string): void;
  /**
   * Warms up (rule 1: first open, focus or hover). Errors are swallowed here and surface on get().
   * Does nothing after a failure until get() is called again, so hovering never re-asks an
   * endpoint that refused (reliability C3).
   */
  prefetch(): void;
  /** Drops everything; pending get() calls reject with an AbortError-named error. */
  dispose(): void;
}

const MAX_TRIES = 3; // rule 6
const DEFAULT_TIMEOUT_MS = 10_000; // reliability C6
const MAX_BODY_BYTES = 64 * 1024; // reliability C5
const MIN_TTL_S = 30;
const MAX_TTL_S = 3600;
const MIN_REFRESH_MARGIN_MS = 30_000; // rule 4
/** Printable ASCII without spaces: anything else cannot go into an `Authorization` header. */
const TOKEN_PATTERN = /^[\x21-\x7e]{1,8192}$/;
const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

const UNAVAILABLE = 'Chat is unavailable on this page.';
const BUSY = 'The chat service is busy. Please try again in a moment.';
const UNREACHABLE = 'Could not reach the chat service. Check your connection.';
const TIMED_OUT = 'The chat service did not answer in time.';
const TOKEN_FAILED = 'The chat could not be started.';

/** A validated token with its local refresh time. */
interface Cached {
  info: TokenInfo;
  /** Monotonic time after which get() fetches anew. */
  refreshAt: number;
}

/** One failed try and whether another may follow. */
interface Failure {
  error: WidgetError;
  retry: boolean;
  /** Server-requested wait (already within the cap); otherwise the backoff applies. */
  waitMs?: number;
}

function invalid(reason: string, status?: number): WidgetError {
  // The reason names the broken field, never its value (rule 7: the body is never shown).
  return new WidgetError('token', `${TOKEN_FAILED} ${reason}`, { status });
}

function isAllowedApiBase(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.includes(url.hostname));
}

/** Rule 7 / reliability C5. Throws a `token` WidgetError naming the first bad field. */
function validate(data: unknown): TokenResponse {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw invalid('The token response is not an object.');
  }
  const { token, expiresIn, apiBase } = data as Record<string, unknown>;
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
    throw invalid('The token response has no usable token.');
  }
  // Comparisons are false for NaN, so this also rejects NaN; Infinity fails the upper bound.
  if (typeof expiresIn !== 'number' || !(expiresIn >= MIN_TTL_S && expiresIn <= MAX_TTL_S)) {
    throw invalid('The token response needs expiresIn between 30 and 3600 seconds.');
  }
  if (apiBase != null && (typeof apiBase !== 'string' || !isAllowedApiBase(apiBase))) {
    throw invalid('The token response apiBase must be https: (or http://localhost).');
  }
  return { token, expiresIn, apiBase: apiBase ?? undefined };
}

/** Creates a provider with its own cache. Prefer {@link acquireTokenProvider} to share one per page. */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const { agentId, endpoint, getToken, fetch: fetchImpl } = options;
  if (!endpoint && !getToken) throw new TypeError('createTokenProvider needs an endpoint or getToken.');
  const credentials = options.credentials ?? 'same-origin';
  const now = options.now ?? performance.now.bind(performance);
  const timers = options.timers ?? captureTimers();
  const sleep = options.sleep ?? createSleep(timers);
  const random = options.random ?? Math.random;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  /** Aborted by dispose(): ends the request in flight and any backoff wait. */
  const life = new AbortController();

  let cached: Cached | undefined;
  let inflight: Flight | undefined;
  let failedSinceGet = false;
  /** Failures retrying cannot fix (401/403, a malformed answer, a CSP block): no automatic retry. */
  const finalErrors = new WeakSet<Error>();
  /**
   * A final failure of a prefetch that no caller has seen yet. The next get() is answered with it
   * instead of asking the endpoint again: opening the panel and sending must not make two requests
   * to an endpoint that refused (reliability C3: one request, then only a manual Retry).
   */
  let unseen: Error | undefined;

  /** Rule 4: local expiry on the monotonic clock, counted from when the request was sent. */
  function remember(response: TokenResponse, sentAt: number): Cached {
    const ttlMs = response.expiresIn * 1000;
    const margin = Math.max(MIN_REFRESH_MARGIN_MS, ttlMs * 0.2);
    return { info: { token: response.token, apiBase: response.apiBase }, refreshAt: sentAt + ttlMs - margin };
  }

  /** One POST to the endpoint, bounded by `timeoutMs` (headers and body). */
  async function tryEndpoint(url: string): Promise<Cached | Failure> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = timers.set(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onDispose = (): void => controller.abort();
    life.signal.addEventListener('abort', onDispose, { once: true });
    const sentAt = now();
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials,
        cache: 'no-store',
        body: JSON.stringify({ agentId, widgetVersion: __WIDGET_VERSION__ }),
        signal: controller.signal,
      });
      return await readResponse(response, controller.signal, sentAt);
    } catch (error) {
      if (life.signal.aborted) throw abortError(life.signal);
      if (timedOut) return { error: new WidgetError('network', TIMED_OUT), retry: true };
      // The injected fetch already classified it (a CSP block, reliability B4): final, no retry.
      if (error instanceof WidgetError) return { error, retry: false };
      // fetch rejects with a TypeError on network failure, CORS or a CSP block (reliability B4).
      return { error: new WidgetError('network', UNREACHABLE, { cause: error }), retry: true };
    } finally {
      timers.clear(timer);
      life.signal.removeEventListener('abort', onDispose);
    }
  }

  async function readResponse(response: Response, signal: AbortSignal, sentAt: number): Promise<Cached | Failure> {
    const { status } = response;
    if (status === 200) {
      // A login page served with 200 (text/html) is a token error, not a token (reliability C5).
      if (!contentType(response).includes('json')) {
        discard(response);
        return { error: invalid('The token response is not JSON.'), retry: false };
      }
      const text = await readCapped(response.body, MAX_BODY_BYTES, signal);
      if (text === undefined) return { error: invalid('The token response is too large.'), retry: false };
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        return { error: invalid('The token response is not valid JSON.'), retry: false };
      }
      try {
        return remember(validate(data), sentAt);
      } catch (error) {
        return { error: error as WidgetError, retry: false };
      }
    }
    discard(response); // error bodies are never read: nothing in them is shown (rule 7)
    if (status === 401 || status === 403) {
      return { error: new WidgetError('auth', UNAVAILABLE, { status }), retry: false };
    }
    if (status === 429 || status === 503) {
      const after = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      const retryAfterMs = after === undefined ? undefined : Math.min(after, RETRY_AFTER_CAP_MS);
      const error =
        status === 429
          ? new WidgetError('rate_limited', BUSY, { status, retryAfterMs })
          : new WidgetError('token', `${TOKEN_FAILED} The token service is unavailable.`, { status, retryAfterMs });
      // C4: a wait over the cap is not honoured; the normal backoff applies instead.
      return { error, retry: true, waitMs: after !== undefined && after <= RETRY_AFTER_CAP_MS ? after : undefined };
    }
    if (status >= 500) return { error: invalid('The token service failed.', status), retry: true };
    // 400 and anything unexpected: retrying the same request cannot help.
    return { error: invalid('The token request was refused.', status), retry: false };
  }

  /** Rule 6: up to 3 tries for network errors, timeouts, 5xx and 429/503, with jittered backoff. */
  async function fromEndpoint(url: string): Promise<Cached> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await tryEndpoint(url);
      if ('info' in outcome) return outcome;
      if (!outcome.retry) finalErrors.add(outcome.error);
      if (!outcome.retry || attempt >= MAX_TRIES) throw outcome.error;
      await sleep(outcome.waitMs ?? backoffMs(attempt, random), life.signal);
    }
  }

  /** One call of the host's `getToken`, bounded by `timeoutMs` too (a hung callback must not spin forever). */
  function fromCallback(callback: () => Promise<TokenResponse>): Promise<Cached> {
    const sentAt = now();
    return new Promise<Cached>((resolve, reject) => {
      const settle = (action: () => void): void => {
        timers.clear(timer);
        life.signal.removeEventListener('abort', onDispose);
        try {
          action();
        } catch (error) {
          reject(error); // validate() threw
        }
      };
      const onDispose = (): void => settle(() => reject(abortError(life.signal)));
      const timer = timers.set(() => settle(() => reject(invalid('getToken() did not answer in time.'))), timeoutMs);
      life.signal.addEventListener('abort', onDispose, { once: true });
      Promise.resolve()
        .then(callback)
        .then(
          (data) => settle(() => resolve(remember(validate(data), sentAt))),
          (error: unknown) =>
            settle(() =>
              reject(
                error instanceof WidgetError
                  ? error
                  : new WidgetError('token', `${TOKEN_FAILED} getToken() failed.`, { cause: error }),
              ),
            ),
        );
    });
  }

  async function load(): Promise<TokenInfo> {
    try {
      const fresh = await untilAborted(getToken ? fromCallback(getToken) : fromEndpoint(endpoint as string), life.signal);
      if (life.signal.aborted) throw abortError(life.signal);
      cached = fresh;
      return fresh.info;
    } catch (error) {
      failedSinceGet = true;
      throw error;
    }
  }

  /** Starts a request; `seen` is false for a prefetch until a get() shares it. */
  function start(seen: boolean): Flight {
    const flight: Flight = { promise: load(), seen };
    flight.promise = flight.promise.finally(() => {
      if (inflight === flight) inflight = undefined;
    });
    // Callers may all have gone (aborted) by the time it settles: never an unhandled rejection.
    flight.promise.catch((error: unknown) => {
      if (!flight.seen && error instanceof Error && finalErrors.has(error)) unseen = error;
    });
    inflight = flight;
    return flight;
  }

  const fresh = (): boolean => !!cached && now() < cached.refreshAt;

  function get(signal?: AbortSignal): Promise<TokenInfo> {
    if (life.signal.aborted) return Promise.reject(abortError(life.signal));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    failedSinceGet = false;
    const missed = unseen;
    unseen = undefined;
    if (missed) return Promise.reject(missed);
    if (cached && fresh()) return Promise.resolve(cached.info);
    const flight = inflight ?? start(true);
    flight.seen = true;
    // load() itself rejects at once on dispose(); only the caller's own signal is added here.
    return untilAborted(flight.promise, signal);
  }

  return {
    get,
    invalidate(token) {
      if (cached?.info.token === token) cached = undefined;
    },
    prefetch() {
      if (life.signal.aborted || failedSinceGet || inflight || fresh()) return;
      start(false);
    },
    dispose() {
      cached = undefined;
      inflight = undefined;
      unseen = undefined;
      life.abort();
    },
  };
}

/** The token request in flight. */
interface Flight {
  promise: Promise<TokenInfo>;
  /** A get() is waiting on it, so its failure reaches a caller. */
  seen: boolean;
}

interface SharedEntry {
  provider: TokenProvider;
  users: number;
}

/** Page-wide on purpose (rule 2, reliability C1): holds only providers, created on demand. */
const shared = new Map<string, SharedEntry>();

/**
 * One provider per `(endpoint, agentId)` across every widget instance on the page (rule 2;
 * reliability C1, E9). The first acquirer's options (fetch, credentials, clock) are the ones used.
 * Ref-counted: `release()` disposes the provider when its last user releases; calling it twice is
 * harmless. Instances with `getToken` always get a provider of their own.
 */
export function acquireTokenProvider(options: TokenProviderOptions): { provider: TokenProvider; release(): void } {
  if (options.getToken || !options.endpoint) {
    const provider = createTokenProvider(options);
    return { provider, release: () => provider.dispose() };
  }
  const key = JSON.stringify([options.endpoint, options.agentId]);
  let entry = shared.get(key);
  if (!entry) {
    entry = { provider: createTokenProvider(options), users: 0 };
    shared.set(key, entry);
  }
  const mine = entry;
  mine.users++;
  let released = false;
  return {
    provider: mine.provider,
    release() {
      if (released) return;
      released = true;
      if (--mine.users === 0) {
        if (shared.get(key) === mine) shared.delete(key);
        mine.provider.dispose();
      }
    },
  };
}
