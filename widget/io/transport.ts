/**
 * The one place the widget calls the chat API (style rule 9): `POST {apiBase}/chat/completions`
 * (codegpt-api.md section 1), streaming the answer as deltas and mapping every HTTP and network
 * failure to a {@link WidgetError}. Retries happen only before the first answer byte (embed.md
 * section 5 rule 5; reliability D10).
 */
import { WidgetError } from '../core/errors';
import { readErrorMessage, readPayload } from '../core/protocol';
import { createStreamDecoder } from '../core/stream-decoder';
import type { StreamDecoder } from '../core/stream-decoder';
import type { StreamFormat, WireMessage } from '../core/types';
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
} from './http';
import type { Sleep, Timers } from './http';
import { readBody } from './read-stream';
import type { TokenProvider } from './token-provider';

/** One question to the API. */
export interface ChatRequest {
  /** The complete history, oldest first (the API is stateless: codegpt-api.md section 9.10). */
  messages: WireMessage[];
  /** Aborting it (Stop, destroy) ends the request; send() then rejects with an AbortError. */
  signal: AbortSignal;
  /** Answer text, in order. Never called with ''. */
  onDelta(text: string): void;
  /** The first byte of the answer body arrived: no automatic retry can happen any more. */
  onFirstByte?(): void;
}

/** How the model talks to the API; tests pass a fake (style rule 9). */
export interface ChatTransport {
  /**
   * Resolves when the answer has ended. Rejects with a {@link WidgetError}, or with an
   * AbortError when `request.signal` aborted.
   */
  send(request: ChatRequest): Promise<void>;
}

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  agentId: string;
  /**
   * Base URL of a CodeGPT-compatible API (already validated by the caller). Wins over the token
   * response's `apiBase`. @defaultValue the token's `apiBase`, else 'https://api.codegpt.co/api/v1'
   */
  apiBase?: string;
  /** Sent as `CodeGPT-Org-Id` only when set (codegpt-api.md section 9.10). */
  orgId?: string;
  /** The `format` sent; it, not `Content-Type`, decides how the body is decoded (section 9.1). */
  format: StreamFormat;
  tokens: TokenProvider;
  /** The fetch to use (injected; the global is never read here). */
  fetch: typeof fetch;
  /** Longest silence inside an answer before it counts as interrupted (reliability D2). @defaultValue 45_000 */
  idleTimeoutMs?: number;
  /** Abortable wait used between tries. @defaultValue a `setTimeout` captured at creation */
  sleep?: Sleep;
  /** Timers for the idle and error-body timeouts (and `sleep`). @defaultValue the globals, captured at creation */
  timers?: Timers;
  /** Source of backoff jitter in [0, 1). @defaultValue Math.random */
  random?: () => number;
}

/** Where completions go when neither the options nor the token name an API (codegpt-api.md section 0). */
export const DEFAULT_API_BASE = 'https://api.codegpt.co/api/v1';
const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
/** Error bodies are read only for a short detail (section 9.7); never more than this. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const ERROR_BODY_TIMEOUT_MS = 10_000;
/** A non-stream JSON answer (section 9.6) is buffered whole; past this it is refused. */
const MAX_JSON_BODY_CHARS = 1_048_576;
const MAX_DETAIL_LENGTH = 120;
const MAX_BUSY_RETRIES = 2; // reliability D10

const AUTH = 'Chat is unavailable on this page.';
const NOT_FOUND = 'This assistant could not be found.';
const BUSY = 'The assistant is busy. Please try again in a moment.';
const SERVER = 'The chat service had a problem. Please try again.';
const REFUSED = 'The question was not accepted.';
const REPORTED = 'The chat service reported an error.';
const UNREACHABLE = 'Could not reach the chat service. Check your connection.';
const UNEXPECTED = 'The chat service sent an unexpected response.';

/**
 * A server-provided detail, only when it is safe and short enough to show next to our own
 * message: plain (no `<`, so never HTML), at most 120 characters, and never containing the token
 * (a server might echo the Authorization header).
 */
