/**
 * Turns the decoded text of a chat completion response, fed in arbitrary chunks, into answer
 * deltas (codegpt-api.md sections 2.1 and 9). Pure: no DOM, no fetch, no timers. Reading bytes and
 * UTF-8 decoding live in `io/`; this module only ever sees strings.
 */
import { createSseParser } from './sse';
import { WidgetError } from './errors';
import { GENERIC_SERVER_ERROR, readErrorMessage, readPayload } from './protocol';
import type { StreamFormat } from './types';

/** Where decoded answer text and failures go. */
export interface StreamDecoderCallbacks {
  /** Answer text carried by one event, in order. Never called with ''. */
  onDelta(text: string): void;
  /** The stream reported a failure or broke the protocol. Called at most once; afterwards all input is ignored. */
  onError(error: WidgetError): void;
}

/** Tuning for {@link createStreamDecoder}. */
export interface StreamDecoderOptions {
  /**
   * Max characters buffered without completing an event (an SSE line or event, a bare JSON
   * object); past it the stream is stopped with an `interrupted` error (reliability.md D7).
   * @defaultValue 1_048_576
   */
  maxBufferSize?: number;
}

/** A decoder for one response body. Create a new one per request. */
export interface StreamDecoder {
  /** Feeds decoded text; a chunk may end anywhere (inside `data:`, JSON, a line ending). */
  push(chunk: string): void;
  /** The body ended (EOF): flushes a final event that lacks its blank line. Later input is ignored. */
  end(): void;
  /** True once the stream said it is finished ([DONE]); further input is ignored. */
  readonly done: boolean;
  /** Events that were skipped as malformed (broken JSON in a data line, etc.). */
  readonly skipped: number;
}

/** One framing of the body; the decoder switches between them once, after sniffing. */
interface Framing {
  push(chunk: string): void;
  end(): void;
}

const DEFAULT_MAX_BUFFER_SIZE = 1_048_576;
const OVERFLOW_MESSAGE = 'The answer stream was malformed and was stopped.';

/** First non-whitespace text that means SSE framing under `format: "json"` (section 9.1). */
const SSE_STARTS = ['data:', ':', 'event:', 'id:', 'retry:'];

const BOM = 0xfeff;
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** JSON whitespace; also what may precede the first SSE field. */
function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/**
 * Creates a decoder for one response body.
 *
 * - `format: "text"`: every chunk is answer text, verbatim. Never sniffed, because the answer itself
 *   may start with `{` or contain `data:` (section 9.1).
 * - `format: "json"`: sniffed once from the first non-whitespace characters (a leading BOM is
 *   skipped): an SSE field or comment → SSE; `{` → concatenated bare JSON objects (the March 2024
 *   behaviour, section 2.1 item 3); anything else → raw text.
 *
 * @throws TypeError when `maxBufferSize` is not a positive number (a programming error, style rule 3).
 */
