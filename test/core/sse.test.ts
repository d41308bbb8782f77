import fc from 'fast-check';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../../widget/core/sse';

/** Feeds `chunks` to our parser, then ends the stream the way the decoder does. */
function ours(chunks: string[], max = 1e9) {
  const events: SseEvent[] = [];
  let overflows = 0;
  const parser = createSseParser((e) => events.push(e), max, () => overflows++);
  for (const chunk of chunks) parser.feed(chunk);
  parser.feed('\n\n');
  return { events, overflows };
}

/** The same through eventsource-parser, the reference implementation of the format. */
function reference(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event ?? 'message', data: e.data }) });
  for (const chunk of chunks) parser.feed(chunk);
  parser.feed('\n\n');
  return events;
}

/** Splits `text` at the given cut points. */
function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let at = 0;
  for (const p of points) {
    out.push(text.slice(at, p));
    at = p;
  }
  out.push(text.slice(at));
  return out.filter((c) => c !== '');
}

const eol = fc.constantFrom('\n', '\r\n', '\r');
const value = fc.string({ unit: fc.constantFrom('a', 'é', ' ', ':', '{', '"', '😀', 'x') , maxLength: 12 });
const lineArb = fc.oneof(
  fc.tuple(fc.constantFrom('data:', 'data: ', 'data', 'event:', 'event: ', 'id: ', 'retry: ', ': ', ':', 'other: ', 'Data: '), value).map(([f, v]) => f + v),
  fc.constant(''),
);
const stream = fc.array(fc.tuple(lineArb, eol), { maxLength: 30 }).map((ls) => ls.map(([l, e]) => l + e).join(''));

describe('createSseParser', () => {
  it('agrees with eventsource-parser on random streams, however they are chunked', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const chunks = split(text, cuts);
        expect(ours(chunks).events).toEqual(reference(chunks));
      }),
      { numRuns: 2000 },
    );
  });

  it('joins multi-line data, honours event names, skips comments and ignores id/retry', () => {
    const { events } = ours(['event: error\ndata: {"a":\ndata: 1}\n\n: ping\nid: 7\nretry: 10\ndata: x\n\n']);
    expect(events).toEqual([
      { event: 'error', data: '{"a":\n1}' },
      { event: 'message', data: 'x' },
    ]);
  });

  it('treats a CRLF split across chunks as one line end', () => {
    expect(ours(['data: a\r', '\ndata: b\r', '\n\r', '\n']).events).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('reports an unfinished line or event over the cap, and not below it', () => {
    expect(ours(['data: ' + 'x'.repeat(20)], 10).overflows).toBeGreaterThan(0);
    expect(ours(['data: 12345\ndata: 67890\ndata: 1'], 10).overflows).toBeGreaterThan(0);
    expect(ours(['data: 12345\n\ndata: 67890\n\n'], 10).overflows).toBe(0);
  });

  it('delivers one 200,000-character line fed in 20,000 ten-character chunks whole', () => {
    const chunks = Array.from({ length: 20_000 }, () => 'abcdefghij');
    const { events } = ours(['data: ', ...chunks, '\n\n']);
    expect(events[0]!.data).toHaveLength(200_000);
  });
});
