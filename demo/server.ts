/**
 * The demo server: one `http.createServer` serving the demo pages, the reference token broker, the
 * local CodeGPT-compatible API (answering with the offline docs agent), the development token
 * endpoint and static files. `npm run demo` runs it; browser tests start it on port 0.
 *
 * | path                         | served by                                                          |
 * | ---------------------------- | ------------------------------------------------------------------ |
 * | `/api/codegpt/*`             | the reference broker (embed.md section 6): `/token`, `/chat/completions` |
 * | `/api/v1/*`, `/v1/*`, `/health` | the mock (codegpt-api.md section 8), the broker's default upstream |
 * | `/dev/token`, `/dev/token/stats` | the development token endpoint (embed.md section 5), for tests |
 * | `/dist/*`                    | the repo's `dist/` (the built widget), `Cache-Control: no-store`   |
 * | `/fixtures/*`                | `test/fixtures/pages/`; a sibling `<file>.headers.json` adds response headers (e.g. a CSP) |
 * | everything else              | `demo/pages/` (`/` → `index.html`), HTML with a strict CSP          |
 *
 * The broker's upstream is this server's own `/api/v1` (the offline docs agent, a random `sk-local-`
 * key over loopback), or the real CodeGPT API when {@link DemoServerOptions.upstream} is given
 * (`demo/main.ts` fills it from `CODEGPT_API_KEY` and `CODEGPT_AGENT_ID`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { createBroker, type BrokerLogEvent } from '../server/index';
import { nodeClientIp, toNodeListener } from '../server/node';
import { createMockCodeGPT, FIXTURE_AGENTS, type MockAgent, type MockHandler, type MockMessage, type MockOptions } from './codegpt-mock';
import { createDevTokenEndpoint, type DevTokenHandler } from './dev-token';
import { createRepoDocsAgent, type DocsAgent } from './docs-agent';

/** Where the broker mounts (its `basePath`), so the widget's token endpoint is `/api/codegpt/token`. */
export const BROKER_PATH = '/api/codegpt';
/** The demo pages' agent when no real upstream is configured: the offline docs agent. */
export const DOCS_AGENT_ID = 'docs-agent';

/** A real CodeGPT-compatible upstream for the broker, instead of the offline docs agent. */
export interface DemoUpstream {
  /** API base, e.g. `https://api.codegpt.co/api/v1`. */
  base: string;
  /** The API key. Sent upstream by the broker only; never printed, served or logged. */
  key: string;
  /** The agent the demo pages talk to (the broker's only allowed agent). */
  agentId: string;
  /** Sent upstream as `CodeGPT-Org-Id` when set. */
  orgId?: string;
  /** Where the key came from, for the startup line. @defaultValue `options` */
  keySource?: string;
}

/** Options of {@link startDemoServer}. */
export interface DemoServerOptions {
  /** @defaultValue `PORT` from the environment, else 8787. 0 picks a free port (tests). */
  port?: number;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  /** Repository root holding `dist/`, `demo/pages/` and `test/fixtures/pages/`. @defaultValue found from this file */
  root?: string;
  /** Options of the mock CodeGPT API. A `mock.answer` wins over {@link DemoServerOptions.answers}. */
  mock?: MockOptions;
  /**
   * Who writes the mock's replies: `docs`, the offline docs agent for `docs-agent` and every other
   * id that is not `mock-*` or a scripted fixture (see {@link createDemoAnswer}); `mock`, the mock's
   * own scripted defaults (its contract tests use this).
   * @defaultValue `docs`
   */
  answers?: 'docs' | 'mock';
  /** The broker's upstream. @defaultValue this server's `/api/v1` (the offline docs agent) */
  upstream?: DemoUpstream;
  /** One line per broker request (route, status, ms, outcome; never a token or key). @defaultValue none */
  log?: (line: string) => void;
  /**
   * Tests only: fixed secrets instead of the random ones made at start, so a test can check they
   * never leak. Never set these in a real deployment.
   */
  secrets?: { signingSecret?: string; localKey?: string };
}

