/**
 * The demo server: one `http.createServer` serving the local CodeGPT-compatible API, the development
 * token endpoint and static files. Browser tests start it on port 0.
 *
 * | path                         | served by                                                          |
 * | ---------------------------- | ------------------------------------------------------------------ |
 * | `/api/v1/*`, `/v1/*`, `/health` | the mock (codegpt-api.md section 8)                            |
 * | `/dev/token`, `/dev/token/stats` | the development token endpoint (embed.md section 5)           |
 * | `/dist/*`                    | the repo's `dist/` (the built widget), `Cache-Control: no-store`   |
 * | `/fixtures/*`                | `test/fixtures/pages/`; a sibling `<file>.headers.json` adds response headers (e.g. a CSP) |
 * | everything else              | `demo/pages/` (`/` → `index.html`)                                 |
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMockCodeGPT, type MockHandler, type MockOptions } from './codegpt-mock';
import { createDevTokenEndpoint, type DevTokenHandler } from './dev-token';

/** Options of {@link startDemoServer}. */
export interface DemoServerOptions {
  /** @defaultValue `PORT` from the environment, else 8787. 0 picks a free port (tests). */
  port?: number;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  /** Repository root holding `dist/`, `demo/pages/` and `test/fixtures/pages/`. @defaultValue found from this file */
  root?: string;
  /** Options of the mock CodeGPT API. */
  mock?: MockOptions;
}

/** A running demo server. */
export interface DemoServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The mock API handler; `mock.stats` counts requests and client disconnects. */
  mock: MockHandler;
  /** The token endpoint; `devToken.calls(key)` counts token requests. */
  devToken: DevTokenHandler;
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
  const mock = createMockCodeGPT(options.mock);
  const devToken = createDevTokenEndpoint({ apiBase: () => `${url}/api/v1` });
  const statics = createStaticFiles(root);

  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://demo.local');
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

  return {
    url,
    mock,
    devToken,
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

function createStaticFiles(root: string) {
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
    const body = await readFile(path).catch(() => undefined);
    if (!body) return sendText(res, 404, 'Not found');

    const headers: Record<string, string> = {
      'Content-Type': MIME[extname(path).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(body.length),
      'Cache-Control': mount.noStore ? 'no-store' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    };
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
