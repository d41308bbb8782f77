/**
 * The broker bundled for the Workers runtime and run in workerd through Miniflare 3 (reliability.md,
 * last case). Skipped when `miniflare` is not installed: Miniflare 4 and the vitest-4 Workers pool
 * need Node 22, so on Node 20 this drives the bundled worker from outside over HTTP instead of
 * running the whole suite inside the runtime. The upstream is a real local HTTP server, because
 * Miniflare's `outboundService` holds response headers until the first body chunk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { AGENT, KEY_A, ORIGIN, UPSTREAM_KEY } from './broker-helpers';

interface MiniflareLike {
  dispatchFetch(url: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}
type MiniflareModule = { Miniflare: new (options: Record<string, unknown>) => MiniflareLike };

// MINIFLARE_MODULE points at an install outside the project (e.g. a scratch folder) for a one-off run.
const moduleName = process.env.MINIFLARE_MODULE ?? 'miniflare';
const miniflare = (await import(/* @vite-ignore */ moduleName).catch(() => undefined)) as MiniflareModule | undefined;

/** Builds a one-file ESM worker around `server/index.ts`; fails the test if it pulls in `node:`. */
async function bundleWorker(upstreamBase: string): Promise<string> {
  const { build } = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'broker-worker-'));
  const entry = join(dir, 'entry.ts');
  const server = fileURLToPath(new URL('../../server/index.ts', import.meta.url));
  writeFileSync(
    entry,
    `import { createBroker } from ${JSON.stringify(server)};
let broker;
export default {
  fetch(request, env) {
    broker ??= createBroker({
      upstreamBase: ${JSON.stringify(upstreamBase)},
      upstreamKey: env.KEY,
      agentIds: [${JSON.stringify(AGENT)}],
      allowedOrigins: [${JSON.stringify(ORIGIN)}],
      signingKeys: [{ kid: env.KID, secret: env.SECRET }],
      heartbeatMs: 300,
      trustProxy: true,
    });
    return broker(request);
  },
};
`,
  );
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: { entry, formats: ['es'], fileName: 'worker' },
    },
  });
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => ('output' in o ? o.output : []));
  // One entry and no dynamic imports: a single chunk, which Miniflare can load as its script.
  expect(chunks).toHaveLength(1);
  return 'code' in chunks[0]! ? chunks[0].code : '';
}

describe.skipIf(!miniflare)('broker in workerd (Miniflare 3)', () => {
  let mf: MiniflareLike;
  let upstreamServer: Server;
  let code: string;
  const upstream: { res?: ServerResponse; auth?: string; body?: Record<string, unknown>; closedEarly: boolean } = {
    closedEarly: false,
  };

  beforeAll(async () => {
    upstreamServer = createServer(async (req, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      upstream.auth = req.headers.authorization;
      upstream.body = JSON.parse(raw) as Record<string, unknown>;
      upstream.res = res;
      res.on('close', () => {
        if (!res.writableFinished) upstream.closedEarly = true;
      });
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
    });
    await new Promise<void>((resolve) => upstreamServer.listen(0, '127.0.0.1', resolve));
    const { port } = upstreamServer.address() as AddressInfo;
    code = await bundleWorker(`http://127.0.0.1:${port}/api/v1`);
    mf = new miniflare!.Miniflare({
      modules: true,
      script: code,
      compatibilityDate: '2025-07-01',
      compatibilityFlags: ['enable_request_signal'],
      bindings: { KEY: UPSTREAM_KEY, KID: KEY_A.kid, SECRET: KEY_A.secret },
    });
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    upstreamServer?.closeAllConnections();
    upstreamServer?.close();
  });

  it('bundles without node: imports', () => {
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });

  it('issues a token, refuses a null origin, and streams a completion unbuffered with heartbeats', async () => {
    const denied = await mf.dispatchFetch('http://broker.test/token', {
      method: 'POST',
      headers: { Origin: 'null', 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: AGENT }),
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    const tokenRes = await mf.dispatchFetch('http://broker.test/token', {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: AGENT, widgetVersion: '0.1.0' }),
    });
    expect(tokenRes.status).toBe(200);
    expect(tokenRes.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const { token } = (await tokenRes.json()) as { token: string };

    const client = new AbortController();
    const res = await mf.dispatchFetch('http://broker.test/chat/completions', {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ agentId: 'other', messages: [{ role: 'user', content: 'Hi' }] }),
      signal: client.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(upstream.auth).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(upstream.body).toMatchObject({ agentId: AGENT, stream: true, format: 'json' });

    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    // Chunk boundaries are the runtime's to choose: read until the expected text has arrived.
    const readUntil = async (expected: string) => {
      while (!received.includes(expected)) {
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
      return received;
    };
    const event = 'data: {"choices":[{"delta":{"content":"one"}}]}\n\n';
    upstream.res!.write(event);
    // The event arrives while upstream is still open: the proxy does not buffer.
    expect(await readUntil(event)).toBe(event);
    // Upstream stays silent: the next bytes can only be the heartbeat.
    expect(await readUntil(': ping\n\n')).toBe(event + ': ping\n\n');

    client.abort();
    await reader.cancel().catch(() => {});
    await expect.poll(() => upstream.closedEarly, { timeout: 5000 }).toBe(true);
  });
});
