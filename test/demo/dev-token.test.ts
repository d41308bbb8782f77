import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevTokenEndpoint, DEV_TOKEN_OUTCOMES } from '../../demo/dev-token';
import { startDemoServer, type DemoServer } from '../../demo/server';
import { serve } from './helpers';

const BODY = JSON.stringify({ agentId: 'docs-agent', widgetVersion: '0.1.0' });

describe('development token endpoint (embed.md section 5)', () => {
  let server: DemoServer;
  let n = 0;
  /** A fresh key per call site, so tests never share a script position. */
  const key = () => `t${(n += 1)}`;
  const token = (query = '', init: RequestInit = {}) =>
    fetch(`${server.url}/dev/token${query}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: BODY, ...init });
  const calls = async (k: string) => ((await (await fetch(`${server.url}/dev/token/stats?key=${k}`)).json()) as { calls: number }).calls;

  beforeAll(async () => {
    server = await startDemoServer({ port: 0 });
  });
  afterAll(() => server.close());

  it('issues { token, expiresIn, tokenType, apiBase } with Cache-Control: no-store', async () => {
    const res = await token();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      token: expect.stringMatching(/^sk-dev-[0-9a-f]{32}$/),
      expiresIn: 600,
      tokenType: 'Bearer',
      apiBase: `${server.url}/api/v1`,
    });
  });

  it('the token works against the mock at apiBase, and differs on every call', async () => {
    const a = (await (await token()).json()) as { token: string; apiBase: string };
    const b = (await (await token()).json()) as { token: string };
    expect(a.token).not.toBe(b.token);
    const res = await fetch(`${a.apiBase}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: 'echo-agent', messages: [{ role: 'user', content: 'hi' }], stream: false }),
    });
    expect(res.status).toBe(200);
  });

  it('ttl sets expiresIn', async () => {
    expect(((await (await token('?ttl=60')).json()) as { expiresIn: number }).expiresIn).toBe(60);
  });

  it.each([
    ['no agentId', { widgetVersion: '1' }, 'application/json', '"agentId" must be a non-empty string.'],
    ['an empty agentId', { agentId: '', widgetVersion: '1' }, 'application/json', '"agentId" must be a non-empty string.'],
    ['no widgetVersion', { agentId: 'a' }, 'application/json', '"widgetVersion" must be a non-empty string.'],
    ['invalid JSON', '{', 'application/json', 'The body is not valid JSON.'],
    ['a non-object', '[1]', 'application/json', '"agentId" must be a non-empty string.'],
    ['a text/plain body', { agentId: 'a', widgetVersion: '1' }, 'text/plain', 'Content-Type must be application/json.'],
  ])('%s → 400 bad_request', async (_name, body, type, message) => {
    const res = await token('', { headers: { 'Content-Type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message } });
  });

  it('script: outcomes are consumed one per call for that key, then 200; stats count every call', async () => {
    const k = key();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await token(`?script=500,500,200,401&key=${k}`)).status);
    expect(statuses).toEqual([500, 500, 200, 401]);
    expect((await token(`?script=500,500,200,401&key=${k}`)).status).toBe(200);
    expect(await calls(k)).toBe(5);
    expect(await calls(key())).toBe(0);
    expect(server.devToken.calls(k)).toBe(5);
  });

  it('keys are independent; no key means "default"', async () => {
    const a = key();
    const b = key();
    expect((await token(`?script=503&key=${a}`)).status).toBe(503);
    expect((await token(`?script=503&key=${b}`)).status).toBe(503);
    expect((await token(`?script=503&key=${a}`)).status).toBe(200);
    const before = await calls('default');
    await token();
    expect(await calls('default')).toBe(before + 1);
  });

  it.each([
    ['401', 401, 'unauthenticated'],
    ['403', 403, 'origin_not_allowed'],
    ['429', 429, 'rate_limited'],
    ['500', 500, 'unavailable'],
    ['503', 503, 'unavailable'],
  ])('%s → status %i with error.code %s', async (outcome, status, code) => {
    const res = await token(`?script=${outcome}&key=${key()}`);
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('429 and 503 carry Retry-After (default 1, or retryAfter); 401 does not', async () => {
    expect((await token(`?script=429&key=${key()}`)).headers.get('retry-after')).toBe('1');
    expect((await token(`?script=429&retryAfter=7&key=${key()}`)).headers.get('retry-after')).toBe('7');
    expect((await token(`?script=503&retryAfter=3600&key=${key()}`)).headers.get('retry-after')).toBe('3600');
    expect((await token(`?script=401&key=${key()}`)).headers.get('retry-after')).toBeNull();
  });

  it('429date: Retry-After is an HTTP-date retryAfter seconds ahead', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2030-01-02T03:04:05Z') });
    try {
      const res = await token(`?script=429date&retryAfter=7&key=${key()}`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('Wed, 02 Jan 2030 03:04:12 GMT');
    } finally {
      vi.useRealTimers();
    }
  });

  it('html: 200 text/html sign-in page; badjson: 200 unparsable JSON; empty: {}', async () => {
    const html = await token(`?script=html&key=${key()}`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await html.text()).toMatch(/^<!doctype html>/);
    const bad = await token(`?script=badjson&key=${key()}`);
    expect(bad.headers.get('content-type')).toBe('application/json');
    await expect(bad.json()).rejects.toThrow(SyntaxError);
    expect(await (await token(`?script=empty&key=${key()}`)).json()).toEqual({});
  });

  it.each([
    ['neg', -5],
    ['str', 'abc'],
    ['huge', 1e12],
  ])('%s: a token with expiresIn %s', async (outcome, expiresIn) => {
    const body = (await (await token(`?script=${outcome}&key=${key()}`)).json()) as { token: string; expiresIn: unknown };
    expect(body.token).toMatch(/^sk-dev-/);
    expect(body.expiresIn).toBe(expiresIn);
  });

  it('big: a valid token in a body over 1 MiB', async () => {
    const res = await token(`?script=big&key=${key()}`);
    const text = await res.text();
    expect(Buffer.byteLength(text)).toBeGreaterThan(1024 * 1024);
    expect((JSON.parse(text) as { token: string }).token).toMatch(/^sk-dev-/);
  });

  it('hang: no answer until the client gives up; the call still counts', async () => {
    const k = key();
    const controller = new AbortController();
    const pending = token(`?script=hang&key=${k}`, { signal: controller.signal });
    await vi.waitFor(async () => expect(await calls(k)).toBe(1));
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await token(`?script=hang&key=${k}`)).status).toBe(200);
  });

  it('an unknown outcome or a bad number is a 400 naming it', async () => {
    const res = await token(`?script=200,teapot&key=${key()}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('"teapot"');
    const ttl = await token(`?ttl=soon&key=${key()}`);
    expect(((await ttl.json()) as { error: { message: string } }).error.message).toContain('"ttl"');
  });

  it('wrong methods are 405 in the error shape', async () => {
    const get = await fetch(`${server.url}/dev/token`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toEqual({ error: { code: 'bad_request', message: 'Use POST.' } });
    expect((await fetch(`${server.url}/dev/token/stats`, { method: 'POST' })).status).toBe(405);
  });

  it('CORS: echoes the exact Origin with credentials, never "*"', async () => {
    const pre = await fetch(`${server.url}/dev/token`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')).toBe('Content-Type');
    expect(pre.headers.get('vary')).toBe('Origin');
    const res = await token(`?script=429&key=${key()}`, { headers: { 'Content-Type': 'application/json', Origin: 'http://localhost:5173' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-expose-headers')).toBe('Retry-After');
    expect((await token()).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('createDevTokenEndpoint on its own', () => {
  it('delay waits before answering (through the injected timer) and is abandoned when the client leaves', async () => {
    const waits: number[] = [];
    const handler = createDevTokenEndpoint({
      apiBase: () => 'http://127.0.0.1:1/api/v1',
      wait: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const app = await serve((req, res) => handler(req, res));
    const res = await fetch(`${app.url}/dev/token?delay=250`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: BODY });
    expect(res.status).toBe(200);
    expect(waits).toEqual([250]);
    expect(((await res.json()) as { apiBase: string }).apiBase).toBe('http://127.0.0.1:1/api/v1');
    await app.close();
  });

  it('passes other paths to next(), and lists every outcome the brief names', async () => {
    const handler = createDevTokenEndpoint({ apiBase: () => '' });
    const app = await serve((req, res) => handler(req, res, () => res.end('next')));
    expect(await (await fetch(`${app.url}/dev/tokens`)).text()).toBe('next');
    await app.close();
    expect([...DEV_TOKEN_OUTCOMES].sort()).toEqual(
      ['200', '401', '403', '429', '429date', '500', '503', 'html', 'badjson', 'empty', 'neg', 'str', 'huge', 'big', 'hang'].sort(),
    );
  });
});
