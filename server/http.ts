import type { BrokerErrorCode } from './types';

/** A JSON response that no cache keeps (tokens and errors are per visitor). */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  });
}

/**
 * The broker's one error shape: `{ error: { code, message }, detail }` (embed.md section 5). `detail`
 * repeats the message for FastAPI-style clients that read `detail` (codegpt-api.md section 4).
 */
export function errorResponse(
  status: number,
  code: BrokerErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse(status, { error: { code, message }, detail: message }, headers);
}

/** Thrown while reading a request body; carries the response to send. */
export class BodyError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'BodyError';
    this.status = status;
  }
}

/**
 * Reads a JSON request body of at most `maxBytes`. Checks `Content-Length` first (cheap refusal),
 * then counts bytes while reading, because the header may be absent (chunked) or lie.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  // Requiring application/json also forces a CORS preflight for cross-origin browsers.
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new BodyError(400, 'Content-Type must be application/json');
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw new BodyError(413, `Body larger than ${maxBytes} bytes`);
  if (!request.body) throw new BodyError(400, 'Body required');

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch {
      throw new BodyError(400, 'Body could not be read');
    }
    if (result.done) break;
    total += result.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyError(413, `Body larger than ${maxBytes} bytes`);
    }
    chunks.push(result.value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new BodyError(400, 'Body must be valid UTF-8 JSON');
  }
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
