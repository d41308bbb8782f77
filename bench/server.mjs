// The bench server, run as a child process of bench/run.mjs (fork) so that writing the stream and
// answering the broker's load never competes with the Playwright driver for one event loop.
//
// One port serves: static files (/dist from the repo, /peers from bench/peers/node_modules), the
// pages of pages.mjs, POST /token, and a CodeGPT-compatible POST /api/v1/chat/completions that
// streams SSE (`data: {"choices":[{"delta":{"content":"<piece>"}}]}` … `data: [DONE]`) as fast as
// the socket takes it. A second port serves the reference broker (dist/server.js) with this server
// as its upstream. Loopback only.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { markdownAnswer, pieces, shortAnswer } from './markdown.mjs';
import { page } from './pages.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '..');
// run.mjs passes a snapshot of dist/ taken when the run started, so a rebuild during the run (npm
// run build empties dist/ first) cannot change or break what is measured.
const DIST = process.env.BENCH_DIST ?? join(ROOT, 'dist');
const STATIC = { '/dist/': DIST, '/peers/': join(HERE, 'peers') };
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json', '.html': 'text/html' };
const HOST = '127.0.0.1';
const PIECE = 10;

/** Answer text for a question `bench:<kind>#<id>`; anything else is echoed. */
function answerFor(question) {
  const kind = /^bench:([a-z0-9]+)/.exec(question)?.[1];
  if (kind === 'md30k') return markdownAnswer(30_000);
  if (kind === 'md60k') return markdownAnswer(60_000);
  if (kind === 'short' || kind === 'ft') return shortAnswer(0);
  if (kind === 'turn') return markdownAnswer(800, 1000 + (Number(/#(\d+)/.exec(question)?.[1] ?? 0) % 20));
  return `You said: ${question}`;
}

/** Pre-serialized SSE events per answer, so the per-piece cost while streaming is only the write. */
const encoded = new Map();
function events(question) {
  const answer = answerFor(question);
  let cached = encoded.get(answer);
  if (!cached) {
    cached = pieces(answer, PIECE).map((p) => Buffer.from(`data: ${JSON.stringify({ choices: [{ delta: { content: p } }] })}\n\n`));
    cached.push(Buffer.from('data: [DONE]\n\n'));
    encoded.set(answer, cached);
  }
  return cached;
}

/** Per proxied completion: see `handler` below. */
const brokerTimings = [];

/** Per question: when the request arrived, when the first piece was written, when the stream ended (ms, server clock). */
const records = new Map();

function readBody(req) {
  return new Promise((done, fail) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

const json = (res, status, body, headers = {}) =>
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers }).end(JSON.stringify(body));

/** Resolves when `res` drains or closes, leaving no listener behind. */
function drained(res) {
  return new Promise((go) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      go();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function completions(req, res, arrival) {
  const auth = req.headers.authorization ?? '';
  if (!/^Bearer sk-/.test(auth)) return json(res, 401, { detail: 'Invalid API key' });
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return json(res, 422, { detail: [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }] });
  }
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const question = String([...messages].reverse().find((m) => m?.role === 'user')?.content ?? '');
  const list = events(question);
  const record = { arrival, firstWrite: 0, end: 0, pieces: list.length - 1 };
  records.set(question, record);
  if (records.size > 2000) records.delete(records.keys().next().value);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
    'Access-Control-Allow-Origin': req.headers.origin ?? '*',
  });
  let closed = false;
  res.on('close', () => (closed = true));
  // `bench:ft…` (first token): the first piece alone, then a pause, as a model that is still
  // thinking; so the first character reaches the page in its own read, as in production.
  const pause = question.startsWith('bench:ft') ? 150 : 0;
  for (let i = 0; i < list.length && !closed; i++) {
    const ok = res.write(list[i]);
    if (i === 0) record.firstWrite = performance.now();
    if (i === 0 && pause) await new Promise((go) => setTimeout(go, pause));
    if (!ok) await drained(res);
  }
  res.end();
  record.end = performance.now();
}

async function serveStatic(res, path) {
  for (const [prefix, dir] of Object.entries(STATIC)) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, decodeURIComponent(path.slice(prefix.length))));
    if (!file.startsWith(dir)) break;
    try {
      const data = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' }).end(data);
    } catch {
      res.writeHead(404).end('not found');
    }
    return;
  }
  res.writeHead(404).end('not found');
}

