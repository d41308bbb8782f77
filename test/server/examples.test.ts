/**
 * The broker deployment examples under examples/, run as far as this machine can (issue 7):
 * - node/: the env factory, the plain `server.ts` entry itself (port 0), and the Express-style
 *   mount in a tiny `node:http` app that strips the mount path like `app.use(path)` does;
 * - vercel-nextjs/: the route handler module called with Web Requests (not inside Next.js);
 * - cloudflare-worker/: worker.ts bundled and run in workerd through Miniflare 3 with the
 *   wrangler.toml vars (skipped when miniflare is not installed);
 * - shared-rate-limiter/: the Redis limiter over an in-memory fake Redis, shared by two brokers.
 * Deno is not installable here: examples/deno/main.ts is not run.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBroker } from '../../server/index';
import type { NodeServer } from '../../server/node';
import { createBrokerFromEnv, type BrokerEnv } from '../../examples/node/broker';
import { BROKER_PATH, mountBroker, type AppLike } from '../../examples/node/express';
import { createRedisRateLimiter, type RedisLike } from '../../examples/shared-rate-limiter/redis';
import { AGENT, KEY_A, KEY_B, UPSTREAM_KEY, fakeUpstream } from './broker-helpers';

// The Vercel example imports the published name; here it is the source it is built from.
vi.mock('codegpt-widget/server', () => import('../../server/index'));

const ORIGIN = 'https://docs.example.com';
const ENV: BrokerEnv = {
  CODEGPT_API_KEY: UPSTREAM_KEY,
  CODEGPT_API_BASE: 'https://upstream.test/api/v1',
  AGENT_IDS: `${AGENT}, agent-2`,
  ALLOWED_ORIGINS: `${ORIGIN},http://localhost:5173`,
  SIGNING_KID: KEY_A.kid,
  SIGNING_SECRET: KEY_A.secret,
  PUBLIC_API_BASE: `${ORIGIN}/api/codegpt`,
};

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const quiet = () => vi.spyOn(console, 'log').mockImplementation(() => {});

function tokenRequest(url: string, origin = ORIGIN, agentId = AGENT): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { Origin: origin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ agentId, widgetVersion: '0.1.0' }),
  });
}

/** /health, a token for an allowed origin, and a refusal for another: what every example must do. */
async function checkBroker(base: string): Promise<{ token: string; apiBase?: string }> {
  const health = await fetch(`${base}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  const refused = await tokenRequest(`${base}/token`, 'https://evil.example');
  expect(refused.status).toBe(403);
  expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  const issued = await tokenRequest(`${base}/token`);
  expect(issued.status).toBe(200);
  expect(issued.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  const body = (await issued.json()) as { token: string; apiBase?: string };
  expect(body.token.split('.')).toHaveLength(3);
  expect(JSON.stringify(body)).not.toContain(UPSTREAM_KEY);
  return body;
}

describe('examples/node', () => {
  it('createBrokerFromEnv names a missing variable', () => {
    expect(() => createBrokerFromEnv({ ...ENV, SIGNING_SECRET: '' })).toThrow(/SIGNING_SECRET/);
    expect(() => createBrokerFromEnv({ ...ENV, ALLOWED_ORIGINS: undefined })).toThrow(/ALLOWED_ORIGINS/);
    // A wildcard is refused by the broker itself, naming the field.
    expect(() => createBrokerFromEnv({ ...ENV, ALLOWED_ORIGINS: 'https://*.example.com' })).toThrow(/allowedOrigins/);
  });

  it('server.ts starts the broker from the environment and answers /health and /token at /api/codegpt', async () => {
    quiet();
    for (const [name, value] of Object.entries({ ...ENV, PORT: '0' })) vi.stubEnv(name, value ?? '');
    const { server } = (await import('../../examples/node/server')) as { server: NodeServer };
    closers.push(() => server.close());
    const body = await checkBroker(`${server.url}/api/codegpt`);
    expect(body.apiBase).toBe(ENV.PUBLIC_API_BASE);
    // Outside the base path there is nothing.
    expect((await fetch(`${server.url}/token`, { method: 'POST' })).status).toBe(404);
  });

  it('the Express-style mount works behind app.use(path), which strips the path, and streams a completion', async () => {
    quiet();
    const upstream = fakeUpstream();
    const app = tinyExpressApp();
    mountBroker(app, ENV, { fetch: upstream.fetch });
    const url = await app.listen();
    closers.push(() => app.close());
    expect(await (await fetch(`${url}/other`)).text()).toBe('app route');
    const { token } = await checkBroker(`${url}${BROKER_PATH}`);
    const res = await fetch(`${url}${BROKER_PATH}/chat/completions`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ agentId: AGENT, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"Hello"');
    expect(upstream.calls[0]?.headers.get('authorization')).toBe(`Bearer ${UPSTREAM_KEY}`);
  });
});

/** What Express's `app.use(path, fn)` does to a request: `req.url` relative to the mount, `req.originalUrl` whole. */
function tinyExpressApp(): AppLike & { listen(): Promise<string>; close(): Promise<void> } {
  const mounts: [string, (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => void][] = [];
  let server: Server | undefined;
  return {
    use(path, handler) {
      mounts.push([path, handler]);
    },
    listen() {
      server = createServer((req, res) => {
        const url = req.url ?? '/';
        for (const [path, handler] of mounts) {
          if (url === path || url.startsWith(`${path}/`) || url.startsWith(`${path}?`)) {
            Object.assign(req, { originalUrl: url, url: url.slice(path.length) || '/' });
            return handler(req, res);
          }
        }
        res.writeHead(404).end('app route');
      });
      return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`)));
    },
    close() {
      server?.closeAllConnections();
      return new Promise((resolve) => server!.close(() => resolve()));
    },
  };
}

