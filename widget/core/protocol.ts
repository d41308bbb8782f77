/**
 * The one place that knows the JSON shapes CodeGPT has sent over the years
 * (codegpt-api.md sections 2.1 and 9.5, 9.7, 9.8). Everything here is pure and total: any `unknown`
 * value in, a small result out, never a throw.
 */
import { cut } from './cut';

/** Result of reading one JSON event payload. */
export type PayloadResult =
  | { type: 'delta'; text: string }
  | { type: 'ignore' }
  | { type: 'error'; message: string };

/** Shown when the server signalled an error but gave no readable message. */
export const GENERIC_SERVER_ERROR = 'The server reported an error.';

/** Server-provided messages are cut to this many characters (they are shown as-is in the UI). */
const MAX_MESSAGE_LENGTH = 200;

type Obj = Record<string, unknown>;

const IGNORE: PayloadResult = { type: 'ignore' };

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads one parsed event payload (an SSE `data:` JSON value or one bare JSON object).
 *
 * Delta shapes, first one that yields text wins (section 9.5):
 * `choices[0].delta.content` (string) → `choices[0].delta.contents[]` (text parts only; 2025 shape,
 * section 2.1 item 5) → `choices[0].message.content` → legacy `{data: "<text>"}` (plus.codegpt.co).
 * An object with `error` or `detail` and no `choices` is a mid-stream failure (section 9.8).
 * Everything else (role-only deltas, empty or null content, usage-only chunks, non-objects) is ignored.
 */
export function readPayload(value: unknown): PayloadResult {
  if (!isObject(value)) return IGNORE;
  const text = readDelta(value);
  if (text !== '') return { type: 'delta', text };
  if (value.choices == null && (isPresent(value.error) || isPresent(value.detail))) {
    return { type: 'error', message: readErrorMessage(value) ?? GENERIC_SERVER_ERROR };
  }
  return IGNORE;
}

function readDelta(value: Obj): string {
  const choices = value.choices;
  // Several choices may come; only index 0 is the answer (section 9.5).
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  if (isObject(first)) {
    const delta = first.delta;
    if (isObject(delta)) {
      if (typeof delta.content === 'string' && delta.content !== '') return delta.content;
      if (Array.isArray(delta.contents)) {
        let text = '';
        // Only `type: "text"` parts are answer text; `reasoning` and unknown types must not be shown.
        for (const part of delta.contents as unknown[]) {
          if (isObject(part) && part.type === 'text' && typeof part.content === 'string') text += part.content;
        }
        if (text !== '') return text;
      }
    }
    const message = first.message;
    if (isObject(message) && typeof message.content === 'string' && message.content !== '') return message.content;
  }
  return typeof value.data === 'string' ? value.data : '';
}

/** `"error": null` (or `false`, `""`) is how some servers say "no error". */
function isPresent(value: unknown): boolean {
  return value != null && value !== false && value !== '';
}

/**
 * A short human message from an error body, or `undefined` when it has none (section 9.7):
 * `{error: string | string[] | {message}}`, `{detail: string | [{msg}]}`, `{message}`.
 * Only those fields are read, never the whole body, and the result is capped at 200 characters.
 */
export function readErrorMessage(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  return textOf(value.error) ?? textOf(value.detail) ?? textOf(value.message);
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return shorten(value);
  if (isObject(value)) return textOf(value.message) ?? textOf(value.msg);
  if (Array.isArray(value)) {
    // FastAPI validation lists and the [SLACK] `["Something went wrong"]` shape; a few items suffice.
    const parts: string[] = [];
    for (const item of value.slice(0, 5) as unknown[]) {
      const text = typeof item === 'string' ? shorten(item) : isObject(item) ? textOf(item.msg ?? item.message) : undefined;
      if (text !== undefined) parts.push(text);
    }
    return parts.length > 0 ? shorten(parts.join('; ')) : undefined;
  }
  return undefined;
}

/** Collapses whitespace and caps the length, without splitting a surrogate pair. */
function shorten(text: string): string | undefined {
  // Slice before the regex so a huge field costs no more than a small one.
  let result = text.slice(0, MAX_MESSAGE_LENGTH * 2).replace(/\s+/g, ' ').trim();
  if (result.length > MAX_MESSAGE_LENGTH) {
    result = cut(result, MAX_MESSAGE_LENGTH - 1) + '…'; // room for the ellipsis
  }
  return result === '' ? undefined : result;
}
