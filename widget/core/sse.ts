/**
 * The event-stream format (WHATWG HTML, "Server-sent events", parsing an event stream), reduced to
 * what a chat client reads: `data` and `event` fields, LF / CRLF / CR line ends (a CRLF may be split
 * across chunks), comments, and a cap on the bytes held for one line or one event. `id` and `retry`
 * are ignored. Written here rather than taken from eventsource-parser (about 1.2 KB gzip of a script
 * tag budgeted at 25 KB); test/core/sse.test.ts checks it against that library on random streams.
 *
 * Work per chunk is proportional to the chunk: an unfinished line is kept as fragments and joined
 * once, when its line ends.
 */
export interface SseEvent {
  /** The `event` field, or 'message'. */
  event: string;
  /** The `data` lines joined by '\n'. */
  data: string;
}

export interface SseParser {
  feed(chunk: string): void;
}

export function createSseParser(onEvent: (event: SseEvent) => void, maxBufferSize: number, onOverflow: () => void): SseParser {
  let fragments: string[] = [];
  /** Characters of the unfinished line, and of the data lines of the unfinished event. */
  let pending = 0;
  let held = 0;
  /** The last chunk ended with CR: an LF starting the next one belongs to it. */
  let skipLf = false;
  let data: string[] | undefined;
  let event = '';

  function line(text: string): void {
    if (text === '') {
      if (data) onEvent({ event: event || 'message', data: data.join('\n') });
      data = undefined;
      event = '';
      held = 0;
      return;
    }
    if (text[0] === ':') return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') {
      (data ??= []).push(value);
      if ((held += value.length) > maxBufferSize) onOverflow();
    } else if (field === 'event') event = value;
  }

  return {
    feed(chunk) {
      let start = skipLf && chunk[0] === '\n' ? 1 : 0;
      skipLf = false;
      const ends = /\r\n?|\n/g;
      ends.lastIndex = start;
      for (let m; (m = ends.exec(chunk)); ) {
        const piece = chunk.slice(start, m.index);
        const whole = fragments.length ? fragments.join('') + piece : piece;
        fragments = [];
        pending = 0;
        skipLf = m[0] === '\r' && ends.lastIndex === chunk.length;
        start = ends.lastIndex;
        line(whole);
      }
      if (start < chunk.length) {
        const rest = start ? chunk.slice(start) : chunk;
        fragments.push(rest);
        if ((pending += rest.length) + held > maxBufferSize) onOverflow();
      }
    },
  };
}
