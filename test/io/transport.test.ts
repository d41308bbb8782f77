import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import type { StreamFormat, WireMessage } from '../../widget/core/types';
import { createTokenProvider } from '../../widget/io/token-provider';
import type { TokenInfo, TokenProvider } from '../../widget/io/token-provider';
import { createHttpTransport } from '../../widget/io/transport';
import type { HttpTransportOptions } from '../../widget/io/transport';
import { chunkings } from '../helpers/chunk';
import { chunked, controlledBody, createFetchStub, endless, failure, hang, json, networkError, status, streaming, text, track } from './fetch-stub';
import type { Handler } from './fetch-stub';

const AGENT = 'agent-1';
const MESSAGES: WireMessage[] = [
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Say café' },
];
const encoder = new TextEncoder();

/** An OpenAI-style SSE body (codegpt-api.md section 8.3 item 3). */
function sse(pieces: string[], done = true): string {
  const event = (delta: unknown) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}\n\n`;
  return event({ role: 'assistant' }) + pieces.map((content) => event({ content })).join('') + (done ? 'data: [DONE]\n\n' : '');
}

/** Tokens tok-1, tok-2, …: invalidating the current one moves to the next. */
function fakeTokens(apiBase?: string) {
  let index = 1;
  const invalidated: string[] = [];
  const tokens: TokenProvider = {
    get: vi.fn(async (): Promise<TokenInfo> => ({ token: `tok-${index}`, apiBase })),
    invalidate: vi.fn((token: string) => {
      invalidated.push(token);
      if (token === `tok-${index}`) index++;
    }),
    peek: () => undefined,
    prefetch() {},
    dispose() {},
  };
  return { tokens, invalidated };
}

function setup(handlers: Handler[], options: Partial<HttpTransportOptions> & { tokenApiBase?: string } = {}) {
  const stub = createFetchStub(...handlers);
  const { tokens, invalidated } = fakeTokens(options.tokenApiBase);
  const transport = createHttpTransport({
    agentId: AGENT,
    format: 'json',
    tokens,
    fetch: stub.fetch,
    random: () => 0.5,
    ...options,
  });
  const deltas: string[] = [];
  const events: string[] = [];
  function send(signal = new AbortController().signal) {
    return transport.send({
      messages: MESSAGES,
      signal,
      onDelta: (delta) => {
        deltas.push(delta);
        events.push('delta');
      },
      onFirstByte: () => events.push('first-byte'),
    });
  }
  return { stub, tokens, invalidated, transport, deltas, events, send };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the request (codegpt-api.md section 1)', () => {
  it('POSTs the history to the default API with bearer auth and no org header when none is set', async () => {
    const { stub, send } = setup([chunked([sse(['Hi'])])]);
    await send();
    expect(stub.calls).toHaveLength(1);
    const [call] = stub.calls;
    expect(call?.url).toBe('https://api.codegpt.co/api/v1/chat/completions');
    expect(call?.init.method).toBe('POST');
    expect(call?.headers.get('authorization')).toBe('Bearer tok-1');
    expect(call?.headers.get('content-type')).toBe('application/json');
    expect(call?.headers.get('accept')).toBe('text/event-stream, application/json');
    expect(call?.headers.has('codegpt-org-id')).toBe(false);
    expect(call?.body).toEqual({ agentId: AGENT, messages: MESSAGES, stream: true, format: 'json' });
  });

  it('sends CodeGPT-Org-Id and the text format when configured', async () => {
    const { stub, send } = setup([chunked(['ok'], 'text/plain')], { orgId: 'org-9', format: 'text' });
    await send();
    expect(stub.calls[0]?.headers.get('codegpt-org-id')).toBe('org-9');
    expect((stub.calls[0]?.body as { format: StreamFormat }).format).toBe('text');
  });

  it.each([
    [{ apiBase: 'http://127.0.0.1:8787/api/v1/' }, 'http://127.0.0.1:8787/api/v1/chat/completions'],
    [{ apiBase: 'https://proxy.test/v1//' }, 'https://proxy.test/v1/chat/completions'],
    [{ tokenApiBase: 'https://broker.test/api/v1/' }, 'https://broker.test/api/v1/chat/completions'],
    [{ apiBase: 'https://explicit.test/api/v1', tokenApiBase: 'https://broker.test/api/v1' }, 'https://explicit.test/api/v1/chat/completions'],
  ])('base %j → %s', async (options, url) => {
    const { stub, send } = setup([chunked([sse(['x'])])], options);
    await send();
    expect(stub.calls[0]?.url).toBe(url);
  });
});

describe('streaming the answer', () => {
  const answer = 'Hello, café ☕ — 👋 done.';
  const body = encoder.encode(sse(['Hello, ', 'café ', '☕ — ', '👋 done.']));

  it.each(chunkings(body, 7).map((c) => [c.name, c.chunks] as const))('SSE bytes cut %s give the same answer', async (_name, chunks) => {
    const { deltas, send } = setup([chunked(chunks)]);
    await send();
    expect(deltas.join('')).toBe(answer);
  });

  it('joins a multi-byte character split between two chunks', async () => {
    const bytes = encoder.encode('data: {"choices":[{"delta":{"content":"☕"}}]}\n\ndata: [DONE]\n\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the 3-byte ☕
    const { deltas, send } = setup([chunked([bytes.slice(0, cut), bytes.slice(cut)])]);
    await send();
    expect(deltas).toEqual(['☕']);
  });

  it('reports the first byte once, before the first delta', async () => {
    const { events, send } = setup([chunked(['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', 'data: {"choices":[{"delta":{"content":"b"}}]}\n\n'])]);
    await send();
    expect(events).toEqual(['first-byte', 'delta', 'delta']);
  });

  it('format text: the body is the answer verbatim, whatever the content type says (section 9.1)', async () => {
    const raw = 'data: {"not":"an event"}\n\n{ still text }';
    const { deltas, send } = setup([chunked([raw.slice(0, 5), raw.slice(5)], 'text/event-stream')], { format: 'text' });
    await send();
    expect(deltas.join('')).toBe(raw);
  });

  it('ends at EOF when [DONE] is missing', async () => {
    const { deltas, send } = setup([chunked([sse(['a', 'b'], false)])]);
    await send();
    expect(deltas.join('')).toBe('ab');
  });

  it('stops reading at [DONE] and ignores what follows', async () => {
    const body = controlledBody();
    const { deltas, send } = setup([streaming(body)]);
    const result = track(send());
    body.push(sse(['a']));
    body.push('data: {"choices":[{"delta":{"content":"late"}}]}\n\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(result.done).toBe(true);
    expect(result.error).toBeUndefined();
    expect(deltas).toEqual(['a']);
    expect(body.cancelled).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('retries before the first byte (rule 5, reliability C8, D10)', () => {
  it('401: invalidates the token, gets a new one, retries once', async () => {
    const { stub, invalidated, deltas, send } = setup([json({ detail: 'Invalid API key' }, 401), chunked([sse(['ok'])])]);
    await send();
    expect(stub.calls).toHaveLength(2);
    expect(invalidated).toEqual(['tok-1']);
    expect(stub.calls.map((call) => call.headers.get('authorization'))).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(deltas).toEqual(['ok']);
  });

  it('a second 401 is an auth error, with no loop', async () => {
    const { stub, invalidated, send } = setup([status(401)]);
    const error = await failure(send());
    expect(error).toMatchObject({ code: 'auth', status: 401 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(stub.calls).toHaveLength(2);
    expect(invalidated).toEqual(['tok-1']);
  });

  it('401 with the real token provider: exactly one refresh and one retry', async () => {
    const stub = createFetchStub();
    let tokenRequests = 0;
    let chatRequests = 0;
    stub.queue(async (url, init) => {
      if (url.endsWith('/token')) {
        tokenRequests++;
        return json({ token: `tok-${tokenRequests}`, expiresIn: 600 })(url, init);
      }
      chatRequests++;
      return chatRequests === 1 ? status(401)(url, init) : chunked([sse(['fine'])])(url, init);
    });
    const tokens = createTokenProvider({ agentId: AGENT, endpoint: 'https://site.test/token', fetch: stub.fetch });
    const transport = createHttpTransport({ agentId: AGENT, format: 'json', tokens, fetch: stub.fetch, apiBase: 'https://api.test/v1' });
    const deltas: string[] = [];
    await transport.send({ messages: MESSAGES, signal: new AbortController().signal, onDelta: (d) => deltas.push(d) });
    expect(tokenRequests).toBe(2);
    expect(chatRequests).toBe(2);
    expect(stub.calls[3]?.headers.get('authorization')).toBe('Bearer tok-2');
    expect(deltas).toEqual(['fine']);
  });

  it('403 is an auth error, not retried', async () => {
    const { stub, send } = setup([json({ detail: 'Forbidden' }, 403)]);
    await expect(send()).rejects.toMatchObject({ code: 'auth', status: 403, message: 'Chat is unavailable on this page.' });
    expect(stub.calls).toHaveLength(1);
  });

  it('404 is a config error: the assistant could not be found', async () => {
    const { stub, send } = setup([json({ detail: 'Agent not found' }, 404)]);
    await expect(send()).rejects.toMatchObject({ code: 'config', status: 404, message: 'Agent not found.' });
    expect(stub.calls).toHaveLength(1);
  });

  it('429 with Retry-After: 2 waits 2 s, then succeeds', async () => {
    const { stub, deltas, send } = setup([json({ detail: 'Too many requests' }, 429, { 'Retry-After': '2' }), chunked([sse(['ok'])])]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(1_999);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(2);
    expect(result).toEqual({ done: true });
    expect(deltas).toEqual(['ok']);
  });

  it.each([429, 503])('%i three times: at most 2 retries, then rate_limited with retryAfterMs', async (code) => {
    const { stub, send } = setup([status(code, { 'Retry-After': '2' })]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(4_000);
    expect(stub.calls).toHaveLength(3);
    expect(result.error).toBeInstanceOf(WidgetError);
    expect(result.error).toMatchObject({ code: 'rate_limited', status: code, retryAfterMs: 2_000 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(stub.calls).toHaveLength(3);
  });

  it('Retry-After over 60 s is capped: normal backoff, and retryAfterMs reports 60 s', async () => {
    const { stub, send } = setup([status(429, { 'Retry-After': '3600' })]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(499);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stub.calls).toHaveLength(3);
    expect(result.error).toMatchObject({ code: 'rate_limited', retryAfterMs: 60_000 });
  });

  it('5xx: retried once after a backoff, then succeeds', async () => {
    const { stub, deltas, send } = setup([status(500), chunked([sse(['ok'])])]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(499);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toEqual({ done: true });
    expect(stub.calls).toHaveLength(2);
    expect(deltas).toEqual(['ok']);
  });

  it('5xx twice: a server error, no third try, no HTML in the message', async () => {
    const { stub, send } = setup([status(500), text('<html><body>Bad Gateway</body></html>', 502, 'text/html')]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(2);
    expect(result.error).toMatchObject({ code: 'server', status: 502 });
    expect((result.error as Error).message).not.toContain('<');
  });

  it('a network error before any byte is retried once', async () => {
    const { stub, deltas, send } = setup([networkError(), chunked([sse(['ok'])])]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(500);
    expect(stub.calls).toHaveLength(2);
    expect(result).toEqual({ done: true });
    expect(deltas).toEqual(['ok']);
  });

  it('two network errors: a network error', async () => {
    const { stub, send } = setup([networkError('Load failed')]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(2);
    expect(result.error).toMatchObject({ code: 'network', afterBytes: false });
  });

  it('a token error is passed on and nothing is POSTed', async () => {
    const { stub, tokens, send } = setup([chunked([sse(['x'])])]);
    const error = new WidgetError('auth', 'Chat is unavailable on this page.', { status: 403 });
    vi.mocked(tokens.get).mockRejectedValueOnce(error);
    await expect(send()).rejects.toBe(error);
    expect(stub.calls).toHaveLength(0);
  });
});

describe('never a retry after bytes (rule 5, reliability D1, D12)', () => {
  it('a connection reset after the first delta: interrupted, partial kept, one POST', async () => {
    const body = controlledBody();
    const { stub, deltas, send } = setup([streaming(body), chunked([sse(['again'])])]);
    const result = track(send());
    body.push(sse(['Hello '], false));
    await vi.advanceTimersByTimeAsync(0);
    body.error(new TypeError('Load failed'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(result.error).toBeInstanceOf(WidgetError);
    expect(result.error).toMatchObject({ code: 'interrupted', afterBytes: true });
    expect(deltas).toEqual(['Hello ']);
    expect(stub.calls).toHaveLength(1);
  });

  it('an AbortError from the read that is not ours is interrupted, not a stop', async () => {
    const body = controlledBody();
    const { send } = setup([streaming(body)]);
    const result = track(send());
    body.push(sse(['a'], false));
    await vi.advanceTimersByTimeAsync(0);
    body.error(new DOMException('The user aborted a request.', 'AbortError'));
    await vi.advanceTimersByTimeAsync(0);
    expect(result.error).toMatchObject({ code: 'interrupted', afterBytes: true });
  });

  it('an error event mid-stream: the decoder error, afterBytes, one POST', async () => {
    const { stub, deltas, send } = setup([
      chunked([sse(['one ', 'two'], false) + 'data: {"error":{"message":"Upstream model error","type":"server_error"}}\n\n']),
    ]);
    const error = await failure(send());
    expect(error).toMatchObject({ code: 'server', afterBytes: true });
    expect(error.message).toContain('Upstream model error');
    expect(deltas.join('')).toBe('one two');
    expect(stub.calls).toHaveLength(1);
  });
});

describe('idle timeout (reliability D2, D3)', () => {
  it('45 s of silence after a delta: interrupted, partial delivered, read cancelled', async () => {
    const body = controlledBody();
    const { deltas, send } = setup([streaming(body)]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(10_000);
    body.push(sse(['partial'], false));
    await vi.advanceTimersByTimeAsync(44_999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(result.error).toBeInstanceOf(WidgetError);
    expect(result.error).toMatchObject({ code: 'interrupted', afterBytes: true });
    expect(deltas).toEqual(['partial']);
    expect(body.cancelled).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('headers then no byte at all for 45 s: interrupted', async () => {
    const body = controlledBody();
    const { stub, send } = setup([streaming(body)]);
    const result = track(send());
    await vi.advanceTimersByTimeAsync(45_000);
    expect(result.error).toMatchObject({ code: 'interrupted' });
    expect(stub.calls).toHaveLength(1);
  });

  it('keep-alive comments every 30 s reset the timer; the answer completes', async () => {
    const body = controlledBody();
    const { deltas, send } = setup([streaming(body)]);
    const result = track(send());
    body.push(sse(['start '], false));
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(30_000);
      body.push(': keep-alive\n\n');
    }
    await vi.advanceTimersByTimeAsync(30_000);
    expect(result.done).toBe(false);
    body.push('data: {"choices":[{"delta":{"content":"end"}}]}\n\ndata: [DONE]\n\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(result).toEqual({ done: true });
    expect(deltas.join('')).toBe('start end');
  });

  it('honours a configured idle timeout', async () => {
    const body = controlledBody();
    const { send } = setup([streaming(body)], { idleTimeoutMs: 5_000 });
    const result = track(send());
    await vi.advanceTimersByTimeAsync(4_999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(result.error).toMatchObject({ code: 'interrupted' });
  });
});

describe('abort (style rule 10, reliability D4)', () => {
  it('mid-stream: rejects with an AbortError, keeps the partial text, cancels the read', async () => {
    const body = controlledBody();
    const { deltas, send } = setup([streaming(body)]);
    const controller = new AbortController();
    const result = track(send(controller.signal));
    body.push(sse(['kept'], false));
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(result.error).toMatchObject({ name: 'AbortError' });
    expect(result.error).not.toBeInstanceOf(WidgetError);
    expect(deltas).toEqual(['kept']);
    expect(body.cancelled).toBe(true);
    body.push(sse(['after stop']));
    await vi.advanceTimersByTimeAsync(0);
    expect(deltas).toEqual(['kept']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('while the request is pending: AbortError and the fetch is aborted', async () => {
    const { stub, send } = setup([hang()]);
    const controller = new AbortController();
    const pending = send(controller.signal);
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(stub.calls[0]?.init.signal?.aborted).toBe(true);
    expect(stub.calls).toHaveLength(1);
  });

  it('during a Retry-After wait: AbortError at once, no second POST', async () => {
    const { stub, send } = setup([status(429, { 'Retry-After': '30' }), chunked([sse(['x'])])]);
    const controller = new AbortController();
    const result = track(send(controller.signal));
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(result.error).toMatchObject({ name: 'AbortError' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('already aborted: nothing is sent', async () => {
    const { stub, send } = setup([chunked([sse(['x'])])]);
    const controller = new AbortController();
    controller.abort();
    await expect(send(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(stub.calls).toHaveLength(0);
  });
});

describe('error bodies → short messages (codegpt-api.md sections 4, 9.7)', () => {
  const bodies: [string, number, Handler, string | undefined][] = [
    ['{detail: string}', 400, json({ detail: 'Bad request' }, 400), 'Bad request'],
    ['{detail: [{msg}]} (FastAPI 422)', 422, json({ detail: [{ loc: ['body', 'agentId'], msg: 'field required', type: 'value_error.missing' }] }, 422), 'field required'],
    ['{error: string[]}', 400, json({ error: ['Something went wrong'] }, 400), 'Something went wrong'],
    ['{error: {message}}', 400, json({ error: { message: 'History too long', code: 'bad_request' } }, 400), 'History too long'],
    ['{error: string}', 413, json({ error: 'Message too large' }, 413), 'Message too large'],
    ['plain text', 400, text('Bad things happened on the server side', 400), undefined],
    ['HTML', 400, text('<html><head><title>400</title></head><body><h1>Bad Request</h1></body></html>', 400, 'text/html'), undefined],
    ['HTML labelled JSON', 400, text('<html><body>oops</body></html>', 400, 'application/json'), undefined],
    ['empty', 400, status(400), undefined],
    ['detail with markup', 400, json({ detail: '<img src=x onerror=alert(1)>' }, 400), undefined],
    ['a long detail', 422, json({ detail: 'x'.repeat(500) }, 422), undefined],
    ['a detail echoing the token', 400, json({ detail: 'Invalid API key tok-1' }, 400), undefined],
    ['a detail with control characters', 400, json({ detail: 'a\u0000b' }, 400), undefined],
  ];

  it.each(bodies)('%s → a short server message', async (_name, code, handler, detail) => {
    const { stub, send } = setup([handler]);
    const error = await failure(send());
    expect(error.code).toBe('server');
    expect(error.status).toBe(code);
    expect(error.message).not.toContain('<');
    expect(error.message).not.toContain('tok-1');
    expect(error.message).not.toMatch(/[{}]/);
    expect(error.message.length).toBeLessThanOrEqual(160);
    if (detail) expect(error.message).toContain(detail);
    else expect(error.message).toBe('Chat request refused.');
    expect(stub.calls).toHaveLength(1);
  });

  it('reads at most 16 KiB of an error body', async () => {
    const big = endless(4096, 'application/json', 400);
    const { send } = setup([big.handler]);
    const error = await failure(send());
    expect(error.message).toBe('Chat request refused.');
    expect(big.state.cancelled).toBe(true);
    expect(big.state.sent).toBeLessThanOrEqual(16 * 1024 + 3 * 4096);
  });

  it('an error body that never ends gives up after 10 s', async () => {
    const body = controlledBody();
    const { send } = setup([streaming(body, 'application/json', 400)]);
    body.push('{"detail": "never fin');
    const result = track(send());
    await vi.advanceTimersByTimeAsync(9_999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(result.error).toMatchObject({ code: 'server', status: 400, message: 'Chat request refused.' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('200 bodies that are not a stream (reliability D8, codegpt-api.md 9.6)', () => {
  it('text/html is never fed to the decoder: bad_response, no delta', async () => {
    const { stub, deltas, send } = setup([text('<html><body>Sign in to continue</body></html>', 200, 'text/html; charset=utf-8')]);
    const error = await failure(send());
    expect(error.code).toBe('bad_response');
    expect(error.message).not.toContain('<');
    expect(deltas).toEqual([]);
    expect(stub.calls).toHaveLength(1);
  });

  it('text/html is refused under format text too', async () => {
    const { deltas, send } = setup([text('<html>login</html>', 200, 'text/html')], { format: 'text' });
    await expect(send()).rejects.toMatchObject({ code: 'bad_response' });
    expect(deltas).toEqual([]);
  });

  it.each([
    ['{detail}', { detail: 'Upstream failure' }, 'Upstream failure'],
    ['{error: {message}}', { error: { message: 'Model overloaded', type: 'server_error' } }, 'Model overloaded'],
  ])('application/json %s → a server error with its message', async (_name, body, message) => {
    const { stub, deltas, send } = setup([json(body)]);
    const error = await failure(send());
    expect(error).toMatchObject({ code: 'server', status: 200, afterBytes: true });
    expect(error.message).toContain(message);
    expect(deltas).toEqual([]);
    expect(stub.calls).toHaveLength(1);
  });

  it('an error message with markup is replaced by the fixed one', async () => {
    const { send } = setup([json({ error: '<b>broken</b>' })]);
    const error = await failure(send());
    expect(error.code).toBe('server');
    expect(error.message).toBe('The server reported an error.');
  });

  it('a non-stream completion is delivered as one delta', async () => {
    const answer = 'Hello café ☕\n\n```js\nlet a = "{";\n```';
    const { deltas, events, send } = setup([
      json({ agentName: 'Bot', choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }] }),
    ]);
    await send();
    expect(deltas).toEqual([answer]);
    expect(events).toEqual(['first-byte', 'delta']);
  });

  it.each<StreamFormat>(['text', 'json'])('a JSON string body (format %s) is the answer, unquoted', async (format) => {
    const { deltas, send } = setup([json(JSON.stringify('He said "hi"\nthen left.'))], { format });
    await send();
    expect(deltas).toEqual(['He said "hi"\nthen left.']);
  });

  it('bare JSON chunks streamed under application/json still decode (March 2024 shape)', async () => {
    const chunk = (content: string) => JSON.stringify({ choices: [{ delta: { content } }] });
    const { deltas, send } = setup([chunked([chunk('Hel'), chunk('lo'), chunk('!')], 'application/json')]);
    await send();
    expect(deltas.join('')).toBe('Hello!');
  });

  it('format text: invalid JSON under application/json is raw text', async () => {
    const { deltas, send } = setup([text('{ not json', 200, 'application/json')], { format: 'text' });
    await send();
    expect(deltas.join('')).toBe('{ not json');
  });

  it.each([
    ['an empty body', text('', 200, 'application/json')],
    ['whitespace', text('  \n', 200, 'application/json')],
    ['an object with no answer', json({ foo: 1 })],
    ['a 204', status(204)],
  ])('%s → bad_response', async (_name, handler) => {
    const { send } = setup([handler]);
    await expect(send()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('a JSON body over 1 MiB is refused and its read cancelled', async () => {
    const big = endless(64 * 1024, 'application/json');
    const { send } = setup([big.handler]);
    const error = await failure(send());
    expect(error.code).toBe('bad_response');
    expect(big.state.cancelled).toBe(true);
    expect(big.state.sent).toBeLessThanOrEqual(1_048_576 + 3 * 64 * 1024);
  });

  it('text/event-stream is decoded as a stream even under format json with odd casing', async () => {
    const { deltas, send } = setup([chunked([sse(['ok'])], 'Text/Event-Stream; charset=UTF-8')]);
    await send();
    expect(deltas).toEqual(['ok']);
  });
});

describe('no leaked timers', () => {
  it('none after a success, a retry or a failure', async () => {
    const ok = setup([status(500), chunked([sse(['ok'])])]);
    const done = track(ok.send());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done).toEqual({ done: true });
    expect(vi.getTimerCount()).toBe(0);

    const failed = setup([json({ detail: 'x' }, 400)]);
    await expect(failed.send()).rejects.toBeInstanceOf(WidgetError);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('a fresh cached token', () => {
  it('starts the request within the send() call itself, before anything else runs', async () => {
    const stub = createFetchStub(chunked([sse(['ok'])]));
    const info: TokenInfo = { token: 'tok-cached', apiBase: undefined };
    const tokens: TokenProvider = { get: vi.fn(async () => info), peek: () => info, invalidate() {}, prefetch() {}, dispose() {} };
    const transport = createHttpTransport({ agentId: AGENT, format: 'json', tokens, fetch: stub.fetch, random: () => 0.5 });
    const deltas: string[] = [];
    const done = transport.send({ messages: MESSAGES, signal: new AbortController().signal, onDelta: (d) => deltas.push(d) });
    expect(stub.calls).toHaveLength(1);
    expect(stub.calls[0]!.headers.get('authorization')).toBe('Bearer tok-cached');
    expect(tokens.get).not.toHaveBeenCalled();
    await done;
    expect(deltas).toEqual(['ok']);
  });
});

