import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createStreamDecoder } from '../../widget/core/stream-decoder';
import type { StreamDecoderOptions } from '../../widget/core/stream-decoder';
import { WidgetError } from '../../widget/core/errors';
import type { StreamFormat } from '../../widget/core/types';
import { chunkings, splitAt } from '../helpers/chunk';
import { loadStream, streamCases } from '../fixtures/streams/cases';
import type { StreamExpectation } from '../fixtures/streams/cases';

const OVERFLOW = { code: 'interrupted', message: 'The answer stream was malformed and was stopped.' };

/** A decoder wired to recording callbacks that also check the callback contract on every call. */
function recorder(format: StreamFormat, options?: StreamDecoderOptions) {
  const deltas: string[] = [];
  const errors: WidgetError[] = [];
  const decoder = createStreamDecoder(
    format,
    {
      onDelta(text) {
        if (typeof text !== 'string' || text === '') throw new Error(`onDelta called with ${JSON.stringify(text)}`);
        if (errors.length > 0) throw new Error('onDelta called after onError');
        deltas.push(text);
      },
      onError(error) {
        errors.push(error);
      },
    },
    options,
  );
  const result = (): StreamExpectation & { deltas: string[]; errorCalls: number } => {
    const error = errors[0];
    return {
      text: deltas.join(''),
      done: decoder.done,
      error: error === undefined ? null : { code: error.code, message: error.message },
      skipped: decoder.skipped,
      deltas,
      errorCalls: errors.length,
    };
  };
  return { decoder, deltas, errors, result };
}

/** Feeds string chunks, then ends the body. */
function decode(format: StreamFormat, chunks: readonly string[], options?: StreamDecoderOptions) {
  const r = recorder(format, options);
  for (const chunk of chunks) r.decoder.push(chunk);
  r.decoder.end();
  return r.result();
}

/** Feeds byte chunks through one streaming TextDecoder, as io/read-stream does (section 9.3). */
function decodeBytes(format: StreamFormat, chunks: readonly Uint8Array[]) {
  const r = recorder(format);
  const utf8 = new TextDecoder('utf-8');
  for (const chunk of chunks) r.decoder.push(utf8.decode(chunk, { stream: true }));
  r.decoder.push(utf8.decode());
  r.decoder.end();
  return r.result();
}

const summary = ({ text, done, error, skipped }: StreamExpectation) => ({ text, done, error, skipped });

describe('every variation, under every chunking (codegpt-api.md section 9)', () => {
  it('case names are unique', () => {
    expect(new Set(streamCases.map((c) => c.name)).size).toBe(streamCases.length);
  });

  describe.each(streamCases)('$name', ({ format, body, expected }) => {
    it.each(chunkings(body, 7))('$name', ({ chunks }) => {
      expect(chunks.join('')).toBe(body);
      const result = decode(format, chunks);
      expect(summary(result)).toEqual(expected);
      expect(result.errorCalls).toBe(expected.error ? 1 : 0);
    });

    it('bytes one at a time through TextDecoder', () => {
      const bytes = new TextEncoder().encode(body);
      expect(summary(decodeBytes(format, splitAt(bytes, [...bytes.keys()])))).toEqual(expected);
    });
  });
});

describe('delta granularity', () => {
  it('emits one delta per SSE event, identical under every chunking', () => {
    const body = loadStream('sse-openai.txt');
    const pieces = ['Hello! ', 'Here is ', 'café ☕ ', 'and a ', 'rocket 🚀 ', 'for you.'];
    for (const { chunks } of chunkings(body, 3)) {
      expect(decode('json', chunks).deltas).toEqual(pieces);
    }
  });

  it('emits one delta per bare JSON object, identical under every chunking', () => {
    const body = '{"data":"a"}{"data":"b"} {"data":"c"}';
    for (const { chunks } of chunkings(body, 3)) {
      expect(decode('json', chunks).deltas).toEqual(['a', 'b', 'c']);
    }
  });

  it('passes text-format chunks through verbatim, one delta per chunk', () => {
    expect(decode('text', ['{"a":', '', 'data: x\n\n', ' ']).deltas).toEqual(['{"a":', 'data: x\n\n', ' ']);
  });
});

