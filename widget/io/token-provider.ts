/**
 * Short-lived tokens from the site owner's token endpoint or a `getToken` callback
 * (embed.md section 5, client rules 1–7; reliability.md C1–C7). Tokens live in this closure only
 * (rule 3): never in storage, the DOM, events, logs or error messages.
 */
import { WidgetError } from '../core/errors';
import { isAllowedApiUrl } from '../core/options';
import { share } from '../core/share';
import type { Shared } from '../core/share';
import type { TokenResponse } from '../core/types';
import {
  BUSY,
  UNAVAILABLE,
  UNREACHABLE,
  abortError,
  contentType,
  deadline,
  discard,
  httpError,
  ignore,
  readCapped,
  retryAfter,
  throwIfAborted,
  untilAborted,
  waits,
} from './http';
import type { WaitOptions } from './http';

/** How to obtain tokens for one agent. */
export interface TokenProviderOptions extends WaitOptions {
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
  /**
   * The cached token while it is fresh, else undefined: what get() would resolve with at once, but
   * now, so a question's request starts before the view renders it.
   */
  peek(): TokenInfo | undefined;
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
const MAX_BODY_BYTES = 64 * 1024; // reliability C5
/** Printable ASCII without spaces: anything else cannot go into an `Authorization` header. */
const TOKEN_PATTERN = /^[\x21-\x7e]{1,8192}$/;

/** Rule 7: an absolute `https:` URL, or `http:` on a loopback host; never with credentials. */
function isAllowedApiBase(value: unknown): boolean {
  try {
    const url = new URL(value as string);
    return typeof value === 'string' && !url.username && !url.password && isAllowedApiUrl(url);
  } catch {
    return false;
  }
}

/**
 * Rule 7 / reliability C5: the token with its local refresh time, or a `token` error naming the first
 * bad field. (Every `token` error here names what broke, never a value: the body is never shown.)
 */
function validate(data: unknown, sentAt: number): [TokenInfo, number] {
  const { token, expiresIn, apiBase } = Object(data) as Record<string, unknown>;
  // Comparisons are false for NaN, so this also rejects NaN; Infinity fails the upper bound.
  const bad =
    typeof token !== 'string' || !TOKEN_PATTERN.test(token)
      ? 'token'
      : !(typeof expiresIn === 'number' && expiresIn >= 30 && expiresIn <= 3600)
        ? 'expiresIn'
        : apiBase != null && !isAllowedApiBase(apiBase)
          ? 'apiBase'
          : '';
  if (bad) throw httpError('token', `Token response has an invalid ${bad}.`);
  // Rule 4: local expiry on the monotonic clock, counted from when the request was sent.
  const ttlMs = (expiresIn as number) * 1000;
  return [{ token: token as string, apiBase: (apiBase as string | null) ?? undefined }, sentAt + ttlMs - Math.max(30_000, ttlMs / 5)];
}

/** Creates a provider with its own cache. Prefer {@link acquireTokenProvider} to share one per page. */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const { agentId, endpoint, getToken, fetch: fetchImpl, credentials = 'same-origin', timeoutMs = 10_000 } = options;
  if (!endpoint && !getToken) throw new TypeError('No endpoint or getToken.');
  const now = options.now ?? performance.now.bind(performance);
  const [timers, pause] = waits(options);
  /** Aborted by dispose(): ends the request in flight and any backoff wait. */
  const life = new AbortController();
  const dead = life.signal;

  let cached: TokenInfo | undefined;
  let refreshAt = 0;
  /** The token request in flight. */
  let inflight: Promise<TokenInfo> | undefined;
  /** A get() waits on `inflight`, so its failure reaches a caller (false while it is only a prefetch). */
  let seen = false;
  let failedSinceGet = false;
  /** The last endpoint failure no retry can fix (401/403, a malformed answer, a CSP block). */
  let refusal: unknown;
  /**
   * A final failure of a prefetch that no caller has seen yet. The next get() is answered with it
   * instead of asking the endpoint again: opening the panel and sending must not make two requests
   * to an endpoint that refused (reliability C3: one request, then only a manual Retry).
   */
  let unseen: unknown;

