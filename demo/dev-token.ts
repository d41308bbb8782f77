/**
 * Development token endpoint (embed.md section 5) for the demo and the browser tests.
 *
 * NOT the production broker (embed.md section 6): it signs nothing and checks no origin. It hands out
 * `sk-dev-<random>` tokens that the local mock (`codegpt-mock.ts`) accepts because they match `^sk-`.
 *
 * Programmable through query parameters on the endpoint URL, because the widget is configured with
 * the whole URL (`data-token-endpoint="/dev/token?script=500,500,200&key=c2"`):
 *
 * | parameter    | meaning                                                                          |
 * | ------------ | -------------------------------------------------------------------------------- |
 * | `key`        | which call counter and script position to use. @defaultValue `default`          |
 * | `script`     | comma list of outcomes, one consumed per call for that key; 200 once it runs out |
 * | `ttl`        | `expiresIn` in seconds. @defaultValue 600                                         |
 * | `retryAfter` | `Retry-After` seconds for 429/503 (and the offset of `429date`). @defaultValue 1 |
 * | `delay`      | ms to wait before answering                                                      |
 *
 * Outcomes (reliability.md C2–C6):
 * `200` token · `401` unauthenticated · `403` origin_not_allowed · `429` rate_limited + Retry-After
 * seconds · `429date` the same with an HTTP-date · `500` unavailable · `503` unavailable + Retry-After
 * · `html` 200 text/html sign-in page · `badjson` 200 truncated JSON · `empty` 200 `{}` · `neg`
 * expiresIn -5 · `str` expiresIn "abc" · `huge` expiresIn 1e12 · `big` a valid token in a body over
 * 1 MiB · `hang` never answers (until the client gives up).
 *
 * `GET /dev/token/stats?key=k` → `{ "calls": n }`: every POST counts, whatever it got back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Middleware } from './codegpt-mock';

/** Options of {@link createDevTokenEndpoint}. */
export interface DevTokenOptions {
  /** The API base handed out with each token (the mock's `/api/v1` URL). */
  apiBase: () => string;
  /** Replaces the timer behind `delay`; tests pass one that resolves at once. */
  wait?: (ms: number) => Promise<void>;
}

/** The handler, plus the per-key call count (the same number `/dev/token/stats` reports). */
export type DevTokenHandler = Middleware & { calls(key?: string): number };

/** Every outcome a `script` may list. */
export const DEV_TOKEN_OUTCOMES = [
  '200', '401', '403', '429', '429date', '500', '503', 'html', 'badjson', 'empty', 'neg', 'str', 'huge', 'big', 'hang',
] as const;
export type DevTokenOutcome = (typeof DEV_TOKEN_OUTCOMES)[number];

const ERRORS: Partial<Record<DevTokenOutcome, { status: number; code: string; message: string; retry?: boolean }>> = {
  '401': { status: 401, code: 'unauthenticated', message: 'Sign in to use the chat.' },
  '403': { status: 403, code: 'origin_not_allowed', message: 'This site may not use the chat.' },
  '429': { status: 429, code: 'rate_limited', message: 'Too many token requests.', retry: true },
  '429date': { status: 429, code: 'rate_limited', message: 'Too many token requests.', retry: true },
  '500': { status: 500, code: 'unavailable', message: 'The token service failed.' },
  '503': { status: 503, code: 'unavailable', message: 'The token service is unavailable.', retry: true },
};

/** `expiresIn` values a client must refuse (reliability.md C5). */
const BAD_EXPIRES_IN: Partial<Record<DevTokenOutcome, unknown>> = { neg: -5, str: 'abc', huge: 1e12 };

const SIGN_IN_PAGE = '<!doctype html><html><head><title>Sign in</title></head><body><h1>Sign in</h1>' +
  '<form method="post" action="/login"><input name="email"><button>Continue</button></form></body></html>';

/**
 * Creates the `POST /dev/token` and `GET /dev/token/stats` handler. Other paths go to `next()`
 * (or get a 404).
 */