describe('streaming: text is emitted as soon as an event completes', () => {
  it('SSE: a delta arrives at the blank line, before end()', () => {
    const r = recorder('json');
    r.decoder.push('data: {"data":"one"}\n');
    expect(r.deltas).toEqual([]);
    r.decoder.push('\n');
    expect(r.deltas).toEqual(['one']);
  });

  it('bare JSON: a delta arrives at the closing brace', () => {
    const r = recorder('json');
    r.decoder.push('{"data":"o');
    expect(r.deltas).toEqual([]);
    r.decoder.push('ne"}');
    expect(r.deltas).toEqual(['one']);
  });

  it('sniffing waits for enough characters, then replays what it held', () => {
    const r = recorder('json');
    r.decoder.push('\uFEFF');
    r.decoder.push('\n d');
    r.decoder.push('a');
    expect(r.deltas).toEqual([]);
    r.decoder.push('ta: {"data":"x"}\n\n');
    expect(r.deltas).toEqual(['x']);
  });

  it('raw-text fallback is decided on the first character that rules out SSE', () => {
    const r = recorder('json');
    r.decoder.push(' da');
    expect(r.deltas).toEqual([]);
    r.decoder.push('nce');
    expect(r.deltas).toEqual([' dance']);
    r.decoder.push(' on');
    expect(r.deltas).toEqual([' dance', ' on']);
  });

  it('a held prefix is emitted as raw text at end()', () => {
    const r = recorder('json');
    r.decoder.push('eve');
    expect(r.deltas).toEqual([]);
    r.decoder.end();
    expect(r.deltas).toEqual(['eve']);
  });
});

describe('terminal states', () => {
  it('done becomes true at [DONE], and later input and end() do nothing', () => {
    const r = recorder('json');
    r.decoder.push('data: {"data":"a"}\n\n');
    expect(r.decoder.done).toBe(false);
    r.decoder.push('data: [DONE]\n\n');
    expect(r.decoder.done).toBe(true);
    r.decoder.push('data: {"data":"b"}\n\n');
    r.decoder.push('event: error\ndata: {}\n\n');
    r.decoder.end();
    expect(r.result()).toMatchObject({ text: 'a', done: true, error: null, skipped: 0 });
  });

  it('reports an error once and ignores all later input', () => {
    const r = recorder('json');
    r.decoder.push('data: {"data":"a"}\n\ndata: {"error":"first"}\n\ndata: {"error":"second"}\n\n');
    r.decoder.push('data: {"data":"b"}\n\n');
    r.decoder.end();
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(WidgetError);
    expect(r.result()).toMatchObject({ text: 'a', done: false, error: { code: 'server', message: 'first' } });
  });

  it('ignores input after end()', () => {
    const r = recorder('text');
    r.decoder.push('a');
    r.decoder.end();
    r.decoder.push('b');
    r.decoder.end();
    expect(r.deltas).toEqual(['a']);
  });

  it('a final SSE event without a blank line is only flushed by end()', () => {
    const r = recorder('json');
    r.decoder.push('data: {"data":"last"}');
    expect(r.deltas).toEqual([]);
    r.decoder.end();
    expect(r.deltas).toEqual(['last']);
    expect(r.decoder.done).toBe(false);
  });

  it('an unfinished multi-line SSE event is flushed by end()', () => {
    expect(decode('json', ['data: {"data":\ndata: "joined"}\n']).text).toBe('joined');
  });

  it('a [DONE] without a blank line at EOF still ends the stream', () => {
    expect(decode('json', ['data: {"data":"x"}\n\ndata: [DONE]'])).toMatchObject({ text: 'x', done: true });
  });
});

