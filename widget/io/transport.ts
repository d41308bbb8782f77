/**
 * The one place the widget calls the chat API (style rule 9): `POST {apiBase}/chat/completions`
 * (codegpt-api.md section 1), streaming the answer as deltas and mapping every HTTP and network
 * failure to a {@link WidgetError}. Retries happen only before the first answer byte (embed.md
 * section 5 rule 5; reliability D10).
 */
import { WidgetError } from '../core/errors';
import { GENERIC_SERVER_ERROR, readErrorMessage, readPayload } from '../core/protocol';
import { createStreamDecoder } from '../core/stream-decoder';
import type { StreamDecoder } from '../core/stream-decoder';
import type { StreamFormat, WireMessage } from '../core/types';
import { BUSY, UNAVAILABLE, UNREACHABLE, contentType, deadline, discard, httpError, readCapped, retryAfter, throwIfAborted, waits } from './http';
import type { WaitOptions } from './http';
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

/** Options of {@link createHttpTransport}; `timers` also serve the idle and error-body timeouts. */
export interface HttpTransportOptions extends WaitOptions {
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
}

/** Where completions go when neither the options nor the token name an API (codegpt-api.md section 0). */
export const DEFAULT_API_BASE = 'https://api.codegpt.co/api/v1';
/** A non-stream JSON answer (section 9.6) is buffered whole; past this it is refused. */
const MAX_JSON_BODY_CHARS = 1_048_576;
const REFUSED = 'Chat request refused.';
const UNEXPECTED = 'Unexpected response.';

/**
 * `base`, followed by a server-provided detail only when it is safe and short enough to show:
 * at most 120 characters of plain text (no `<`, so never HTML; no control characters other than
 * the spaces readErrorMessage already collapsed), never containing the token (a server might echo
 * the Authorization header).
 */
function withDetail(base: string, detail: string | undefined, token: string): string {
  return detail && detail.length <= 120 && !/[<\0-\x1f\x7f]/.test(detail) && !detail.includes(token) ? `${base} (${detail})` : base;
}

