/**
 * Public types of the reference token broker (embed.md section 6). Web APIs only: this file and
 * everything `server/index.ts` imports must run on Node, Workers, Deno, Bun and edge functions.
 */

/** The one thing `createBroker` returns: a standard fetch handler. */
export type BrokerHandler = (request: Request) => Promise<Response>;

/** An HS256 signing key. The first key of {@link BrokerConfig.signingKeys} signs; all keys verify. */
export interface SigningKey {
  /** Key id, written to the token header so the verifier can pick the key (rotation). */
  kid: string;
  /** At least 32 bytes of UTF-8 (RFC 7518 section 3.2: an HS256 key must be at least 256 bits). */
  secret: string;
}

/** Result of one {@link RateLimiter.hit}. */
export interface RateLimitResult {
  allowed: boolean;
  /** Whole seconds until the caller may try again; sent as `Retry-After` when `allowed` is false. */
  retryAfterSeconds: number;
}

/**
 * Counts one request against `key`. Implement it over KV, Redis or Durable Objects to share limits
 * between isolates; the default is in memory (one process, one isolate).
 */
export interface RateLimiter {
  hit(key: string): Promise<RateLimitResult> | RateLimitResult;
}

/** One structured log line. Never carries a token, the upstream key or a request body. */
export interface BrokerLogEvent {
  level: 'info' | 'warn' | 'error';
  /** Machine-readable name, e.g. `token_issued`, `token_denied`, `completion_started`, `stream_end`. */
  event: string;
  /** HTTP status sent (for `stream_end`, the status the stream was sent with; 0 for events about no response). */
  status: number;
  /** Route without the base path: `/token`, `/chat/completions`, `/health`, or the path asked for. */
  route: string;
  origin?: string;
  agent?: string;
  /** Error code sent to the client, when there was one. */
  code?: string;
  /** Milliseconds since the request arrived. */
  ms?: number;
  /** How a stream ended: `done`, `cancelled` (client went away) or `error`. */
  outcome?: 'done' | 'cancelled' | 'error';
}

/** Configuration of {@link BrokerHandler}. Checked once, at `createBroker` time. */
export interface BrokerConfig {
  /** Base of the real CodeGPT API, e.g. `https://api.codegpt.co/api/v1` (no trailing slash needed). */
  upstreamBase: string;
  /** The real CodeGPT API key. Sent upstream only; never in a response, header or log line. */
  upstreamKey: string;
  /** Sent upstream as `CodeGPT-Org-Id` when set. */
  orgId?: string;
  /** Exact agent ids a token may be issued for. No wildcards. */
  agentIds: string[];
  /** Exact origins (`https://example.com`, `http://localhost:5173`) that may call the broker. No wildcards. */
  allowedOrigins: string[];
  /** First signs, all verify: add a new key first, keep the old one until its tokens expired, then drop it. */
  signingKeys: SigningKey[];
  /**
   * Token lifetime in seconds, clamped to 30–3600 (embed.md section 5).
   * @defaultValue 600
   */
  ttlSeconds?: number;
  /**
   * Limits `POST /token` per client IP and origin.
   * @defaultValue in memory, 20 requests per 60 s per key
   */
  limiter?: RateLimiter;
  /**
   * Limits `POST /chat/completions` per client IP and origin; `false` turns it off. A token is
   * reusable until it expires, so limiting only `/token` would leave the paid route unlimited.
   * @defaultValue in memory, 30 requests per 60 s per key
   */
  completionLimiter?: RateLimiter | false;
  /**
   * Trust `CF-Connecting-IP`, then the first `X-Forwarded-For` entry, as the client IP. Only set it
   * behind a proxy that overwrites those headers (Cloudflare does; many proxies append to
   * `X-Forwarded-For`, where the first entry is whatever the client sent).
   * @defaultValue false
   */
  trustProxy?: boolean;
  /**
   * Returns the client IP for rate limiting; wins over `trustProxy`. On Node use `nodeClientIp`
   * from `server/node.ts` (the socket address). With neither, every client of an origin shares
   * one bucket (a warning is logged once).
   */
  clientIp?: (request: Request) => string | undefined | null;
  /**
   * Who the visitor is, written to the token's `sub`. Return `null`/`undefined` (or throw) to
   * answer 401 `unauthenticated`, e.g. when your session cookie is missing.
   * @defaultValue `'anonymous'`
   */
  subject?: (request: Request) => string | null | undefined | Promise<string | null | undefined>;
  /** Path the broker is mounted under, e.g. `/api/codegpt`. @defaultValue `''` */
  basePath?: string;
  /**
   * The URL the widget should POST completions to, i.e. this broker's own base (the widget appends
   * `/chat/completions`). Returned as `apiBase` by `/token`; omitted when not set.
   */
  publicApiBase?: string;
  /** Upstream fetch (tests pass a fake). @defaultValue `globalThis.fetch` */
  fetch?: typeof fetch;
  /**
   * Messages kept from the browser's history: older ones are dropped (trimmed, not rejected).
   * @defaultValue 50
   */
  maxMessages?: number;
  /** Longest single message in characters; a longer one is rejected with 400. @defaultValue 8000 */
  maxInputChars?: number;
  /** Total characters kept across the history; the oldest messages are dropped to fit. @defaultValue 32000 */
  maxTotalChars?: number;
  /** Request body caps in bytes; over the cap is 413 `bad_request`. @defaultValue `{ token: 4096, completion: 262144 }` */
  maxBodyBytes?: { token?: number; completion?: number };
  /** SSE `: ping` comment after this much upstream silence; 0 turns it off. @defaultValue 15000 */
  heartbeatMs?: number;
  /**
   * Give up on upstream when it has not answered with headers in time (504 `upstream_timeout`). A
   * `stream: false` call sends headers only with the whole answer, hence the generous default.
   * @defaultValue 60000
   */
  upstreamTimeoutMs?: number;
  /** Structured log sink. Exceptions it throws are swallowed. */
  log?: (event: BrokerLogEvent) => void;
  /** Clock in epoch milliseconds (tests). @defaultValue `Date.now` */
  now?: () => number;
}

/** Claims of a widget token (HS256 JWT, `kid` in the header). */
export interface WidgetTokenClaims {
  /** The only agent this token may talk to. */
  agent: string;
  /** The only origin this token may be used from. */
  origin: string;
  sub: string;
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
}

/** Error codes the broker sends in `{ error: { code, message } }`. */
export type BrokerErrorCode =
  | 'origin_not_allowed'
  | 'agent_not_allowed'
  | 'unauthenticated'
  | 'rate_limited'
  | 'unavailable'
  | 'bad_request'
  | 'invalid_token'
  | 'token_expired'
  | 'not_found'
  | 'upstream_auth'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'aborted'
  | 'internal_error';