interface VercelRoute {
  runtime: string;
  GET(request: Request): Promise<Response>;
  POST(request: Request): Promise<Response>;
  OPTIONS(request: Request): Promise<Response>;
}

describe('examples/vercel-nextjs route handler (called directly, not inside Next.js)', () => {
  it('answers /health, a CORS preflight and /token under /api/codegpt', async () => {
    for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value ?? '');
    // A computed specifier: the example imports `codegpt-widget/server`, whose types exist only after a build.
    const file = '../../examples/vercel-nextjs/app/api/codegpt/[...path]/route';
    const route = (await import(/* @vite-ignore */ file)) as VercelRoute;
    expect(route.runtime).toBe('nodejs');
    const base = `${ORIGIN}/api/codegpt`;
    const health = await route.GET(new Request(`${base}/health`));
    expect(await health.json()).toEqual({ status: 'ok' });
    const preflight = await route.OPTIONS(
      new Request(`${base}/token`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' } }),
    );
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const issued = await route.POST(
      new Request(`${base}/token`, {
        method: 'POST',
        headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ agentId: AGENT }),
      }),
    );
    expect(issued.status).toBe(200);
    expect(((await issued.json()) as { apiBase: string }).apiBase).toBe(`${ORIGIN}/api/codegpt`);
  });
});

