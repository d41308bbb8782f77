import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { WidgetError } from '../../widget/core/errors';
import { acquireTokenProvider, createTokenProvider } from '../../widget/io/token-provider';
import type { TokenProviderOptions } from '../../widget/io/token-provider';
import { createFetchStub, endless, failure, hang, json, networkError, status, text, track } from './fetch-stub';
import type { Handler } from './fetch-stub';

const ENDPOINT = 'https://site.test/api/codegpt/token';
const AGENT = 'agent-1';
const TOKEN = 'tok_SECRET-0123456789abcdef';
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function ok(token = TOKEN, expiresIn = 600, extra: Record<string, unknown> = {}): Handler {
  return json({ token, expiresIn, tokenType: 'Bearer', ...extra });
}

/** A provider on a stubbed fetch, fake timers, fixed jitter (backoff exactly 500 ms, 1 s) and a manual monotonic clock. */
function setup(handlers: Handler[], options: Partial<TokenProviderOptions> = {}) {
  const stub = createFetchStub(...handlers);
  const clock = { now: 0 };
  const provider = createTokenProvider({
    agentId: AGENT,
    endpoint: ENDPOINT,
    fetch: stub.fetch,
    random: () => 0.5,
    now: () => clock.now,
    ...options,
  });
  return { stub, provider, clock };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the token request', () => {
  it('POSTs {agentId, widgetVersion} as JSON with no-store and same-origin credentials by default', async () => {
    const { stub, provider } = setup([ok()]);
    await expect(provider.get()).resolves.toEqual({ token: TOKEN, apiBase: undefined });
    expect(stub.calls).toHaveLength(1);
    const [call] = stub.calls;
    expect(call?.url).toBe(ENDPOINT);
    expect(call?.init.method).toBe('POST');
    expect(call?.headers.get('content-type')).toBe('application/json');
    expect(call?.init.credentials).toBe('same-origin');
    expect(call?.init.cache).toBe('no-store');
    expect(call?.body).toEqual({ agentId: AGENT, widgetVersion: pkg.version });
    expect(call?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('fetches nothing until asked (rule 1: lazily)', async () => {
    const { stub } = setup([ok()]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(0);
  });

  it('uses the configured credentials mode', async () => {
    const { stub, provider } = setup([ok()], { credentials: 'include' });
    await provider.get();
    expect(stub.calls[0]?.init.credentials).toBe('include');
  });

  it('returns a valid apiBase with the token', async () => {
    for (const apiBase of ['https://api.example.test/api/v1', 'http://localhost:8787/api/v1', 'http://127.0.0.1/v1', 'http://[::1]:3000/api/v1']) {
      const { provider } = setup([ok(TOKEN, 600, { apiBase })]);
      await expect(provider.get()).resolves.toEqual({ token: TOKEN, apiBase });
    }
  });

  it('leaves no timer behind once a token arrived', async () => {
    const { provider } = setup([ok()]);
    await provider.get();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('needs an endpoint or getToken', () => {
    expect(() => createTokenProvider({ agentId: AGENT, fetch: createFetchStub().fetch })).toThrow(TypeError);
  });
});

describe('single flight (rule 2, reliability C1)', () => {
  it('shares one request among 10 concurrent callers', async () => {
    const { stub, provider } = setup([ok()]);
    const results = await Promise.all(Array.from({ length: 10 }, () => provider.get()));
    expect(stub.calls).toHaveLength(1);
    for (const result of results) expect(result.token).toBe(TOKEN);
  });

  it('serves later callers from the cache while the token is fresh', async () => {
    const { stub, provider, clock } = setup([ok()]);
    await provider.get();
    clock.now = 100_000;
    await provider.get();
    expect(stub.calls).toHaveLength(1);
  });

  it('one caller aborting does not abort the shared request', async () => {
    const { stub, provider } = setup([ok()]);
    const controller = new AbortController();
    const first = provider.get(controller.signal);
    const second = provider.get();
    controller.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await expect(second).resolves.toMatchObject({ token: TOKEN });
    expect(stub.calls[0]?.init.signal?.aborted).toBe(false);
  });

  it('peek gives the cached token while it is fresh, and nothing before, once stale, invalidated or disposed', async () => {
    const { provider, clock } = setup([ok(), ok('tok-2')]);
    expect(provider.peek()).toBeUndefined();
    await provider.get();
    expect(provider.peek()).toEqual({ token: TOKEN, apiBase: undefined });
    // 600 s tokens are refreshed when less than 120 s remain.
    clock.now = 479_999;
    expect(provider.peek()?.token).toBe(TOKEN);
    clock.now = 480_000;
    expect(provider.peek()).toBeUndefined();
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-2' });
    expect(provider.peek()?.token).toBe('tok-2');
    provider.invalidate('tok-2');
    expect(provider.peek()).toBeUndefined();
    provider.dispose();
    expect(provider.peek()).toBeUndefined();
  });

  it('prefetch warms the cache; get() then needs no request', async () => {
    const { stub, provider } = setup([ok()]);
    provider.prefetch();
    provider.prefetch();
    await vi.advanceTimersByTimeAsync(0);
    expect(stub.calls).toHaveLength(1);
    await provider.get();
    expect(stub.calls).toHaveLength(1);
  });
});

describe('shared registry (acquireTokenProvider)', () => {
  it('shares one provider per (endpoint, agentId) and keeps agents apart (reliability E9)', async () => {
    const stub = createFetchStub(ok('tok-a'), ok('tok-b'));
    const options = { endpoint: ENDPOINT, fetch: stub.fetch };
    const a1 = acquireTokenProvider({ ...options, agentId: 'agent-a' });
    const a2 = acquireTokenProvider({ ...options, agentId: 'agent-a' });
    const b = acquireTokenProvider({ ...options, agentId: 'agent-b' });
    expect(a1.provider).toBe(a2.provider);
    expect(b.provider).not.toBe(a1.provider);

    const [x, y] = await Promise.all([a1.provider.get(), a2.provider.get()]);
    expect(stub.calls).toHaveLength(1);
    expect(x.token).toBe('tok-a');
    expect(y.token).toBe('tok-a');
    await expect(b.provider.get()).resolves.toMatchObject({ token: 'tok-b' });
    expect(stub.calls).toHaveLength(2);
    expect(stub.calls.map((call) => (call.body as { agentId: string }).agentId)).toEqual(['agent-a', 'agent-b']);
    a1.release();
    a2.release();
    b.release();
  });

  it('separates providers for different endpoints', () => {
    const stub = createFetchStub();
    const a = acquireTokenProvider({ agentId: AGENT, endpoint: ENDPOINT, fetch: stub.fetch });
    const b = acquireTokenProvider({ agentId: AGENT, endpoint: 'https://other.test/token', fetch: stub.fetch });
    expect(a.provider).not.toBe(b.provider);
    a.release();
    b.release();
  });

  it('disposes only when the last user releases; a release twice counts once', async () => {
    const stub = createFetchStub(ok('tok-1'), ok('tok-2'));
    const options = { agentId: AGENT, endpoint: ENDPOINT, fetch: stub.fetch };
    const first = acquireTokenProvider(options);
    const second = acquireTokenProvider(options);
    await first.provider.get();
    first.release();
    first.release();
    await expect(second.provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    second.release();
    await expect(second.provider.get()).rejects.toMatchObject({ name: 'AbortError' });

    const third = acquireTokenProvider(options);
    expect(third.provider).not.toBe(second.provider);
    await expect(third.provider.get()).resolves.toMatchObject({ token: 'tok-2' });
    third.release();
  });

  it('never shares instances that use getToken', () => {
    const getToken = async () => ({ token: TOKEN, expiresIn: 600 });
    const stub = createFetchStub();
    const a = acquireTokenProvider({ agentId: AGENT, getToken, fetch: stub.fetch });
    const b = acquireTokenProvider({ agentId: AGENT, getToken, fetch: stub.fetch });
    expect(a.provider).not.toBe(b.provider);
    a.release();
    b.release();
  });
});

describe('expiry and refresh (rule 4, reliability C7)', () => {
  it.each([
    // [expiresIn, last ms served from cache, first ms that refreshes]
    [60, 29_999, 30_000], // margin max(30 s, 12 s) = 30 s
    [3600, 2_879_999, 2_880_000], // margin 20 % = 720 s
    [600, 479_999, 480_000], // margin 120 s
    [100, 69_999, 70_000], // margin max(30 s, 20 s) = 30 s
  ])('ttl %i s: cached until %i ms, refreshed from %i ms', async (expiresIn, cachedUntil, refreshFrom) => {
    const { stub, provider, clock } = setup([ok('tok-1', expiresIn), ok('tok-2', expiresIn)]);
    await provider.get();
    clock.now = cachedUntil;
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    expect(stub.calls).toHaveLength(1);
    clock.now = refreshFrom;
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-2' });
    expect(stub.calls).toHaveLength(2);
  });

  it('counts from when the request was sent, not when it answered', async () => {
    const { stub, provider, clock } = setup([
      async () => {
        clock.now = 5_000; // the answer took 5 s
        return ok('tok-1', 60)('', {});
      },
      ok('tok-2', 60),
    ]);
    await provider.get();
    clock.now = 29_999;
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    clock.now = 30_000;
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-2' });
    expect(stub.calls).toHaveLength(2);
  });

  it('uses the monotonic clock: a wall-clock jump does not expire the token', async () => {
    const { stub, provider } = setup([ok('tok-1', 60), ok('tok-2', 60)]);
    await provider.get();
    vi.setSystemTime(Date.now() + 3_600_000);
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    expect(stub.calls).toHaveLength(1);
  });

  it('invalidate(token) forgets that token only', async () => {
    const { stub, provider } = setup([ok('tok-1'), ok('tok-2')]);
    await provider.get();
    provider.invalidate('some-other-token');
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    provider.invalidate('tok-1');
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-2' });
    expect(stub.calls).toHaveLength(2);
  });
});

describe('retries (rule 6, reliability C2–C4, C6)', () => {
  it('500, 500, 200: retries after about 0.5 s and 1 s, and succeeds', async () => {
    const { stub, provider } = setup([status(500), status(500), ok()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(0);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(stub.calls).toHaveLength(2);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(3);
    expect(result).toMatchObject({ done: true, value: { token: TOKEN } });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('jitters the backoff with the random source', async () => {
    const { stub, provider } = setup([status(502), ok()], { random: () => 0 });
    track(provider.get());
    await vi.advanceTimersByTimeAsync(374);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // 500 × 0.75
    expect(stub.calls).toHaveLength(2);
  });

  it('gives up after 3 tries with a token error, and tries again only when asked', async () => {
    const { stub, provider } = setup([status(500), status(500), status(500), ok()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(3);
    expect(result.error).toBeInstanceOf(WidgetError);
    expect(result.error).toMatchObject({ code: 'token', status: 500 });
    provider.prefetch(); // a hover after a failure does not re-ask (reliability C3)
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(3);
    await expect(provider.get()).resolves.toMatchObject({ token: TOKEN }); // manual Retry
    expect(stub.calls).toHaveLength(4);
  });

  it('retries network errors, then fails with a network error', async () => {
    const { stub, provider } = setup([networkError()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(2_000);
    expect(stub.calls).toHaveLength(3);
    expect(result.error).toMatchObject({ code: 'network' });
  });

  it.each([401, 403])('%i: "unavailable on this page", no retry (reliability C3)', async (code) => {
    const { stub, provider } = setup([
      json({ error: { code: 'origin_not_allowed', message: 'Origin https://evil.test is not allowed' } }, code),
      ok(),
    ]);
    const error = await failure(provider.get());
    expect(error).toMatchObject({ code: 'auth', status: code, message: 'Chat is unavailable on this page.' });
    provider.prefetch();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(stub.calls).toHaveLength(1);
  });

  it('400: a token error, no retry', async () => {
    const { stub, provider } = setup([json({ error: { code: 'bad_request', message: 'x' } }, 400), ok()]);
    const error = await failure(provider.get());
    expect(error).toMatchObject({ code: 'token', status: 400 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(stub.calls).toHaveLength(1);
  });

  it('429 with Retry-After: 7 waits 7 s', async () => {
    const { stub, provider } = setup([status(429, { 'Retry-After': '7' }), ok()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(6_999);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(2);
    expect(result).toMatchObject({ done: true, value: { token: TOKEN } });
  });

  it('429 with an HTTP-date waits until that date', async () => {
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const date = new Date('2030-01-01T00:00:20Z').toUTCString();
    const { stub, provider } = setup([status(429, { 'Retry-After': date }), ok()]);
    track(provider.get());
    await vi.advanceTimersByTimeAsync(19_999);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(2);
  });

  it('Retry-After: 3600 is over the 60 s cap: falls back to the normal backoff', async () => {
    const { stub, provider } = setup([status(429, { 'Retry-After': '3600' }), ok()]);
    track(provider.get());
    await vi.advanceTimersByTimeAsync(499);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(2);
  });

  it('503 with Retry-After is honoured too and counts against the same 3 tries', async () => {
    const { stub, provider } = setup([status(503, { 'Retry-After': '2' }), status(500), status(503), ok()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(1_999);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(3);
    expect(result.error).toMatchObject({ code: 'token', status: 503 });
  });

  it('a final 429 is rate_limited with the capped retryAfterMs', async () => {
    const { provider } = setup([status(429, { 'Retry-After': '2' }), status(429, { 'Retry-After': '2' }), status(429, { 'Retry-After': '3600' })]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.error).toBeInstanceOf(WidgetError);
    expect(result.error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 60_000 });
  });

  it('a hanging endpoint is aborted after 10 s, then retried (reliability C6)', async () => {
    const { stub, provider } = setup([hang(), ok()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(9_999);
    expect(stub.calls[0]?.init.signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls[0]?.init.signal?.aborted).toBe(true);
    expect(stub.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(stub.calls).toHaveLength(2);
    expect(result).toMatchObject({ done: true, value: { token: TOKEN } });
  });

  it('an endpoint that always hangs ends in an error state after 3 tries', async () => {
    const { stub, provider } = setup([hang()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(10_000 + 500 + 10_000 + 1_000 + 9_999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toHaveLength(3);
    expect(result.error).toMatchObject({ code: 'network' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a body that never ends counts toward the same 10 s limit', async () => {
    const stalled: Handler = () =>
      new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"tok')) }), {
        headers: { 'content-type': 'application/json' },
      });
    const { stub, provider } = setup([stalled, ok()]);
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(10_000 + 500);
    expect(stub.calls).toHaveLength(2);
    expect(result).toMatchObject({ done: true, value: { token: TOKEN } });
  });
});

describe('response validation (rule 7, reliability C5)', () => {
  const malformed: [string, Handler][] = [
    ['a text/html login page', text('<html><body>Please log in</body></html>', 200, 'text/html')],
    ['no content type', () => new Response(JSON.stringify({ token: TOKEN, expiresIn: 600 }), { status: 200, headers: { 'content-type': '' } })],
    ['invalid JSON', text('{"token": "abc",', 200, 'application/json')],
    ['an empty body', text('', 200, 'application/json')],
    ['{}', json({})],
    ['an array', json([TOKEN])],
    ['null', json('null')],
    ['an empty token', json({ token: '', expiresIn: 600 })],
    ['a numeric token', json({ token: 12345, expiresIn: 600 })],
    ['a token with a line break', json({ token: `${TOKEN}\r\nX-Evil: 1`, expiresIn: 600 })],
    ['a token over 8 KiB', json({ token: 'a'.repeat(8193), expiresIn: 600 })],
    ['expiresIn -5', json({ token: TOKEN, expiresIn: -5 })],
    ['expiresIn "abc"', json({ token: TOKEN, expiresIn: 'abc' })],
    ['expiresIn "600" (a string)', json({ token: TOKEN, expiresIn: '600' })],
    ['expiresIn 1e12', json({ token: TOKEN, expiresIn: 1e12 })],
    ['expiresIn 29', json({ token: TOKEN, expiresIn: 29 })],
    ['expiresIn 3601', json({ token: TOKEN, expiresIn: 3601 })],
    ['missing expiresIn', json({ token: TOKEN })],
    ['apiBase javascript:', json({ token: TOKEN, expiresIn: 600, apiBase: 'javascript:alert(1)' })],
    ['apiBase http://evil.test', json({ token: TOKEN, expiresIn: 600, apiBase: 'http://evil.test/api/v1' })],
    ['apiBase http://localhost.evil.test', json({ token: TOKEN, expiresIn: 600, apiBase: 'http://localhost.evil.test' })],
    ['apiBase data:', json({ token: TOKEN, expiresIn: 600, apiBase: 'data:text/html,x' })],
    ['a relative apiBase', json({ token: TOKEN, expiresIn: 600, apiBase: '/api/v1' })],
    ['an apiBase with credentials', json({ token: TOKEN, expiresIn: 600, apiBase: 'https://user:pw@api.test' })],
    ['a numeric apiBase', json({ token: TOKEN, expiresIn: 600, apiBase: 42 })],
    ['a 204', status(204)],
  ];

  it.each(malformed)('%s → token error, not retried, body and token never in the message', async (_name, handler) => {
    const { stub, provider } = setup([handler, ok('tok-good')]);
    const error = await failure(provider.get());
    expect(error.code).toBe('token');
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain('<');
    expect(error.message).not.toMatch(/evil|alert|log in/i);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stub.calls).toHaveLength(1);
  });

  it('a 1 MB body is not read past 64 KiB', async () => {
    const big = endless(16 * 1024);
    const { provider } = setup([big.handler]);
    const error = await failure(provider.get());
    expect(error.code).toBe('token');
    expect(error.message).toMatch(/too large/);
    expect(big.state.cancelled).toBe(true);
    expect(big.state.sent).toBeLessThanOrEqual(64 * 1024 + 3 * 16 * 1024);
  });

  it('accepts "application/json; charset=utf-8" and ignores extra fields', async () => {
    const { provider } = setup([
      () =>
        new Response(JSON.stringify({ token: TOKEN, expiresIn: 30, tokenType: 'Bearer', expiresAt: 123 }), {
          headers: { 'Content-Type': 'Application/JSON; charset=utf-8' },
        }),
    ]);
    await expect(provider.get()).resolves.toEqual({ token: TOKEN, apiBase: undefined });
  });

  it('the token never appears in any error, whatever failed', async () => {
    const handlers: Handler[] = [
      json({ token: TOKEN, expiresIn: 1e12 }),
      json({ token: TOKEN, expiresIn: 600, apiBase: `https://x.test/${TOKEN}`.replace('https', 'ftp') }),
      json({ token: TOKEN, expiresIn: 600, apiBase: 'javascript:x' }),
      json({ detail: TOKEN }, 401),
      json({ detail: TOKEN }, 400),
      text(TOKEN, 200, 'text/html'),
    ];
    for (const handler of handlers) {
      const { provider } = setup([handler]);
      const error = await failure(provider.get());
      expect(error.message).not.toContain(TOKEN);
      expect(JSON.stringify(error)).not.toContain(TOKEN);
      expect(String(error.cause ?? '')).not.toContain(TOKEN);
    }
  });
});

describe('getToken instead of an endpoint', () => {
  it('validates the result like an endpoint answer', async () => {
    const stub = createFetchStub();
    const provider = createTokenProvider({
      agentId: AGENT,
      fetch: stub.fetch,
      getToken: async () => ({ token: TOKEN, expiresIn: 600, apiBase: 'https://api.example.test/api/v1' }),
    });
    await expect(provider.get()).resolves.toEqual({ token: TOKEN, apiBase: 'https://api.example.test/api/v1' });
    expect(stub.calls).toHaveLength(0);

    const bad = createTokenProvider({ agentId: AGENT, fetch: stub.fetch, getToken: async () => ({ token: TOKEN, expiresIn: 5 }) });
    await expect(bad.get()).rejects.toMatchObject({ code: 'token' });
  });

  it('a throwing getToken is one try and a token error; the next get() calls it again', async () => {
    const getToken = vi
      .fn<() => Promise<{ token: string; expiresIn: number }>>()
      .mockRejectedValueOnce(new Error(`host failure with ${TOKEN}`))
      .mockResolvedValueOnce({ token: TOKEN, expiresIn: 600 });
    const provider = createTokenProvider({ agentId: AGENT, fetch: createFetchStub().fetch, getToken });
    const error = await failure(provider.get());
    expect(error.code).toBe('token');
    expect(error.message).not.toContain(TOKEN);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(getToken).toHaveBeenCalledTimes(1);
    await expect(provider.get()).resolves.toMatchObject({ token: TOKEN });
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  it('a getToken that throws synchronously is handled the same way', async () => {
    const provider = createTokenProvider({
      agentId: AGENT,
      fetch: createFetchStub().fetch,
      getToken: () => {
        throw new Error('sync');
      },
    });
    await expect(provider.get()).rejects.toMatchObject({ code: 'token' });
  });

  it('passes a WidgetError thrown by getToken through unchanged', async () => {
    const own = new WidgetError('auth', 'Please sign in.');
    const provider = createTokenProvider({ agentId: AGENT, fetch: createFetchStub().fetch, getToken: () => Promise.reject(own) });
    await expect(provider.get()).rejects.toBe(own);
  });

  it('a getToken that never settles fails after 10 s and leaves no timer', async () => {
    const provider = createTokenProvider({ agentId: AGENT, fetch: createFetchStub().fetch, getToken: () => new Promise(() => {}) });
    const result = track(provider.get());
    await vi.advanceTimersByTimeAsync(9_999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(result.error).toMatchObject({ code: 'token' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('dispose', () => {
  it('rejects pending calls with an AbortError, aborts the request and clears every timer', async () => {
    const { stub, provider } = setup([hang()]);
    const pending = provider.get();
    await vi.advanceTimersByTimeAsync(0);
    provider.dispose();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(stub.calls[0]?.init.signal?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await expect(provider.get()).rejects.toMatchObject({ name: 'AbortError' });
    provider.prefetch(); // harmless
    expect(stub.calls).toHaveLength(1);
  });

  it('ends a backoff wait at once', async () => {
    const { stub, provider } = setup([status(500), ok()]);
    const pending = provider.get();
    await vi.advanceTimersByTimeAsync(100);
    provider.dispose();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stub.calls).toHaveLength(1);
  });

  it('ends a pending getToken and clears its timer', async () => {
    const provider = createTokenProvider({ agentId: AGENT, fetch: createFetchStub().fetch, getToken: () => new Promise(() => {}) });
    const pending = provider.get();
    provider.dispose();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