describe('maxBufferSize (reliability.md D7)', () => {
  it('trips at the 1 MiB default on data lines with no blank line, and drops the buffer', () => {
    const r = recorder('json');
    const line = `data: ${'x'.repeat(1023)}\n`; // 1 KiB per line, never a blank line
    r.decoder.push('data: {"data":"kept"}\n\n');
    for (let i = 0; i < 1030 && r.errors.length === 0; i++) r.decoder.push(line);
    expect(r.result()).toMatchObject({ text: 'kept', done: false, error: OVERFLOW, errorCalls: 1 });
    // Terminated: more input and end() neither throw nor report again.
    r.decoder.push(line);
    r.decoder.push('\n\ndata: {"data":"late"}\n\n');
    r.decoder.end();
    expect(r.result()).toMatchObject({ text: 'kept', errorCalls: 1 });
  });

  it('does not trip below the default', () => {
    const r = recorder('json');
    r.decoder.push(`data: {"data":"${'y'.repeat(1_000_000)}"}\n\n`);
    r.decoder.end();
    expect(r.result()).toMatchObject({ error: null, text: 'y'.repeat(1_000_000) });
  });

  it.each<[string, string[]]>([
    ['one unterminated SSE line', ['data: ', 'x'.repeat(600), 'x'.repeat(600)]],
    ['SSE data lines without a blank line', Array.from({ length: 20 }, () => `data: ${'x'.repeat(94)}\n`)],
    ['an unterminated bare JSON object', ['{"data":"', 'x'.repeat(600), 'x'.repeat(600)]],
    ['leading whitespace while sniffing', [' '.repeat(600), '\n'.repeat(600)]],
  ])('trips on %s', (_name, chunks) => {
    const r = recorder('json', { maxBufferSize: 1000 });
    for (const chunk of chunks) r.decoder.push(chunk);
    expect(r.result()).toMatchObject({ error: OVERFLOW, errorCalls: 1 });
    r.decoder.end();
    expect(r.result()).toMatchObject({ errorCalls: 1, text: '' });
  });

  it.each<[string, string]>([
    ['SSE event', `data: {"data":"${'x'.repeat(2000)}"}\n\n`],
    ['bare JSON object', `{"data":"${'x'.repeat(2000)}"}`],
  ])('an oversized %s trips however the body is chunked', (_name, body) => {
    for (const { name, chunks } of chunkings(body, 5)) {
      expect(decode('json', chunks, { maxBufferSize: 1000 }).error, name).toEqual(OVERFLOW);
    }
  });

  it('counts per event, not per stream: many small events pass', () => {
    const body = Array.from({ length: 100 }, (_, i) => `data: {"data":"${i % 10}"}\n\n: ping\n\n`).join('');
    const result = decode('json', [body], { maxBufferSize: 100 });
    expect(result.error).toBeNull();
    expect(result.text).toHaveLength(100);
  });

  it('never applies to raw text, which is not buffered', () => {
    expect(decode('text', ['x'.repeat(5000)], { maxBufferSize: 10 })).toMatchObject({ error: null, text: 'x'.repeat(5000) });
    expect(decode('json', ['plain ', 'y'.repeat(5000)], { maxBufferSize: 10 })).toMatchObject({ error: null });
  });

  it.each([0, -1, Number.NaN])('rejects maxBufferSize %s', (size) => {
    expect(() => createStreamDecoder('json', { onDelta() {}, onError() {} }, { maxBufferSize: size })).toThrow(TypeError);
  });
});

describe('property: any re-chunking of a recorded stream gives the same result (reliability.md D6)', () => {
  const cases = streamCases.filter((c) => c.body.length > 0);

  it('random byte splits through a streaming TextDecoder', () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.array(fc.nat(), { maxLength: 60 }), (c, cuts) => {
        const bytes = new TextEncoder().encode(c.body);
        const chunks = splitAt(bytes, cuts.map((n) => n % (bytes.length + 1)));
        expect(summary(decodeBytes(c.format, chunks))).toEqual(c.expected);
      }),
      { numRuns: 400 },
    );
  });

  it('random string splits, even inside surrogate pairs', () => {
    const recorded = loadStream('sse-unicode.txt') + loadStream('sse-contents-array.txt');
    const expectedText = decode('json', [recorded]).text;
    expect(expectedText).toContain('😀👍🏽');
    fc.assert(
      fc.property(fc.array(fc.nat({ max: recorded.length }), { maxLength: 200 }), (cuts) => {
        expect(summary(decode('json', splitAt(recorded, cuts)))).toEqual({
          text: expectedText,
          done: true,
          error: null,
          skipped: 0,
        });
      }),
      { numRuns: 300 },
    );
  });
});
