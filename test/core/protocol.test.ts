import { describe, expect, it } from 'vitest';
import { GENERIC_SERVER_ERROR, readErrorMessage, readPayload } from '../../widget/core/protocol';
import type { PayloadResult } from '../../widget/core/protocol';

const delta = (text: string): PayloadResult => ({ type: 'delta', text });
const error = (message: string): PayloadResult => ({ type: 'error', message });
const ignore: PayloadResult = { type: 'ignore' };

/** An OpenAI-style chunk with the given first choice. */
const chunk = (choice: unknown, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  choices: [choice],
  ...extra,
});

describe('readPayload: delta shapes (codegpt-api.md 9.5)', () => {
  it.each<[string, unknown, PayloadResult]>([
    ['choices[0].delta.content', chunk({ index: 0, delta: { content: 'Hi' } }), delta('Hi')],
    [
      'contents[]: text parts concatenated, reasoning and other types dropped',
      chunk({
        delta: {
          contents: [
            { type: 'reasoning', content: 'THINK' },
            { type: 'text', content: 'a' },
            { type: 'tool', content: 'TOOL' },
            { type: 'text', content: 'b' },
            { content: 'NO TYPE' },
            { type: 'text', content: 7 },
            null,
            'text',
          ],
        },
      }),
      delta('ab'),
    ],
    ['contents[] used when content is empty', chunk({ delta: { content: '', contents: [{ type: 'text', content: 'x' }] } }), delta('x')],
    ['contents[] used when content is null', chunk({ delta: { content: null, contents: [{ type: 'text', content: 'x' }] } }), delta('x')],
    ['delta.content wins over contents[]', chunk({ delta: { content: 'c', contents: [{ type: 'text', content: 'x' }] } }), delta('c')],
    ['choices[0].message.content', chunk({ message: { role: 'assistant', content: 'whole' } }), delta('whole')],
    ['message.content used when delta has no text', chunk({ delta: { role: 'assistant' }, message: { content: 'm' } }), delta('m')],
    ['legacy {data}', { data: 'legacy' }, delta('legacy')],
    ['legacy {data} used when choices carry no text', { choices: [], data: 'd' }, delta('d')],
    ['only index 0 of several choices', { choices: [{ delta: { content: 'zero' } }, { delta: { content: 'one' } }] }, delta('zero')],
    ['whitespace-only content is text', chunk({ delta: { content: '\n' } }), delta('\n')],
  ])('%s', (_name, value, expected) => {
    expect(readPayload(value)).toEqual(expected);
  });
});

describe('readPayload: ignored payloads', () => {
  it.each<[string, unknown]>([
    ['role-only delta', chunk({ delta: { role: 'assistant' } })],
    ['null content', chunk({ delta: { content: null } })],
    ['empty content', chunk({ delta: { content: '' } })],
    ['empty delta with finish_reason', chunk({ delta: {}, finish_reason: 'stop' })],
    ['contents[] with only a reasoning part', chunk({ delta: { contents: [{ type: 'reasoning', content: 'hidden' }] } })],
    ['contents[] not an array', chunk({ delta: { contents: { type: 'text', content: 'x' } } })],
    ['non-string content', chunk({ delta: { content: 42 } })],
    ['empty message content', chunk({ message: { content: '' } })],
    ['empty choices (usage-only chunk)', { choices: [], usage: { total_tokens: 3 } }],
    ['choices not an array', { choices: { delta: { content: 'x' } } }],
    ['choices[0] not an object', { choices: ['x'] }],
    ['delta not an object', { choices: [{ delta: 'x' }] }],
    ['unknown keys only', { sources: [{ url: 'https://example.test' }], citations: [] }],
    ['empty legacy data', { data: '' }],
    ['non-string legacy data', { data: { text: 'x' } }],
    ['"error": null without choices', { error: null }],
    ['"error": false / "detail": ""', { error: false, detail: '' }],
    ['error next to choices (not an error object)', { choices: [], error: 'x' }],
    ['null', null],
    ['undefined', undefined],
    ['number', 42],
    ['string', 'text'],
    ['boolean', true],
    ['array', [{ data: 'x' }]],
  ])('%s', (_name, value) => {
    expect(readPayload(value)).toEqual(ignore);
  });
});

describe('readPayload: mid-stream errors (codegpt-api.md 9.7, 9.8)', () => {
  it.each<[string, unknown, PayloadResult]>([
    ['error string', { error: 'Boom' }, error('Boom')],
    ['error.message', { error: { message: 'Upstream model error', type: 'server_error' } }, error('Upstream model error')],
    ['error array ([SLACK] shape)', { error: ['Something went wrong', 'Try later'] }, error('Something went wrong; Try later')],
    ['detail string', { detail: 'Too many requests' }, error('Too many requests')],
    [
      'detail list (FastAPI validation)',
      { detail: [{ loc: ['body', 'agentId'], msg: 'field required', type: 'value_error.missing' }] },
      error('field required'),
    ],
    ['error wins over detail', { error: 'E', detail: 'D' }, error('E')],
    ['error object without message', { error: { code: 500 } }, error(GENERIC_SERVER_ERROR)],
    ['detail of an unknown shape', { detail: 42 }, error(GENERIC_SERVER_ERROR)],
    ['whitespace collapsed', { error: '  Line one\n\n\tline two  ' }, error('Line one line two')],
    ['whitespace-only message', { detail: ' \n ' }, error(GENERIC_SERVER_ERROR)],
  ])('%s', (_name, value, expected) => {
    expect(readPayload(value)).toEqual(expected);
  });

  it('a delta wins over an error field', () => {
    expect(readPayload({ data: 'text', error: 'x' })).toEqual(delta('text'));
  });

  it('caps the message at 200 characters and never returns the whole body', () => {
    const result = readPayload({ error: { message: 'm'.repeat(5000) }, trace: 'SECRET'.repeat(100) });
    expect(result.type).toBe('error');
    const message = (result as { message: string }).message;
    expect(message).toHaveLength(200);
    expect(message.endsWith('…')).toBe(true);
    expect(message).not.toContain('SECRET');
  });

  it('does not cut a surrogate pair at the cap', () => {
    const result = readPayload({ detail: 'a'.repeat(198) + '😀'.repeat(10) });
    const message = (result as { message: string }).message;
    expect(message.length).toBeLessThanOrEqual(200);
    // 198 + half of a pair would be 199 code units: the half is dropped instead.
    expect(message).toBe('a'.repeat(198) + '…');
    expect(message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('a message of exactly 200 characters is kept whole', () => {
    expect(readPayload({ error: 'x'.repeat(200) })).toEqual(error('x'.repeat(200)));
  });
});

describe('readErrorMessage', () => {
  it.each<[string, unknown, string | undefined]>([
    ['top-level message (proxy bodies)', { message: 'Internal server error' }, 'Internal server error'],
    ['nothing readable', { status: 500 }, undefined],
    ['not an object', 'plain text body', undefined],
    ['array body', ['x'], undefined],
    ['null', null, undefined],
    ['empty strings in a list', { error: ['', '  '] }, undefined],
  ])('%s', (_name, value, expected) => {
    expect(readErrorMessage(value)).toBe(expected);
  });

  it('reads only the first few list items', () => {
    const message = readErrorMessage({ detail: Array.from({ length: 1000 }, (_, i) => ({ msg: `m${i}` })) });
    expect(message).toBe('m0; m1; m2; m3; m4');
  });
});