function safeDetail(message: string | undefined, token: string): string | undefined {
  if (message === undefined) return undefined;
  if (message.length > MAX_DETAIL_LENGTH || message.includes('<') || message.includes(token)) return undefined;
  // Control characters (other than the spaces readErrorMessage already collapsed) are not plain text.
  return /[\u0000-\u001f\u007f]/.test(message) ? undefined : message;
}

function withDetail(base: string, detail: string | undefined): string {
  return detail ? `${base} (${detail})` : base;
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * Stand-in decoder that only collects text, for bodies that must be read whole (a JSON answer,
 * reliability D8). Past `limit` characters it reports an error, so memory stays bounded.
 */
function createCollector(limit: number): StreamDecoder & { text(): string; error(): WidgetError | undefined } {
  const parts: string[] = [];
  let size = 0;
  let failure: WidgetError | undefined;
  return {
    push(chunk) {
      if (failure) return;
      size += chunk.length;
      if (size > limit) failure = new WidgetError('bad_response', UNEXPECTED, { afterBytes: true });
      else parts.push(chunk);
    },
    end() {},
    done: false,
    skipped: 0,
    text: () => parts.join(''),
    error: () => failure,
  };
}

/** Creates the HTTP transport. Timers are captured now, so later host wrappers do not matter (reliability E4). */
export function createHttpTransport(options: HttpTransportOptions): ChatTransport {
  const { agentId, orgId, format, tokens, fetch: fetchImpl } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const timers: Timers = options.timers ?? captureTimers();
  const sleep = options.sleep ?? createSleep(timers);
  const random = options.random ?? Math.random;

  function post(token: string, apiBase: string | undefined, request: ChatRequest): Promise<Response> {
    const base = (options.apiBase ?? apiBase ?? DEFAULT_API_BASE).replace(/\/+$/, '');
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'text/event-stream, application/json',
    };
    if (orgId) headers['CodeGPT-Org-Id'] = orgId;
    return fetchImpl(`${base}/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ agentId, messages: request.messages, stream: true, format }),
      signal: request.signal,
    });
  }

  /** A short detail from an error body (section 9.7), read with a size and time cap; never throws. */
  async function errorDetail(response: Response, token: string, signal: AbortSignal): Promise<string | undefined> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = timers.set(onAbort, ERROR_BODY_TIMEOUT_MS);
    try {
      // HTML (a proxy's error page) is never read: nothing in it could be shown.
      if (contentType(response).includes('html')) return undefined;
      const text = await readCapped(response.body, MAX_ERROR_BODY_BYTES, controller.signal);
      const parsed = text === undefined ? undefined : parseJson(text);
      return safeDetail(parsed ? readErrorMessage(parsed.value) : undefined, token);
    } catch {
      return undefined;
    } finally {
      timers.clear(timer);
      signal.removeEventListener('abort', onAbort);
      discard(response);
    }
  }

  /** Streams a 2xx body into deltas. From here on nothing is retried (rule 5). */
  async function receive(response: Response, request: ChatRequest, token: string): Promise<void> {
    const { signal, onDelta, onFirstByte } = request;
    const type = contentType(response);
    // Reliability D8: a proxy's HTML page is never fed to the decoder (in either format: the API
    // never serves an answer as HTML, captive portals and login proxies do).
    if (!response.body || type.includes('html')) {
      discard(response);
      throw new WidgetError('bad_response', UNEXPECTED, { status: response.status });
    }
    if (type.includes('json') && !type.includes('event-stream')) {
      return receiveJson(response.body, request, token);
    }
    let failure: WidgetError | undefined;
    const decoder = createStreamDecoder(format, {
      onDelta,
      onError: (error) => {
        failure ??= error;
      },
    });
    await readBody(response.body, decoder, { signal, idleTimeoutMs, onFirstByte, decodeError: () => failure, timers });
  }

  /**
   * A JSON body where a stream was asked for (reliability D8, codegpt-api.md sections 3 and 9.6):
   * a non-stream completion or a JSON string is delivered as one delta; `{detail|error}` becomes a
   * `server` error; anything that is not one JSON value (bare JSON objects streamed under a JSON
   * content type) goes through the decoder as if it had been streamed.
   */
  async function receiveJson(body: ReadableStream<Uint8Array>, request: ChatRequest, token: string): Promise<void> {
    const { signal, onDelta, onFirstByte } = request;
    const collector = createCollector(MAX_JSON_BODY_CHARS);
    await readBody(body, collector, { signal, idleTimeoutMs, onFirstByte, decodeError: collector.error, timers });
    const text = collector.text();
    if (text.trim() === '') throw new WidgetError('bad_response', UNEXPECTED, { status: 200, afterBytes: true });
    const parsed = parseJson(text);
    if (!parsed) {
      let failure: WidgetError | undefined;
      const decoder = createStreamDecoder(format, {
        onDelta,
        onError: (error) => {
          failure ??= error;
        },
      });
      decoder.push(text);
      decoder.end();
      if (failure) throw new WidgetError(failure.code, failure.message, { afterBytes: true, cause: failure });
      return;
    }
    if (typeof parsed.value === 'string') {
      if (parsed.value !== '') onDelta(parsed.value);
      return;
    }
    const payload = readPayload(parsed.value);
    if (payload.type === 'delta') return onDelta(payload.text);
    const detail = payload.type === 'error' ? safeDetail(payload.message, token) : undefined;
    if (payload.type === 'error') throw new WidgetError('server', withDetail(REPORTED, detail), { status: 200, afterBytes: true });
    throw new WidgetError('bad_response', UNEXPECTED, { status: 200, afterBytes: true });
  }

  async function send(request: ChatRequest): Promise<void> {
    const { signal } = request;
    let refreshed = false; // 401: one new token, one retry (rule 5, reliability C8)
    let busyRetries = 0; // 429/503
    let serverRetried = false; // other 5xx (codegpt-api.md section 9.7)
    let networkRetried = false;

    for (;;) {
      if (signal.aborted) throw abortError(signal);
      const { token, apiBase } = await tokens.get(signal);
      let response: Response;
      try {
        response = await post(token, apiBase, request);
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        // The injected fetch already classified it (a CSP block, reliability B4): final, no retry.
        if (error instanceof WidgetError) throw error;
        // fetch rejected before any byte (TypeError: offline, DNS, CORS, CSP): safe to try once more.
        if (!networkRetried) {
          networkRetried = true;
          await sleep(backoffMs(1, random), signal);
          continue;
        }
        throw new WidgetError('network', UNREACHABLE, { cause: error });
      }

      if (response.ok) return receive(response, request, token);

      const { status } = response;
      if (status === 401 && !refreshed) {
        discard(response);
        refreshed = true;
        tokens.invalidate(token);
        continue;
      }
      if (status === 401 || status === 403) {
        discard(response);
        throw new WidgetError('auth', AUTH, { status });
      }
      if (status === 404) {
        discard(response);
        throw new WidgetError('config', NOT_FOUND, { status });
      }
      if (status === 429 || status === 503) {
        discard(response);
        const after = parseRetryAfter(response.headers.get('retry-after'), Date.now());
        if (busyRetries < MAX_BUSY_RETRIES) {
          busyRetries++;
          // Over the cap, the server's wait is not honoured; the normal backoff applies (reliability C4).
          const wait = after !== undefined && after <= RETRY_AFTER_CAP_MS ? after : backoffMs(busyRetries, random);
          await sleep(wait, signal);
          continue;
        }
        const retryAfterMs = after === undefined ? undefined : Math.min(after, RETRY_AFTER_CAP_MS);
        throw new WidgetError('rate_limited', BUSY, { status, retryAfterMs });
      }
      if (status >= 500) {
        discard(response);
        if (!serverRetried) {
          serverRetried = true;
          await sleep(backoffMs(1, random), signal);
          continue;
        }
        throw new WidgetError('server', SERVER, { status });
      }
      if (status >= 400) {
        // 400, 413, 422…: the API refused what was sent. `server`, not `config`: the cause may be
        // the conversation itself (a broker's size caps), which a manual Retry after editing fixes;
        // `config` is kept for what only the site owner can fix (404 unknown agent).
        const detail = await errorDetail(response, token, signal);
        if (signal.aborted) throw abortError(signal);
        throw new WidgetError('server', withDetail(REFUSED, detail), { status });
      }
      discard(response);
      throw new WidgetError('bad_response', UNEXPECTED, { status });
    }
  }

  return { send };
}