/** Creates the HTTP transport. Timers are captured now, so later host wrappers do not matter (reliability E4). */
export function createHttpTransport(options: HttpTransportOptions): ChatTransport {
  const { agentId, orgId, format, tokens, fetch: fetchImpl, idleTimeoutMs = 45_000 } = options;
  const [timers, pause] = waits(options);

  /** Streams a 2xx body into deltas. From here on nothing is retried (rule 5). */
  async function receive(response: Response, request: ChatRequest, token: string): Promise<void> {
    const { body, status } = response;
    const { signal, onDelta, onFirstByte } = request;
    const type = contentType(response);
    const bad = (afterBytes?: boolean): WidgetError => new WidgetError('bad_response', UNEXPECTED, { status, afterBytes });
    // Reliability D8: a proxy's HTML page is never fed to the decoder (in either format: the API
    // never serves an answer as HTML, captive portals and login proxies do).
    if (!body || type.includes('html')) {
      discard(response);
      throw bad();
    }
    let failure: WidgetError | undefined;
    const decoder = createStreamDecoder(format, { onDelta, onError: (error) => (failure ??= error) });
    let text = '';
    /**
     * A JSON body where a stream was asked for (reliability D8, codegpt-api.md sections 3 and 9.6)
     * is read whole (past 1 MiB characters it is refused, so memory stays bounded), then: a JSON
     * string or a non-stream completion is one delta; `{detail|error}` is a `server` error; anything
     * that is not one JSON value (bare JSON objects streamed under a JSON content type) goes through
     * the decoder as if it had been streamed.
     */
    const whole: StreamDecoder = {
      push: (chunk) => void (text += chunk),
      end() {
        if (!text.trim()) throw bad(true);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          decoder.push(text);
          return decoder.end();
        }
        if (typeof value === 'string') return value ? onDelta(value) : undefined;
        const payload = readPayload(value);
        if (payload.type === 'delta') return onDelta(payload.text);
        throw payload.type === 'error'
          ? new WidgetError('server', withDetail(GENERIC_SERVER_ERROR, payload.message, token), { status, afterBytes: true })
          : bad(true);
      },
      done: false,
      skipped: 0,
    };
    return readBody(body, type.includes('json') && !type.includes('event-stream') ? whole : decoder, {
      signal,
      idleTimeoutMs,
      onFirstByte,
      decodeError: () => failure ?? (text.length > MAX_JSON_BODY_CHARS ? bad(true) : undefined),
      timers,
    });
  }

  async function send(request: ChatRequest): Promise<void> {
    const { signal, messages } = request;
    let refreshed = false; // 401: one new token, one retry (rule 5, reliability C8)
    let busyRetries = 0; // 429/503: at most 2 (reliability D10)
    let serverRetried = false; // other 5xx: once (codegpt-api.md section 9.7)
    let networkRetried = false;

    for (;;) {
      throwIfAborted(signal);
      // A fresh token is used at once: the request leaves before the question is rendered.
      const { token, apiBase } = tokens.peek() ?? (await tokens.get(signal));
      let response: Response;
      try {
        response = await fetchImpl(`${(options.apiBase ?? apiBase ?? DEFAULT_API_BASE).replace(/\/+$/, '')}/chat/completions`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
            Accept: 'text/event-stream, application/json',
            ...(orgId ? { 'CodeGPT-Org-Id': orgId } : {}),
          },
          body: JSON.stringify({ agentId, messages, stream: true, format }),
          signal,
        });
      } catch (error) {
        throwIfAborted(signal);
        // The injected fetch already classified it (a CSP block, reliability B4): final, no retry.
        if (error instanceof WidgetError) throw error;
        // fetch rejected before any byte (TypeError: offline, DNS, CORS, CSP): safe to try once more.
        if (networkRetried) throw new WidgetError('network', UNREACHABLE, { cause: error });
        networkRetried = true;
        await pause(1, signal);
        continue;
      }

      const { status } = response;
      if (response.ok) return receive(response, request, token);
      if (status >= 400 && status < 500 && ![401, 403, 404, 429].includes(status)) {
        // 400, 413, 422…: the API refused what was sent. `server`, not `config`: the cause may be
        // the conversation itself (a broker's size caps), which a manual Retry after editing fixes;
        // `config` is kept for what only the site owner can fix (404 unknown agent). A short detail
        // from the body (section 9.7) is read with a size (16 KiB) and time (10 s) cap; HTML (a
        // proxy's error page) is never read: nothing in it could be shown.
        const [limit, off] = deadline(timers, 10_000, signal);
        let detail: string | undefined;
        try {
          if (!contentType(response).includes('html')) {
            detail = readErrorMessage(JSON.parse((await readCapped(response.body, 16 * 1024, limit)) ?? ''));
          }
        } catch {
          // Unreadable, too large, too slow or not JSON: no detail.
        } finally {
          off();
          discard(response);
        }
        throwIfAborted(signal);
        throw httpError('server', withDetail(REFUSED, detail, token), status);
      }
      discard(response);
      if (status === 401 && !refreshed) {
        refreshed = true;
        tokens.invalidate(token);
      } else if (status === 401 || status === 403) {
        throw httpError('auth', UNAVAILABLE, status);
      } else if (status === 404) {
        throw httpError('config', 'Agent not found.', status);
      } else if (status === 429 || status === 503) {
        const [wait, retryAfterMs] = retryAfter(response);
        if (busyRetries++ >= 2) throw httpError('rate_limited', BUSY, status, retryAfterMs);
        await pause(busyRetries, signal, wait);
      } else if (status >= 500 && !serverRetried) {
        serverRetried = true;
        await pause(1, signal);
      } else {
        throw status >= 500 ? httpError('server', 'Chat service failed.', status) : httpError('bad_response', UNEXPECTED, status);
      }
    }
  }

  return { send };
}