/** A running demo server. */
export interface DemoServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The mock API handler; `mock.stats` counts requests and client disconnects. */
  mock: MockHandler;
  /** The token endpoint; `devToken.calls(key)` counts token requests. */
  devToken: DevTokenHandler;
  /** The agent the demo pages use and the broker allows. */
  agentId: string;
  /** Which upstream the broker calls, for the startup log; never contains the key. */
  upstream: string;
  /** Origins the broker accepts (this server as `127.0.0.1` and as `localhost`). */
  origins: string[];
  /** Stops listening and cuts open connections (hanging streams included). */
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/** Starts the demo server and resolves once it listens. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const root = resolve(options.root ?? findRoot());
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (process.env.PORT ? Number(process.env.PORT) : 8787);
  let url = '';
  const agentId = options.upstream?.agentId ?? DOCS_AGENT_ID;
  const answer =
    options.mock?.answer ??
    (options.answers === 'mock' ? undefined : createDemoAnswer(createRepoDocsAgent(root), options.mock?.agents ?? FIXTURE_AGENTS));
  const mock = createMockCodeGPT(answer ? { ...options.mock, answer } : options.mock);
  const devToken = createDevTokenEndpoint({ apiBase: () => `${url}/api/v1` });
  const page = { agentId, csp: '' };
  const statics = createStaticFiles(root, page);
  // Created once the port is known: the allowed origins and the upstream URL contain it.
  let broker: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://demo.local');
    if (pathname === BROKER_PATH || pathname.startsWith(`${BROKER_PATH}/`)) {
      return broker ? broker(req, res) : sendText(res, 503, 'Starting');
    }
    if (pathname === '/health' || /^\/(api\/)?v1(\/|$)/.test(pathname)) return mock(req, res);
    if (pathname === '/dev/token' || pathname.startsWith('/dev/token/')) return devToken(req, res);
    statics(req, res).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'Internal server error');
      else res.destroy();
    });
  });

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  url = `http://${shownHost}:${address.port}`;

  const origins = [...new Set([url, `http://127.0.0.1:${address.port}`, `http://localhost:${address.port}`])];
  const upstream = options.upstream;
  const log = options.log;
  let handler: ReturnType<typeof createBroker>;
  try {
    handler = createBroker({
      upstreamBase: upstream?.base ?? `${url}/api/v1`,
      upstreamKey: upstream?.key ?? options.secrets?.localKey ?? `sk-local-${randomHex(24)}`,
      ...(upstream?.orgId ? { orgId: upstream.orgId } : {}),
      agentIds: [agentId],
      allowedOrigins: origins,
      // A fresh dev key per start: tokens die with the process, and no secret is ever written down.
      signingKeys: [{ kid: 'demo', secret: options.secrets?.signingSecret ?? randomHex(32) }],
      basePath: BROKER_PATH,
      publicApiBase: `${url}${BROKER_PATH}`,
      clientIp: nodeClientIp,
      log: (event) => {
        const line = log ? brokerLogLine(event) : undefined;
        if (line) log?.(line);
      },
    });
  } catch (error) {
    // A bad upstream (e.g. CODEGPT_API_BASE) names the field; do not leave a half-started server.
    server.close();
    throw error;
  }
  broker = toNodeListener(handler);
  page.csp = pageCsp(origins);

  return {
    url,
    mock,
    devToken,
    agentId,
    origins,
    upstream: upstream
      ? `CodeGPT API ${upstream.base} (agent ${upstream.agentId}${upstream.orgId ? `, org ${upstream.orgId}` : ''}, key from ${upstream.keySource ?? 'options'})`
      : `offline docs agent at ${url}/api/v1 (answers from README.md and docs/, no API key)`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        // Streams of `hang`/`silent-keepalive` would otherwise keep close() waiting forever.
        server.closeAllConnections();
      }),
  };
}

/** The nearest folder above this module with both `package.json` and `demo/` (works when bundled too). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'demo'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/**
 * The mock's replies in the demo: `mock-*` agents echo (`You said: …`, the browser tests rely on it),
 * fixture agents other than the docs agent keep their scripted replies, and every other agent,
 * `docs-agent` first, answers from the docs. (`missing*` ids never get here: the mock 404s them.)
 */
export function createDemoAnswer(docs: DocsAgent, agents: readonly MockAgent[]): (agentId: string, messages: MockMessage[]) => string {
  return (agentId, messages) => {
    const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    if (agentId.startsWith('mock-')) return `You said: ${lastUser}`;
    const fixture = agentId === DOCS_AGENT_ID ? undefined : agents.find((a) => a.id === agentId);
    if (fixture) return fixture.replies?.[lastUser.trim().toLowerCase()] ?? fixture.reply ?? `You said: ${lastUser}`;
    return docs.answer(messages);
  };
}