export function createDevTokenEndpoint(options: DevTokenOptions): DevTokenHandler {
  const counts = new Map<string, number>();
  const calls = (key = 'default') => counts.get(key) ?? 0;

  const handler: Middleware = (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://dev.local');
    if (url.pathname !== '/dev/token' && url.pathname !== '/dev/token/stats') {
      if (next) return next();
      return sendError(res, 404, 'bad_request', 'Not found.');
    }
    applyCors(req, res);
    if (req.method === 'OPTIONS') return preflight(res);
    const key = url.searchParams.get('key') || 'default';
    if (url.pathname === '/dev/token/stats') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, { calls: calls(key) });
    }
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    counts.set(key, calls(key) + 1);
    issue(req, res, url, calls(key)).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'unavailable', 'The token service failed.');
      else res.destroy();
    });
  };

  async function issue(req: IncomingMessage, res: ServerResponse, url: URL, call: number): Promise<void> {
    const query = readQuery(url.searchParams);
    const raw = await readText(req);
    if (typeof query === 'string') return sendError(res, 400, 'bad_request', query);
    const closed = watchClose(res);
    if (query.delay > 0) await Promise.race([options.wait ? options.wait(query.delay) : sleep(query.delay, closed), closed.promise]);
    if (closed.done) return;

    const problem = checkRequest(req, raw);
    if (problem) return sendError(res, 400, 'bad_request', problem);

    const outcome: DevTokenOutcome = query.script[call - 1] ?? '200';
    const error = ERRORS[outcome];
    if (error) {
      if (error.retry) {
        const seconds = query.retryAfter;
        res.setHeader('Retry-After', outcome === '429date' ? new Date(Date.now() + seconds * 1000).toUTCString() : String(seconds));
      }
      return sendError(res, error.status, error.code, error.message);
    }
    switch (outcome) {
      case 'hang':
        return closed.promise;
      case 'html':
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        return void res.end(SIGN_IN_PAGE);
      case 'badjson':
        return sendText(res, 200, '{"token":"sk-dev-trunc');
      case 'empty':
        return sendJson(res, 200, {});
      default: {
        const expiresIn = BAD_EXPIRES_IN[outcome] ?? query.ttl;
        const token = { token: `sk-dev-${randomBytes(16).toString('hex')}`, expiresIn, tokenType: 'Bearer', apiBase: options.apiBase() };
        // `big`: a valid token inside a body over 1 MiB, which only a size cap can refuse (C5).
        return sendJson(res, 200, outcome === 'big' ? { ...token, padding: 'x'.repeat(1024 * 1024) } : token);
      }
    }
  }

  return Object.assign(handler, { calls });
}

interface Query {
  script: DevTokenOutcome[];
  ttl: number;
  retryAfter: number;
  delay: number;
}

/** Parses the programming parameters; a string is the 400 message naming the bad parameter. */
function readQuery(params: URLSearchParams): Query | string {
  const script = (params.get('script') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = script.find((s) => !(DEV_TOKEN_OUTCOMES as readonly string[]).includes(s));
  if (unknown !== undefined) return `Unknown script outcome "${unknown}"; use ${DEV_TOKEN_OUTCOMES.join(', ')}.`;
  const num = (name: string, fallback: number, min: number): number | string => {
    const raw = params.get(name);
    if (raw === null || raw === '') return fallback;
    const n = Number(raw);
    return Number.isFinite(n) && n >= min ? n : `Query parameter "${name}" must be a number ≥ ${min}.`;
  };
  const ttl = num('ttl', 600, -Infinity);
  const retryAfter = num('retryAfter', 1, 0);
  const delay = num('delay', 0, 0);
  if (typeof ttl === 'string') return ttl;
  if (typeof retryAfter === 'string') return retryAfter;
  if (typeof delay === 'string') return delay;
  return { script: script as DevTokenOutcome[], ttl, retryAfter: Math.round(retryAfter), delay };
}

/** Checks the request embed.md section 5 prescribes: JSON `{ agentId, widgetVersion }`. */
function checkRequest(req: IncomingMessage, raw: string): string | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return 'Content-Type must be application/json.';
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'The body is not valid JSON.';
  }
  if (typeof body !== 'object' || body === null) return 'The body must be a JSON object.';
  const { agentId, widgetVersion } = body as Record<string, unknown>;
  if (typeof agentId !== 'string' || agentId === '') return '"agentId" must be a non-empty string.';
  if (typeof widgetVersion !== 'string' || widgetVersion === '') return '"widgetVersion" must be a non-empty string.';
  return undefined;
}

function applyCors(req: IncomingMessage, res: ServerResponse): void {
  // The token request may carry cookies (`tokenCredentials: include`): echo the exact origin, never '*'.
  const origin = req.headers.origin;
  if (!origin) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
  res.setHeader('Vary', 'Origin');
}

function preflight(res: ServerResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendError(res, 405, 'bad_request', `Use ${allow}.`);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size <= 64 * 1024) parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

interface Closed {
  readonly done: boolean;
  promise: Promise<void>;
}

function watchClose(res: ServerResponse): Closed {
  const state = { done: false, promise: Promise.resolve() };
  state.promise = new Promise<void>((resolve) =>
    res.on('close', () => {
      state.done = true;
      resolve();
    }),
  );
  return state;
}

function sleep(ms: number, closed: Closed): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void closed.promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