const server = createServer(async (req, res) => {
  const arrival = performance.now();
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  const path = url.pathname.replace(/^\/v1\//, '/api/v1/');
  try {
    if (req.method === 'OPTIONS') {
      return res
        .writeHead(204, {
          'Access-Control-Allow-Origin': req.headers.origin ?? '*',
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, CodeGPT-Org-Id',
          'Access-Control-Max-Age': '600',
        })
        .end();
    }
    if (req.method === 'POST' && path === '/api/v1/chat/completions') return await completions(req, res, arrival);
    if (req.method === 'POST' && path === '/token') {
      await readBody(req);
      // A fake, obviously non-secret token; the widget only checks its shape (embed.md section 5).
      return json(res, 200, { token: 'sk-bench', expiresIn: 600, apiBase: `${origin}/api/v1` });
    }
    if (req.method === 'GET' && path === '/__broker-stats') {
      const n = Number(url.searchParams.get('last') ?? 100);
      const list = brokerTimings.slice(-n).filter((t) => t.upstreamCall && t.upstreamHeaders);
      const med = (f) => {
        const xs = list.map(f).sort((a, b) => a - b);
        return xs.length ? xs[xs.length >> 1] : null;
      };
      return json(res, 200, {
        count: list.length,
        beforeUpstreamMs: med((t) => t.upstreamCall - t.start),
        upstreamHeadersMs: med((t) => t.upstreamHeaders - t.upstreamCall),
        afterUpstreamMs: med((t) => t.returned - t.upstreamHeaders),
      });
    }
    if (path === '/favicon.ico') return res.writeHead(204).end();
    if (req.method === 'GET' && path === '/__stats') return json(res, 200, records.get(url.searchParams.get('q') ?? '') ?? null);
    if (req.method === 'GET' && path.startsWith('/page/')) {
      const html = page(path.slice('/page/'.length), url.searchParams);
      if (html) return res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
    }
    if (req.method === 'GET') return await serveStatic(res, path);
    json(res, 405, { detail: 'Method Not Allowed' });
  } catch (error) {
    if (!res.headersSent) json(res, 500, { detail: String(error) });
    else res.destroy();
  }
});
server.keepAliveTimeout = 30_000;

await new Promise((go) => server.listen(0, HOST, go));
const origin = `http://${HOST}:${server.address().port}`;

// The reference broker (embed.md section 6), with this server as its upstream. Rate limits are off
// so the load loop measures the handler, not the limiter's refusals.
let brokerUrl = null;
let brokerError = null;
try {
  const { createBroker } = await import(pathToFileURL(join(DIST, 'server.js')).href);
  const { serve } = await import(pathToFileURL(join(DIST, 'server-node.js')).href);
  const allow = { hit: () => ({ allowed: true, retryAfterSeconds: 0 }) };
  // Timings of each proxied completion, to split what the broker adds: its own work before calling
  // upstream (read body, verify token, build the call), the upstream call to headers, the rest.
  let current = null;
  const timedFetch = async (url, init) => {
    const t = current;
    if (t) t.upstreamCall = performance.now();
    const response = await fetch(url, init);
    if (t) t.upstreamHeaders = performance.now();
    return response;
  };
  const inner = createBroker({
    upstreamBase: `${origin}/api/v1`,
    upstreamKey: 'sk-bench-upstream-not-a-real-key',
    agentIds: ['bench-agent'],
    allowedOrigins: [origin],
    signingKeys: [{ kid: 'bench', secret: 'bench-signing-secret-not-a-real-one-0123456789' }],
    limiter: allow,
    completionLimiter: false,
    clientIp: () => '127.0.0.1',
    heartbeatMs: 0,
    fetch: timedFetch,
    log: () => {},
  });
  const handler = async (request) => {
    if (!request.url.endsWith('/chat/completions')) return inner(request);
    const t = (current = { start: performance.now() });
    const response = await inner(request);
    t.returned = performance.now();
    brokerTimings.push(t);
    if (brokerTimings.length > 1000) brokerTimings.shift();
    return response;
  };
  const broker = await serve(handler, { port: 0, host: HOST });
  brokerUrl = broker.url;
} catch (error) {
  brokerError = String(error?.stack ?? error);
}

process.on('message', (msg) => {
  if (msg?.type === 'close') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', url: origin, brokerUrl, brokerError });
