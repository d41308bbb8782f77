import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../server/rate-limit';
import { endsAtEventBoundary, extractDetail, pipeStream } from '../../server/upstream';
import { parseCompletionBody } from '../../server/messages';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('createMemoryRateLimiter', () => {
  it('allows `limit` hits per window, then reports the seconds left', () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ limit: 2, windowMs: 10_000, now: () => now });
    expect(limiter.hit('a')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(limiter.hit('a').allowed).toBe(true);
    now = 2_500;
    expect(limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 8 });
    expect(limiter.hit('b').allowed).toBe(true);
    now = 10_000;
    expect(limiter.hit('a').allowed).toBe(true);
  });

  it('holds at most maxKeys keys: expired windows go first, then the oldest', () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ limit: 1, windowMs: 1_000, maxKeys: 3, now: () => now });
    for (const key of ['a', 'b', 'c']) limiter.hit(key);
    expect(limiter.hit('a').allowed).toBe(false);
    limiter.hit('d'); // full: evicts the oldest, `a`
    expect(limiter.hit('a').allowed).toBe(true); // `a` starts over (and evicts `b`)
    expect(limiter.hit('c').allowed).toBe(false); // `c` survived
    now = 5_000;
    expect(limiter.hit('c').allowed).toBe(true);
  });

  it('stays bounded under a flood of distinct keys', () => {
    const limiter = createMemoryRateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 10_000; i++) limiter.hit(`ip-${i}`);
    // The last 100 keys are still limited; an early one was evicted and starts fresh.
    expect(limiter.hit('ip-9999').allowed).toBe(false);
    expect(limiter.hit('ip-0').allowed).toBe(true);
  });
});

describe('endsAtEventBoundary', () => {
  it.each([
    ['', true],
    ['\n\n', true],
    ['\r\n\r\n', true],
    ['\r\r', true],
    ['\n\r\n', true],
    ['\r\n\n', true],
    ['}\n\n', true],
    ['}\n', false],
    ['}\r\n', false],
    ['}\r', false],
    ['data: x', false],
    ['x\n\r', true],
  ])('%j → %s', (tail, expected) => {
    expect(endsAtEventBoundary(bytes(tail))).toBe(expected);
  });
});

describe('pipeStream', () => {
  it('strips a BOM that arrives after a ping, so the first field name stays intact', async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const source = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const out = pipeStream(source, { sse: true, heartbeatMs: 1, onEnd: () => {}, onCancel: () => {} });
    const reader = out.getReader();
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    expect(decoder.decode((await reader.read()).value)).toBe(': ping\n\n');
    controller.enqueue(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('data: x\n\n')]));
    let chunk = decoder.decode((await reader.read()).value);
    while (chunk === ': ping\n\n') chunk = decoder.decode((await reader.read()).value);
    expect(chunk).toBe('data: x\n\n');
    await reader.cancel();
  });

  it('forwards a null body as an empty stream', async () => {
    const ends: string[] = [];
    const out = pipeStream(null, { sse: true, heartbeatMs: 0, onEnd: (o) => ends.push(o), onCancel: () => {} });
    expect(await new Response(out).text()).toBe('');
    expect(ends).toEqual(['done']);
  });
});

describe('parseCompletionBody', () => {
  const limits = { maxMessages: 50, maxInputChars: 100, maxTotalChars: 1000 };
  it('keeps the newest messages that fit, never fewer than the last one', () => {
    const messages = [
      { role: 'user', content: 'a'.repeat(100) },
      { role: 'assistant', content: 'b'.repeat(100) },
      { role: 'user', content: 'c'.repeat(100) },
    ];
    const result = parseCompletionBody({ messages }, { maxMessages: 50, maxInputChars: 100, maxTotalChars: 100 });
    expect(result).toEqual({ ok: true, value: { messages: [messages[2]], stream: true, format: 'json' } });
  });
  it('drops unknown fields and system messages', () => {
    const result = parseCompletionBody(
      { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u', name: 'x' }], stream: false, format: 'text', agentId: 'z' },
      limits,
    );
    expect(result).toEqual({ ok: true, value: { messages: [{ role: 'user', content: 'u' }], stream: false, format: 'text' } });
  });
  it('cuts a long earlier answer instead of failing every later question; refuses a long question', () => {
    const long = { role: 'assistant', content: 'a'.repeat(150) };
    const ok = parseCompletionBody({ messages: [{ role: 'user', content: 'q' }, long, { role: 'user', content: 'next' }] }, limits);
    expect(ok).toEqual({
      ok: true,
      value: { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a'.repeat(100) }, { role: 'user', content: 'next' }], stream: true, format: 'json' },
    });
    const refused = parseCompletionBody({ messages: [{ role: 'user', content: 'x'.repeat(101) }] }, limits);
    expect(refused).toEqual({ ok: false, message: expect.stringContaining('messages[0] is longer than 100') });
  });
  it('names the bad message', () => {
    const result = parseCompletionBody({ messages: [{ role: 'user', content: 'ok' }, { role: 'user' }] }, limits);
    expect(result).toEqual({ ok: false, message: expect.stringContaining('messages[1]') });
  });
});

describe('extractDetail', () => {
  const key = 'sk-live-abcdef123456';
  it.each([
    ['{"detail":"Agent not found"}', 'Agent not found'],
    ['{"detail":[{"loc":["body"],"msg":"field required","type":"x"}]}', 'field required'],
    ['{"error":"Nope"}', 'Nope'],
    ['{"error":["Something went wrong"]}', 'Something went wrong'],
    ['{"error":{"message":"Model overloaded"}}', 'Model overloaded'],
    ['{"message":"Plain"}', 'Plain'],
    ['<html>Bad Gateway</html>', undefined],
    ['Internal Server Error', undefined],
    ['"just a string"', undefined],
    ['{}', undefined],
    ['', undefined],
  ])('%s → %j', (text, expected) => {
    expect(extractDetail(text, [key])).toBe(expected);
  });
  it('redacts the key, other sk- keys and bearer credentials, strips control characters and truncates', () => {
    const detail = extractDetail(
      JSON.stringify({ detail: `key ${key} or sk-other-999999 via Bearer abc.def\u0000\nend ${'x'.repeat(500)}` }),
      [key],
    );
    expect(detail).not.toContain(key);
    expect(detail).not.toContain('sk-other');
    expect(detail).not.toContain('abc.def');
    expect(detail).not.toMatch(/[\u0000-\u001f]/);
    expect(detail!.length).toBeLessThanOrEqual(200);
  });
});