describe('examples/shared-rate-limiter (Redis)', () => {
  /** INCR / PEXPIRE / PTTL over a Map, with a clock the test moves. */
  function fakeRedis() {
    const clock = { now: 0 };
    const keys = new Map<string, { value: number; expiresAt?: number }>();
    const live = (key: string) => {
      const entry = keys.get(key);
      if (entry?.expiresAt !== undefined && entry.expiresAt <= clock.now) keys.delete(key);
      return keys.get(key);
    };
    const redis: RedisLike & { down?: boolean } = {
      async incr(key) {
        if (redis.down) throw new Error('ECONNREFUSED');
        const entry = live(key) ?? { value: 0 };
        entry.value += 1;
        keys.set(key, entry);
        return entry.value;
      },
      async pexpire(key, ms) {
        const entry = live(key);
        if (entry) entry.expiresAt = clock.now + ms;
        return entry ? 1 : 0;
      },
      async pttl(key) {
        const entry = live(key);
        if (!entry) return -2;
        return entry.expiresAt === undefined ? -1 : entry.expiresAt - clock.now;
      },
    };
    return { redis, clock, keys };
  }

  it('counts a fixed window per key and gives the time left as Retry-After', async () => {
    const { redis, clock } = fakeRedis();
    const limiter = createRedisRateLimiter(redis, { limit: 2, windowMs: 10_000 });
    expect(await limiter.hit('a')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    clock.now = 4_000;
    expect(await limiter.hit('a')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(await limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(await limiter.hit('b')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    clock.now = 10_000;
    expect(await limiter.hit('a')).toEqual({ allowed: true, retryAfterSeconds: 0 });
  });

  it('repairs a key left without expiry (a crash between INCR and PEXPIRE)', async () => {
    const { redis, keys, clock } = fakeRedis();
    keys.set('codegpt:rl:a', { value: 5 });
    const limiter = createRedisRateLimiter(redis, { limit: 2, windowMs: 10_000 });
    expect(await limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    clock.now = 10_000;
    expect(await limiter.hit('a')).toEqual({ allowed: true, retryAfterSeconds: 0 });
  });

  it('two broker instances share one limit; a Redis outage fails closed with 503', async () => {
    const { redis } = fakeRedis();
    const make = () =>
      createBroker({
        upstreamBase: 'https://upstream.test/api/v1',
        upstreamKey: UPSTREAM_KEY,
        agentIds: [AGENT],
        allowedOrigins: [ORIGIN],
        signingKeys: [KEY_B],
        clientIp: () => '203.0.113.7',
        limiter: createRedisRateLimiter(redis, { limit: 3, windowMs: 60_000, prefix: 'cgw:token:' }),
      });
    const [a, b] = [make(), make()];
    const hit = (broker: ReturnType<typeof make>) =>
      broker(
        new Request('https://broker.test/token', {
          method: 'POST',
          headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
          body: JSON.stringify({ agentId: AGENT }),
        }),
      );
    const statuses = [];
    for (const broker of [a, b, a, b]) statuses.push((await hit(broker)).status);
    // With in-memory limiters each instance would have allowed all of its own requests.
    expect(statuses).toEqual([200, 200, 200, 429]);
    redis.down = true;
    const outage = await hit(a);
    expect(outage.status).toBe(503);
    expect(outage.headers.get('retry-after')).toBe('5');
  });
});

// Same optional dependency as workerd.test.ts: Miniflare 3 runs on Node 20.
const miniflare = (await import(/* @vite-ignore */ process.env.MINIFLARE_MODULE ?? 'miniflare').catch(() => undefined)) as
  | { Miniflare: new (options: Record<string, unknown>) => { dispatchFetch(url: string, init?: RequestInit): Promise<Response>; dispose(): Promise<void> } }
  | undefined;

describe.skipIf(!miniflare)('examples/cloudflare-worker in workerd (Miniflare 3)', () => {
  it('worker.ts with the wrangler.toml vars and two secrets answers /health and /token', async () => {
    const folder = fileURLToPath(new URL('../../examples/cloudflare-worker/', import.meta.url));
    const toml = readFileSync(join(folder, 'wrangler.toml'), 'utf8');
    // The [vars] table: KEY = "value" lines up to the next table.
    const vars = Object.fromEntries(
      [...(toml.split('[vars]')[1] ?? '').split(/^\[/m)[0]!.matchAll(/^(\w+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1]!, m[2]!]),
    );
    expect(Object.keys(vars)).toEqual(expect.arrayContaining(['AGENT_IDS', 'ALLOWED_ORIGINS', 'SIGNING_KID']));
    const flags = /compatibility_flags\s*=\s*\[([^\]]*)\]/.exec(toml)?.[1]?.match(/"([^"]+)"/g)?.map((f) => f.slice(1, -1)) ?? [];
    const { build } = await import('vite');
    const outDir = mkdtempSync(join(tmpdir(), 'example-worker-'));
    await build({
      configFile: false,
      logLevel: 'silent',
      build: { outDir, minify: false, target: 'es2022', lib: { entry: join(folder, 'worker.ts'), formats: ['es'], fileName: 'worker' } },
    });
    const code = readFileSync(join(outDir, 'worker.js'), 'utf8');
    rmSync(outDir, { recursive: true, force: true });
    expect(code).not.toMatch(/from\s*["']node:/);
    const mf = new miniflare!.Miniflare({
      modules: true,
      script: code,
      compatibilityDate: '2025-07-01',
      compatibilityFlags: flags,
      // `wrangler secret put` values in production; fake ones here.
      bindings: { ...vars, CODEGPT_API_KEY: UPSTREAM_KEY, SIGNING_SECRET: KEY_A.secret },
    });
    closers.push(() => mf.dispose());
    const origin = vars.ALLOWED_ORIGINS!.split(',')[0]!;
    const agent = vars.AGENT_IDS!.split(',')[0]!;
    const health = await mf.dispatchFetch('http://worker.test/health');
    expect(await health.json()).toEqual({ status: 'ok' });
    const issued = await mf.dispatchFetch('http://worker.test/token', {
      method: 'POST',
      headers: { Origin: origin, 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.9' },
      body: JSON.stringify({ agentId: agent }),
    });
    expect(issued.status).toBe(200);
    const body = (await issued.json()) as { token: string; apiBase: string };
    expect(body.apiBase).toBe(vars.PUBLIC_API_BASE);
    const refused = await mf.dispatchFetch('http://worker.test/token', {
      method: 'POST',
      headers: { Origin: 'https://evil.example', 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: agent }),
    });
    expect(refused.status).toBe(403);
  }, 60_000);
});