export function createStreamDecoder(
  format: StreamFormat,
  callbacks: StreamDecoderCallbacks,
  options: StreamDecoderOptions = {},
): StreamDecoder {
  const maxBufferSize = options.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE;
  if (!(maxBufferSize > 0)) {
    throw new TypeError(`maxBufferSize must be a positive number of characters, got ${String(maxBufferSize)}`);
  }

  let done = false;
  let skipped = 0;
  /** Set by [DONE], by an error, or by end(): from then on every input is ignored. */
  let halted = false;

  function emit(text: string): void {
    if (!halted && text !== '') callbacks.onDelta(text);
  }

  function fail(error: WidgetError): void {
    if (halted) return;
    halted = true;
    callbacks.onError(error);
  }

  /** D7: the buffer is dropped with the framing (nothing references it once halted). */
  function overflow(): void {
    fail(new WidgetError('interrupted', OVERFLOW_MESSAGE));
  }

  /** One complete JSON event, from an SSE data field or a bare object. */
  function handleJson(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // A broken event is skipped, not fatal (reliability.md D5).
      skipped++;
      return;
    }
    const result = readPayload(value);
    if (result.type === 'delta') emit(result.text);
    else if (result.type === 'error') fail(new WidgetError('server', result.message));
  }

  /** Raw text: the body is the answer (format "text", or the json-format fallback). */
  function rawText(): Framing {
    return { push: emit, end() {} };
  }

  /** SSE (sse.ts): every line ending, comments, multi-line data, `id:`/`retry:` ignored. */
  function sse(): Framing {
    const parser = createSseParser(
      (event) => {
        if (halted) return; // events after [DONE] or an error in the same chunk
        const data = event.data;
        if (event.event === 'error') {
          let value: unknown;
          try {
            value = JSON.parse(data);
          } catch {
            value = undefined;
          }
          return fail(new WidgetError('server', readErrorMessage(value) ?? GENERIC_SERVER_ERROR));
        }
        const trimmed = data.trim();
        if (trimmed === '[DONE]') {
          done = true;
          halted = true;
          return;
        }
        // `data:` with nothing after it carries no event; not malformed.
        if (trimmed !== '') handleJson(data);
      },
      maxBufferSize,
      overflow,
    );
    return {
      push: parser.feed,
      // Two line feeds end any pending line (a trailing CR becomes CRLF) and then the event, so a
      // final event without its blank line is not lost (section 9.2).
      end: () => parser.feed('\n\n'),
    };
  }

  /**
   * Concatenated bare JSON objects, possibly with whitespace between them. Tracks bracket depth and
   * string state per character so braces and quotes inside strings (and escapes) never end an
   * object early. Fragments of an unfinished object are joined once when it closes, so the work
   * per push is proportional to the chunk.
   */
  function bareJson(): Framing {
    const fragments: string[] = [];
    let buffered = 0;
    let depth = 0;
    let inString = false;
    let escaped = false;
    /** Inside a run of non-JSON text between objects: counted once as skipped. */
    let inJunk = false;

    function complete(text: string): void {
      if (text.length > maxBufferSize) return overflow();
      handleJson(text);
    }

    return {
      push(chunk) {
        let start = 0; // where the current object begins in this chunk
        for (let i = 0; i < chunk.length && !halted; i++) {
          const code = chunk.charCodeAt(i);
          if (depth === 0) {
            if (code === OPEN_BRACE) {
              depth = 1;
              start = i;
              inJunk = false;
            } else if (!isSpace(code) && !inJunk) {
              inJunk = true;
              skipped++;
            }
          } else if (inString) {
            if (escaped) escaped = false;
            else if (code === BACKSLASH) escaped = true;
            else if (code === QUOTE) inString = false;
          } else if (code === QUOTE) {
            inString = true;
          } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
            depth++;
          } else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --depth === 0) {
            fragments.push(chunk.slice(start, i + 1));
            const text = fragments.length === 1 ? (fragments[0] as string) : fragments.join('');
            fragments.length = 0;
            buffered = 0;
            complete(text);
          }
        }
        if (depth > 0 && !halted) {
          const rest = chunk.slice(start);
          fragments.push(rest);
          buffered += rest.length;
          if (buffered > maxBufferSize) overflow();
        }
      },
      end() {
        // The body stopped inside an object: that event is lost.
        if (depth > 0) skipped++;
      },
    };
  }

  /**
   * Holds the start of a `format: "json"` body until its first non-whitespace characters decide the
   * framing (a chunk may be just `da`), then replays what it held into that framing.
   */
  function sniffing(): Framing {
    const held: string[] = [];
    let heldLength = 0;
    let head = ''; // non-whitespace start of the body, at most a few characters
    let headStart = -1; // offset of `head` in the body
    let skipBom = false;
    let seen = 0; // characters seen so far

    function decide(kind: 'sse' | 'json' | 'text'): void {
      const body = held.join('');
      held.length = 0;
      framing = kind === 'sse' ? sse() : kind === 'json' ? bareJson() : rawText();
      // SSE and JSON start at the first field/brace; raw text keeps its leading whitespace.
      framing.push(body.slice(kind === 'text' ? (skipBom ? 1 : 0) : headStart));
    }

    return {
      push(chunk) {
        held.push(chunk);
        heldLength += chunk.length;
        for (let i = 0; i < chunk.length; i++, seen++) {
          const code = chunk.charCodeAt(i);
          if (head === '') {
            if (seen === 0 && code === BOM) {
              skipBom = true;
              continue;
            }
            if (isSpace(code)) continue;
            headStart = seen;
          }
          head += chunk[i];
          if (head.startsWith('{')) return decide('json');
          if (SSE_STARTS.some((start) => head.startsWith(start))) return decide('sse');
          if (!SSE_STARTS.some((start) => start.startsWith(head))) return decide('text');
        }
        // Only whitespace or an unfinished `data:`-like prefix so far.
        if (heldLength > maxBufferSize) overflow();
      },
      end() {
        // A body of only whitespace has no answer; a short non-field prefix ("da") is raw text.
        if (head !== '') decide('text');
      },
    };
  }

  let framing: Framing = format === 'text' ? rawText() : sniffing();

  return {
    push(chunk) {
      if (!halted && chunk !== '') framing.push(chunk);
    },
    end() {
      if (halted) return;
      framing.end();
      halted = true;
    },
    get done() {
      return done;
    },
    get skipped() {
      return skipped;
    },
  };
}
