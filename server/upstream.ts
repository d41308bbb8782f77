import type { BrokerErrorCode } from './types';

/** A sanitized upstream failure, ready for `errorResponse`. */
export interface UpstreamFailure {
  status: number;
  code: BrokerErrorCode;
  message: string;
  headers: Record<string, string>;
}

const MAX_ERROR_BYTES = 4096;
const MAX_DETAIL_CHARS = 200;

/** Reads at most `max` bytes of an error body and cancels the rest (a 502 page can be large). */
async function readPrefix(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    while (bytes < max) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A broken error body still maps to a status-based message.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, max);
}

/**
 * The one human sentence worth keeping from an upstream error body, in the shapes of
 * codegpt-api.md section 9.7: `{detail: string}`, `{detail: [{msg}]}`, `{error: string | string[] |
 * {message}}`. HTML and plain text are never echoed (they may be a proxy page, or worse).
 */
export function extractDetail(text: string, secrets: readonly string[]): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { detail, error, message } = body as Record<string, unknown>;
  const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
  const candidates: unknown[] = [
    detail,
    (first(detail) as { msg?: unknown } | undefined)?.msg,
    first(error),
    (error as { message?: unknown } | undefined)?.message,
    message,
  ];
  const found = candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
  if (found === undefined) return undefined;
  let clean = found.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  for (const secret of secrets) clean = clean.split(secret).join('[redacted]');
  // Anything shaped like an API key or a bearer credential goes too, whoever's it is.
  clean = clean.replace(/\bsk-[A-Za-z0-9-_]{6,}/g, '[redacted]').replace(/\bBearer\s+\S+/gi, 'Bearer [redacted]');
  return clean.slice(0, MAX_DETAIL_CHARS);
}

/** `Retry-After` passed on only when it is delta-seconds or an HTTP date; anything else is dropped. */
function retryAfter(response: Response): Record<string, string> {
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return { 'Retry-After': '1' };
  // delta-seconds or an IMF-fixdate (RFC 9110 section 10.2.3); Date.parse alone accepts too much.
  if (/^\d{1,6}$/.test(value) || /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) {
    return { 'Retry-After': value };
  }
  return { 'Retry-After': '1' };
}

/**
 * Maps an upstream status ≥ 400 to our status and code (embed.md section 6). A 401/403 means OUR
 * key or org is wrong, not the visitor's token, so it becomes 502 `upstream_auth` and the widget
 * does not start a token refresh loop.
 */
export async function mapUpstreamError(response: Response, secrets: readonly string[]): Promise<UpstreamFailure> {
  const s = response.status;
  if (s === 401 || s === 403) {
    await response.body?.cancel().catch(() => {});
    return { status: 502, code: 'upstream_auth', message: 'The chat service rejected the broker credentials', headers: {} };
  }
  const detail = extractDetail(await readPrefix(response, MAX_ERROR_BYTES), secrets);
  if (s === 404) return { status: 404, code: 'not_found', message: detail ?? 'Agent not found upstream', headers: {} };
  if (s === 400 || s === 422) return { status: 400, code: 'bad_request', message: detail ?? 'The chat service refused the request', headers: {} };
  if (s === 429) return { status: 429, code: 'rate_limited', message: detail ?? 'The chat service is busy', headers: retryAfter(response) };
  return { status: 502, code: 'upstream_error', message: `The chat service failed (HTTP ${s})`, headers: {} };
}

/** Options of {@link pipeStream}. */
export interface PipeOptions {
  /** Insert `: ping` comments during upstream silence (SSE bodies only). */
  sse: boolean;
  heartbeatMs: number;
  /** Called once when the stream ends, however it ends. */
  onEnd(outcome: 'done' | 'cancelled' | 'error'): void;
  /** Called when the client goes away: abort the upstream request. */
  onCancel(reason: unknown): void;
}

const PING = new TextEncoder().encode(': ping\n\n');
const LF = 10;
const CR = 13;

/**
 * True when `tail` (the last bytes sent) ends at an SSE event boundary, i.e. with a blank line.
 * Strip the final line terminator (CRLF, LF or CR); a boundary is one more terminator before it.
 */
export function endsAtEventBoundary(tail: Uint8Array): boolean {
  let end = tail.length;
  if (end === 0) return true;
  const last = tail[end - 1];
  if (last === LF) end -= end >= 2 && tail[end - 2] === CR ? 2 : 1;
  else if (last === CR) end -= 1;
  else return false;
  const before = tail[end - 1];
  return before === LF || before === CR;
}

/**
 * Forwards an upstream body chunk by chunk (pull-based, so the client's backpressure reaches
 * upstream), never buffering the whole answer. For SSE, a `: ping` comment goes out after each
 * `heartbeatMs` of upstream silence, so proxies and browsers do not time out while the model thinks,
 * but only at an event boundary: a comment inside an event would corrupt it. When the client goes
 * away, the upstream reader is cancelled and `onCancel` aborts the upstream fetch.
 */
export function pipeStream(body: ReadableStream<Uint8Array> | null, options: PipeOptions): ReadableStream<Uint8Array> {
  const { sse, heartbeatMs, onEnd, onCancel } = options;
  const reader = body?.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let tail = new Uint8Array(0);
  let pinged = false;
  let first = true;
  let ended = false;

  const end = (outcome: 'done' | 'cancelled' | 'error'): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (ended) return;
    ended = true;
    onEnd(outcome);
  };

  const arm = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
    if (!sse || heartbeatMs <= 0 || ended) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (ended) return;
      if (endsAtEventBoundary(tail)) {
        pinged = true;
        try {
          controller.enqueue(PING.slice()); // a fresh copy: a sink may transfer the buffer
        } catch {
          return; // the stream closed meanwhile
        }
      }
      arm(controller);
    }, heartbeatMs);
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (!reader) {
          controller.close();
          end('done');
          return;
        }
        arm(controller);
      },
      async pull(controller) {
        if (!reader) return;
        // Loop until something is enqueued: a pull that resolves without enqueuing is not called again.
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await reader.read();
          } catch (error) {
            if (ended) return;
            end('error');
            controller.error(error);
            return;
          }
          if (ended) return;
          if (result.done) {
            end('done');
            controller.close();
            return;
          }
          let chunk = result.value;
          // A BOM is valid only at the very start; after our pings it would corrupt the first field name.
          if (first && pinged && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
          first = false;
          if (chunk.byteLength === 0) continue;
          const joined = new Uint8Array(tail.length + chunk.length);
          joined.set(tail);
          joined.set(chunk, tail.length);
          tail = joined.slice(-4);
          controller.enqueue(chunk);
          arm(controller); // silence is counted from the last byte forwarded
          return;
        }
      },
      cancel(reason) {
        end('cancelled');
        onCancel(reason);
        return reader?.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