  /**
   * Rule 6: up to 3 tries for network errors, timeouts, 5xx and 429/503, with jittered backoff or
   * the server's `Retry-After`. Each try, body included, is bounded by `timeoutMs` (reliability C6);
   * so is a `getToken` call (a hung callback must not spin forever), which is never retried.
   */
  async function load(): Promise<TokenInfo> {
    for (let attempt = 1; ; attempt++) {
      const [signal, off] = deadline(timers, timeoutMs, dead);
      const sentAt = now();
      let error: WidgetError | undefined;
      let wait: number | undefined;
      try {
        let data: unknown;
        if (getToken) data = await untilAborted(Promise.resolve().then(getToken), signal);
        else {
          const response = await fetchImpl(endpoint as string, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            credentials,
            cache: 'no-store',
            body: JSON.stringify({ agentId, widgetVersion: __WIDGET_VERSION__ }),
            signal,
          });
          const { status } = response;
          // A login page served with 200 (text/html) is a token error, not a token (reliability C5).
          const text = status === 200 && contentType(response).includes('json') ? await readCapped(response.body, MAX_BODY_BYTES, signal) : '';
          discard(response); // a body not read is never read: nothing in it is shown (rule 7)
          if (status === 200) {
            if (text === undefined) throw httpError('token', 'Token response is too large.');
            try {
              data = JSON.parse(text);
            } catch {
              throw httpError('token', 'Token response is not JSON.');
            }
          } else if (status === 401 || status === 403) {
            throw httpError('auth', UNAVAILABLE, status);
          } else if (status < 500 && status !== 429) {
            // 400 and anything unexpected: retrying the same request cannot help.
            throw httpError('token', 'Token request refused.', status);
          } else {
            const [after, retryAfterMs] = status === 429 || status === 503 ? retryAfter(response) : [];
            wait = after;
            error =
              status === 429 ? httpError('rate_limited', BUSY, status, retryAfterMs) : httpError('token', 'Token service failed.', status, retryAfterMs);
          }
        }
        if (!error) {
          [cached, refreshAt] = validate(data, sentAt);
          return cached;
        }
      } catch (caught) {
        throwIfAborted(dead);
        const timedOut = signal.aborted;
        // Ours (above), the host's (getToken) or the injected fetch's (a CSP block, reliability B4): no retry.
        if (caught instanceof WidgetError && !timedOut) {
          if (!getToken) refusal = caught;
          throw caught;
        }
        // A timeout, a failed read, or fetch's TypeError (offline, DNS, CORS; reliability B4): transient.
        // A failed getToken is a `token` error and never retried: the host owns that request.
        error = new WidgetError(getToken ? 'token' : 'network', timedOut ? 'Token request timed out.' : getToken ? 'getToken() failed.' : UNREACHABLE, {
          cause: caught,
        });
        if (getToken) throw error;
      } finally {
        off();
      }
      if (attempt >= MAX_TRIES) throw error;
      await pause(attempt, dead, wait);
    }
  }

  /** Starts a request, as a prefetch until a get() shares it. */
  function start(): Promise<TokenInfo> {
    seen = false;
    // After dispose() nothing is read any more, so no check that this is still the current flight.
    const flight = (inflight = load().then(
      (info) => {
        inflight = undefined;
        return info;
      },
      (error: unknown) => {
        inflight = undefined;
        failedSinceGet = true;
        if (!seen && error === refusal) unseen = error;
        throw error;
      },
    ));
    // Callers may all have gone (aborted) by the time it settles: never an unhandled rejection.
    flight.catch(ignore);
    return flight;
  }

  const fresh = (): boolean => !!cached && now() < refreshAt;

  return {
    async get(signal) {
      throwIfAborted(dead);
      throwIfAborted(signal);
      failedSinceGet = false;
      const missed = unseen;
      unseen = undefined;
      if (missed) throw missed;
      if (fresh()) return cached as TokenInfo;
      const flight = inflight ?? start();
      seen = true;
      // load() itself rejects at once on dispose(); only the caller's own signal is added here.
      return untilAborted(flight, signal);
    },
    peek: () => (dead.aborted || unseen || !fresh() ? undefined : cached),
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
    prefetch() {
      if (!(dead.aborted || failedSinceGet || inflight || fresh())) start();
    },
    dispose() {
      cached = inflight = unseen = undefined;
      life.abort();
    },
  };
}

/** Page-wide on purpose (rule 2, reliability C1): holds only providers, created on demand. */
const shared = new Map<string, Shared<TokenProvider>>();

/**
 * One provider per `(endpoint, agentId)` across every widget instance on the page (rule 2;
 * reliability C1, E9). The first acquirer's options (fetch, credentials, clock) are the ones used.
 * Ref-counted: `release()` disposes the provider when its last user releases; calling it twice is
 * harmless. Instances with `getToken` always get a provider of their own.
 */
export function acquireTokenProvider(options: TokenProviderOptions): { provider: TokenProvider; release(): void } {
  if (options.getToken || !options.endpoint) {
    const provider = createTokenProvider(options);
    return { provider, release: provider.dispose };
  }
  const [provider, release] = share(
    shared,
    JSON.stringify([options.endpoint, options.agentId]),
    () => createTokenProvider(options),
    (p) => p.dispose(),
  );
  return { provider, release };
}
