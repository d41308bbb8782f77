import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeJoin, startDemoServer, type DemoServer } from '../../demo/server';
import { rawGet } from './helpers';

const SECRET = 'TOP-SECRET-do-not-serve';

/** A throwaway repo root: dist/, demo/pages/, test/fixtures/pages/ and a secret file beside them. */
function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'codegpt-demo-'));
  const put = (path: string, content: string | Buffer) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  put('secret.txt', SECRET);
  put('package.json', `{"secret":"${SECRET}"}`);
  put('demo/pages/index.html', '<!doctype html><title>demo</title>');
  put('demo/pages/sub/index.html', '<p>sub</p>');
  put('dist/codegpt-widget.iife.js', 'console.log(1)');
  put('dist/codegpt-widget.iife.js.map', '{}');
  put('dist/style.css', 'a{}');
  put('dist/icon.svg', '<svg/>');
  put('dist/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  put('dist/data.json', '{}');
  put('test/fixtures/pages/csp.html', '<p>csp</p>');
  put('test/fixtures/pages/csp.html.headers.json', JSON.stringify({ 'Content-Security-Policy': "default-src 'self'" }));
  put('test/fixtures/pages/plain.html', '<p>plain</p>');
  put('test/fixtures/pages/broken.html', '<p>broken</p>');
  put('test/fixtures/pages/broken.html.headers.json', '{ nope');
  return root;
}

describe('demo server: routing and static files', () => {
  let root: string;
  let server: DemoServer;
  beforeAll(async () => {
    root = makeRoot();
    server = await startDemoServer({ port: 0, root });
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and reports its URL without a trailing slash', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('/ serves demo/pages/index.html; a folder serves its index.html', async () => {
    const res = await fetch(server.url + '/');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<title>demo</title>');
    expect(await (await fetch(server.url + '/sub/')).text()).toBe('<p>sub</p>');
  });

  it.each([
    ['/dist/codegpt-widget.iife.js', 'text/javascript; charset=utf-8'],
    ['/dist/codegpt-widget.iife.js.map', 'application/json; charset=utf-8'],
    ['/dist/style.css', 'text/css; charset=utf-8'],
    ['/dist/icon.svg', 'image/svg+xml'],
    ['/dist/logo.png', 'image/png'],
    ['/dist/data.json', 'application/json; charset=utf-8'],
  ])('%s → %s, no-store, nosniff', async (path, type) => {
    const res = await fetch(server.url + path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('fixture pages get the headers of a sibling <file>.headers.json (CSP pages)', async () => {
    const csp = await fetch(server.url + '/fixtures/csp.html');
    expect(await csp.text()).toBe('<p>csp</p>');
    expect(csp.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect((await fetch(server.url + '/fixtures/plain.html')).headers.get('content-security-policy')).toBeNull();
    expect((await fetch(server.url + '/fixtures/broken.html')).status).toBe(500);
  });

  it('missing files are 404; HEAD works; other methods are 405', async () => {
    expect((await fetch(server.url + '/fixtures/nope.html')).status).toBe(404);
    expect((await fetch(server.url + '/dist/nope.js')).status).toBe(404);
    const head = await fetch(server.url + '/dist/style.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('3');
    const put = await fetch(server.url + '/dist/style.css', { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
  });

  it.each([
    '/../secret.txt',
    '/dist/../secret.txt',
    '/dist/../../secret.txt',
    '/dist/..%2fsecret.txt',
    '/dist/..%2f..%2fsecret.txt',
    '/..%2f..%2fsecret.txt',
    '/fixtures/..%2f..%2f..%2fsecret.txt',
    '/fixtures/%2e%2e/%2e%2e/%2e%2e/secret.txt',
    '/fixtures/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5c..%5csecret.txt',
    '/package.json',
    '/dist/%00../secret.txt',
    '/dist/%E0%A4%A',
  ])('refuses to serve anything outside its folders: %s', async (path) => {
    const res = await rawGet(server.url, path);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toContain(SECRET);
  });

  it('safeJoin keeps paths inside the base', () => {
    expect(safeJoin('/srv/www', 'a/b.js')).toBe('/srv/www/a/b.js');
    expect(safeJoin('/srv/www', '')).toBe('/srv/www');
    expect(safeJoin('/srv/www', '../www2/x')).toBeUndefined();
    expect(safeJoin('/srv/www', '..%2f..%2fetc/passwd')).toBeUndefined();
    expect(safeJoin('/srv/www', '%zz')).toBeUndefined();
  });

  it('routes /health, /api/v1, /v1 to the mock and /dev/token* to the token endpoint', async () => {
    expect(await (await fetch(server.url + '/health')).json()).toEqual({ status: 'ok' });
    expect((await fetch(server.url + '/api/v1/agents')).status).toBe(401);
    expect((await fetch(server.url + '/v1/agents')).status).toBe(401);
    expect(await (await fetch(server.url + '/dev/token/stats')).json()).toEqual({ calls: 0 });
  });

  it('close() resolves even while a stream hangs', async () => {
    const other = await startDemoServer({ port: 0, root });
    const res = await fetch(other.url + '/api/v1/chat/completions', {
      method: 'POST',
      headers: { Authorization: 'Bearer sk-test', 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: 'mock-hang', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const reading = res.body!.getReader().read().catch(() => 'cut');
    await other.close();
    expect(await reading).toBe('cut');
  });
});

describe('demo server: the real demo page', () => {
  it('finds the repo root by itself and serves demo/pages/index.html with the customer script tag', async () => {
    const server = await startDemoServer({ port: 0 });
    const html = await (await fetch(server.url + '/')).text();
    await server.close();
    expect(html).toBe(readFileSync(new URL('../../demo/pages/index.html', import.meta.url), 'utf8'));
    const tag = /<script src="\/dist\/codegpt-widget\.iife\.js" defer ([^>]*)><\/script>/.exec(html);
    expect(tag?.[1]).toMatch(
      /^data-agent-id="docs-agent" data-token-endpoint="\/api\/codegpt\/token" data-title="Ask the docs" data-welcome="[^"]+" data-suggestions="How do I install it\?\|Is it safe under CSP\?\|How big is it\?"$/,
    );
    // No inline scripts: the only <script> is the widget tag.
    expect(html.match(/<script/g)).toHaveLength(1);
  });
});