/** `broker /token 200 3ms token_issued agent=docs-agent origin=http://127.0.0.1:8787`, or undefined to skip. */
export function brokerLogLine(event: BrokerLogEvent): string | undefined {
  // A completion logs `completion_started` and then `stream_end`: one line per request is enough.
  if (event.event === 'completion_started') return undefined;
  const parts = [`broker ${event.route} ${event.status}`];
  if (event.ms !== undefined) parts.push(`${event.ms}ms`);
  parts.push(event.event);
  if (event.outcome) parts.push(event.outcome);
  if (event.code) parts.push(`code=${event.code}`);
  if (event.agent) parts.push(`agent=${event.agent}`);
  if (event.origin) parts.push(`origin=${event.origin}`);
  return parts.join(' ');
}

/**
 * The demo pages' Content-Security-Policy: no inline script, no `unsafe-inline` style (the page's
 * own `<style>` is allowed by hash), connections only to this server. It shows the widget runs under
 * a strict policy (embed.md section 2); the widget's CSS is a constructed stylesheet, which style-src
 * does not govern.
 */
function pageCsp(origins: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' %STYLE_HASHES%",
    "img-src 'self' data:",
    `connect-src 'self' ${origins.join(' ')}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `'sha256-…'` of each `<style>` element of a page, for its CSP. */
function styleHashes(html: string): string {
  const hashes = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1] ?? '').digest('base64')}'`,
  );
  return hashes.join(' ');
}

/** `data-agent-id="docs-agent"` → the configured agent (the real-API mode), attribute-escaped. */
function withAgent(html: string, agentId: string): string {
  if (agentId === DOCS_AGENT_ID) return html;
  const escaped = agentId.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return html.replaceAll(`data-agent-id="${DOCS_AGENT_ID}"`, `data-agent-id="${escaped}"`);
}

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

function createStaticFiles(root: string, page: { agentId: string; csp: string }) {
  const mounts = [
    { prefix: '/dist/', base: join(root, 'dist'), noStore: true, sidecar: false },
    { prefix: '/fixtures/', base: join(root, 'test', 'fixtures', 'pages'), noStore: true, sidecar: true },
    { prefix: '/', base: join(root, 'demo', 'pages'), noStore: false, sidecar: false },
  ];

  return async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendText(res, 405, 'Method not allowed');
    }
    const { pathname } = new URL(req.url ?? '/', 'http://demo.local');
    const mount = mounts.find((m) => pathname.startsWith(m.prefix)) ?? mounts[mounts.length - 1]!;
    const file = safeJoin(mount.base, pathname.slice(mount.prefix.length));
    if (!file) return sendText(res, 403, 'Forbidden');

    let path = file;
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) path = join(path, 'index.html');
    let body = await readFile(path).catch(() => undefined);
    if (!body) return sendText(res, 404, 'Not found');
    const demoPage = mount.prefix === '/' && extname(path).toLowerCase() === '.html';
    let csp: string | undefined;
    if (demoPage) {
      const html = withAgent(body.toString('utf8'), page.agentId);
      body = Buffer.from(html);
      csp = page.csp.replace('%STYLE_HASHES%', styleHashes(html));
    }

    const headers: Record<string, string> = {
      'Content-Type': MIME[extname(path).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(body.length),
      'Cache-Control': mount.noStore ? 'no-store' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    };
    if (csp) headers['Content-Security-Policy'] = csp;
    if (mount.sidecar) Object.assign(headers, await readSidecar(`${path}.headers.json`));
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/**
 * Resolves a URL path under `base`, or undefined when it would leave it. The path is decoded first,
 * so `..%2f` and `%2e%2e` are caught by the same prefix check.
 */
export function safeJoin(base: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const full = resolve(base, `.${sep}${decoded}`);
  return full === base || full.startsWith(base + sep) ? full : undefined;
}

/** `{ "Content-Security-Policy": "…" }` beside a fixture page: lets browser tests serve CSP pages. */
async function readSidecar(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${path} must hold a JSON object`);
  return Object.fromEntries(Object.entries(parsed).map(([name, value]) => [name, String(value)]));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
