/**
 * A local CodeGPT-compatible API for the demo and every test: codegpt-api.md section 8.
 *
 * Plain `node:http` (no framework) so it runs as Vite dev-server middleware, inside `demo/server.ts`,
 * or in any test. It is deterministic: the same request always gets the same answer and the same pieces.
 *
 * Routes (8.1), each also without the `/api` prefix (`/v1/...`, legacy URLs):
 *   POST /api/v1/chat/completions      8.3
 *   GET  /api/v1/agent, /api/v1/agents 8.4 (list)
 *   GET  /api/v1/agent/{id}, /agents/{id} 8.4
 *   GET  /health                       8.5 (no auth)
 *
 * Known agents (8.3 "Unknown agentId → 404"). We chose a permissive default, because the widget's
 * tests and demos invent agent ids freely:
 *   - the fixture agents (or `options.agents`) are known and may have scripted replies;
 *   - every `mock-<anything>` id is known (`mock-<scenario>` also selects a fault scenario, 8.6);
 *   - any other id is known too and gets the `You said: …` reply, EXCEPT ids that are `missing` or
 *     start with `missing-` (e.g. `missing-agent`), which always 404;
 *   - `strictAgents: true` turns the permissive default off (only listed and `mock-` ids exist).
 *
 * Fault scenarios (8.6), chosen by the `X-Mock-Scenario` header (wins) or the agentId `mock-<name>`.
 * They apply to chat completions; the header also applies the response-level ones (†) to agent routes.
 *
 * | name             | what the client sees                                                             |
 * | ---------------- | -------------------------------------------------------------------------------- |
 * | slow             | 200–500 ms between pieces (non-stream: one such delay before the body)           |
 * | keepalive        | `: keep-alive` comment events between data events                                |
 * | crlf             | lines end `\r\n`, events end `\r\n\r\n`                                           |
 * | nospace          | `data:{…}` and `data:[DONE]`, no space after the colon                           |
 * | no-done          | no `data: [DONE]`; the body just ends after the finish chunk                     |
 * | split            | the byte stream written in 1–7-byte fragments, cutting every `data:` prefix and  |
 * |                  | every multi-byte character (also applies to text streams and non-stream bodies)  |
 * | coalesce         | three events per write                                                           |
 * | bare-json        | chunk objects with no `data:`, no separator, no `[DONE]` (March 2024)            |
 * | contents-array   | deltas as `{contents:[{type:"text",content}]}`, plus one `reasoning` part (2025) |
 * | legacy-data      | `data: {"data":"<piece>"}` frames + `[DONE]` (plus.codegpt.co, 2023)             |
 * | midstream-error  | two pieces, then `data: {"error":{…}}`, then close without `[DONE]`              |
 * | abort            | two pieces, 100 ms, then the socket is destroyed (non-stream: half the body)     |
 * | http-429 †       | 429 `{"detail":"Too many requests"}`, `Retry-After: 2`                            |
 * | http-500 †       | 500 `{"detail":"Internal server error"}`                                         |
 * | http-502-html †  | 502 text/html `<html><body>Bad Gateway</body></html>`                            |
 * | http-400 †       | 400 `{"detail":"Bad request"}`                                                   |
 * | error-array †    | 400 `{"error":["Something went wrong"]}`                                         |
 * | Ours, for client tests (not in 8.6):                                                                |
 * | hang †           | headers, then nothing; the socket stays open until the client goes away         |
 * | silent-keepalive | headers, then only `: ping` comments every pingMs for silenceMs, then the answer |
 * |                  | (text streams: silence without pings). Query `?silenceMs=&pingMs=` or headers    |
 * |                  | `X-Mock-Silence-Ms` / `X-Mock-Ping-Ms`; defaults from `options.silence`          |
 * | buffered         | the whole body in one write at the end, with Content-Length (proxy buffering)    |
 * | http-503 †       | 503 `{"detail":"Service unavailable"}`, `Retry-After: 2`                          |
 * | http-401 †       | 401 `{"detail":"Invalid API key"}` (e.g. a token that expired upstream)          |
 * | json-200-error † | 200 application/json `{"detail":"Agent is not available"}`                       |
 * | html-200 †       | 200 text/html sign-in page (a login redirect)                                    |
 *
 * Framing scenarios (keepalive, crlf, nospace, no-done, bare-json, contents-array, legacy-data) only
 * change `format:"json"` streams; a `format:"text"` stream has no framing to vary. `midstream-error`
 * on a text stream ends cleanly after two pieces (raw text cannot carry an error). An unknown
 * `X-Mock-Scenario` is a 400, so a typo never silently passes; `mock-<unknown>` is a normal agent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

/** Connect-style handler: works in `http.createServer`, Vite's dev server and tests. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

/** A chat message as received (after validation). */
export interface MockMessage {
  role: string;
  content: string;
}

/** An agent the mock knows (codegpt-api.md 5.1 / 8.4 fields), plus its scripted replies. */
export interface MockAgent {
  id: string;
  name: string;
  welcome?: string;
  image?: string | null;
  description?: string | null;
  /** @defaultValue `gpt-4o-mini` */
  model?: string;
  prompt?: string;
  is_public?: boolean;
  /** Our extension (8.4): CodeGPT has no confirmed field for starter questions. */
  suggested_questions?: string[];
  /** Scripted reply used when no entry of `replies` matches. */
  reply?: string;
  /** Replies keyed by the last user message, compared trimmed and lower-cased. */
  replies?: Record<string, string>;
}

/** Options of {@link createMockCodeGPT}. Every field is optional. */
export interface MockOptions {
  /** Which bearer tokens are valid. @defaultValue any token matching `^sk-` (8.2) */
  acceptToken?: (token: string) => boolean;
  /** When set, a request whose `CodeGPT-Org-Id` differs gets 403 (8.2). Absent header is fine. */
  orgId?: string;
  /** Replaces the fixture agents ({@link FIXTURE_AGENTS}). */
  agents?: MockAgent[];
  /** Only listed agents and `mock-` ids exist; everything else 404s. @defaultValue false */
  strictAgents?: boolean;
  /**
   * Produces the full reply. A later step plugs a docs agent in here.
   * @defaultValue scripted replies of the agents, else `You said: <last user message>`
   */
  answer?: (agentId: string, messages: MockMessage[]) => string | Promise<string>;
  /** Delay between streamed pieces, in ms (the demo uses a small one so streaming is visible). @defaultValue 0 */
  pieceDelayMs?: number;
  /** Defaults of the `silent-keepalive` scenario. @defaultValue `{ silenceMs: 2000, pingMs: 500 }` */
  silence?: { silenceMs?: number; pingMs?: number };
  /** Replaces the timer behind every delay; tests pass a recorder that resolves at once. */
  wait?: (ms: number) => Promise<void>;
  /** One line per finished request. Never contains the token. */
  log?: (line: string) => void;
}

/** What the last request looked like, for test assertions. The Authorization value is redacted. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, the raw text when it was not JSON, or undefined when there was none. */
  body: unknown;
}

/** Live counters (mutated in place). */
export interface MockStats {
  requests: number;
  /** Requests whose client went away before the response ended ("the server saw the disconnect"). */
  aborted: number;
  lastRequest: RecordedRequest | undefined;
}

/** The handler, with its counters. */
export type MockHandler = Middleware & { readonly stats: MockStats };

/** Every fault scenario name (8.6 plus ours); see the table at the top of this file. */
export const SCENARIOS = [
  'slow', 'keepalive', 'crlf', 'nospace', 'no-done', 'split', 'coalesce', 'bare-json', 'contents-array',
  'legacy-data', 'midstream-error', 'abort', 'http-429', 'http-500', 'http-502-html', 'http-400',
  'error-array', 'hang', 'silent-keepalive', 'buffered', 'http-503', 'http-401', 'json-200-error', 'html-200',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Scenarios answered before any reply is generated (†in the table). */
const JSON_TYPE = { 'Content-Type': 'application/json' };
const HTML_TYPE = { 'Content-Type': 'text/html; charset=utf-8' };
const RESPONSE_SCENARIOS: Partial<Record<Scenario, { status: number; headers: Record<string, string>; body: string }>> = {
  'http-429': { status: 429, headers: { ...JSON_TYPE, 'Retry-After': '2' }, body: '{"detail":"Too many requests"}' },
  'http-503': { status: 503, headers: { ...JSON_TYPE, 'Retry-After': '2' }, body: '{"detail":"Service unavailable"}' },
  'http-500': { status: 500, headers: JSON_TYPE, body: '{"detail":"Internal server error"}' },
  'http-502-html': { status: 502, headers: HTML_TYPE, body: '<html><body>Bad Gateway</body></html>' },
  'http-400': { status: 400, headers: JSON_TYPE, body: '{"detail":"Bad request"}' },
  'error-array': { status: 400, headers: JSON_TYPE, body: '{"error":["Something went wrong"]}' },
  'http-401': { status: 401, headers: { ...JSON_TYPE, 'WWW-Authenticate': 'Bearer' }, body: '{"detail":"Invalid API key"}' },
  'json-200-error': { status: 200, headers: JSON_TYPE, body: '{"detail":"Agent is not available"}' },
  'html-200': {
    status: 200,
    headers: HTML_TYPE,
    body: '<!doctype html><html><head><title>Sign in</title></head><body><h1>Sign in</h1>' +
      '<form method="post" action="/login"><input name="email"><button>Continue</button></form></body></html>',
  },
};

/** A markdown reply with multi-byte text, so UTF-8 split across chunk boundaries gets exercised (8.3). */
export const MARKDOWN_REPLY = [
  '# Getting started ☕',
  '',
  'Embed the widget in **three** steps:',
  '',
  '1. Build it with `npm run build`',
  '2. Paste the script tag into your page',
  '3. Point `data-token-endpoint` at your server',
  '',
  '```html',
  '<script src="/dist/codegpt-widget.iife.js" defer data-agent-id="docs-agent"></script>',
  '```',
  '',
  '- Works at the café ☕ and on the train 🚆',
  '- Read the [embed guide](https://example.com/docs/embed) for every option',
  '',
  'Happy shipping! 🚀',
].join('\n');

/** The fixture agents (8.4). `docs-agent` is the demo page's agent. */
export const FIXTURE_AGENTS: readonly MockAgent[] = [
  {
    id: 'docs-agent',
    name: 'codegpt-widget docs',
    welcome: 'Hi! I answer questions about codegpt-widget.',
    description: 'Answers questions about installing and configuring the widget.',
    prompt: 'You answer questions about codegpt-widget.',
    suggested_questions: ['How do I install it?', 'Is it safe under CSP?', 'How big is it?'],
    replies: {
      'how do i install it?': MARKDOWN_REPLY,
      'is it safe under csp?':
        'Yes. The widget needs no `unsafe-inline` and no `unsafe-eval`:\n\n' +
        '- styles go through a constructable stylesheet (or a `<style nonce>` with `data-csp-nonce`)\n' +
        '- it only connects to the token endpoint and the API base\n\n' +
        'Add both origins to `connect-src`.',
      'how big is it?': 'The whole script-tag bundle stays under **20 KB gzip**, Preact and the markdown renderer included.',
    },
  },
  {
    id: 'markdown-agent',
    name: 'Markdown fixture',
    welcome: 'I always answer with the same markdown.',
    reply: MARKDOWN_REPLY,
  },
  { id: 'echo-agent', name: 'Echo', welcome: 'I repeat what you say.' },
];

const MISSING_AGENT = /^missing(-|$)/;
const FIXED_CREATED_AT = '2024-05-01T12:00:00.000Z';
const DEFAULT_ORG = '00000000-0000-4000-8000-000000000000';
const MAX_BODY = 1024 * 1024;

/**
 * Creates the mock CodeGPT handler. Requests it does not route go to `next()` (or get a JSON 404).
 */
export function createMockCodeGPT(options: MockOptions = {}): MockHandler {
  const acceptToken = options.acceptToken ?? ((token: string) => /^sk-/.test(token));
  const agents = options.agents ?? FIXTURE_AGENTS;
  const answer = options.answer ?? ((agentId: string, messages: MockMessage[]) => scriptedAnswer(agents, agentId, messages));
  const stats: MockStats = { requests: 0, aborted: 0, lastRequest: undefined };

  const handler: Middleware = (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://mock.local');
    const route = matchRoute(url.pathname);
    if (!route) {
      if (next) return next();
      return sendJson(res, 404, { detail: 'Not Found' });
    }
    stats.requests += 1;
    const life = trackLifecycle(req, res, stats, options, url);
    applyCors(req, res);
    const ctx: Ctx = { req, res, url, life, stats };
    handle(ctx, route).catch((error: unknown) => {
      options.log?.(`mock error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { detail: 'Internal server error' });
      else res.destroy();
    });
  };

  async function handle(ctx: Ctx, route: Route): Promise<void> {
    const { req, res } = ctx;
    const method = req.method ?? 'GET';
    record(ctx, undefined);
    if (method === 'OPTIONS') return preflight(res);
    if (route.kind === 'health') {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, { status: 'ok' });
    }
    if (route.kind === 'unknown') return sendJson(res, 404, { detail: 'Not Found' });
    const allowed = route.kind === 'chat' ? 'POST' : 'GET';
    if (method !== allowed) return methodNotAllowed(res, allowed);
    if (!authorize(req, res)) return;

    const headerScenario = readHeaderScenario(req);
    if (headerScenario === null) {
      return sendJson(res, 400, { detail: `Unknown X-Mock-Scenario: ${String(req.headers['x-mock-scenario'])}` });
    }
    if (route.kind !== 'chat') {
      if (headerScenario && (await respondScenario(ctx, headerScenario, JSON_TYPE))) return;
      if (route.kind === 'agents') return sendJson(res, 200, agents.map((agent) => toAgentJson(agent, options.orgId)));
      const agent = findAgent(route.id);
      return agent ? sendJson(res, 200, toAgentJson(agent, options.orgId)) : sendJson(res, 404, { detail: 'Agent not found' });
    }
    return chat(ctx, headerScenario);
  }

  async function chat(ctx: Ctx, headerScenario: Scenario | undefined): Promise<void> {
    const { req, res } = ctx;
    const raw = await readBody(req);
    if (raw === 'too-large') {
      res.setHeader('Connection', 'close');
      return sendJson(res, 413, { detail: 'Request entity too large' });
    }
    const parsed = parseJsonBody(req, raw);
    record(ctx, parsed.recorded);
    if ('detail' in parsed) return sendJson(res, 422, { detail: parsed.detail });
    const body = validateChatBody(parsed.value);
    if (!body.ok) return sendJson(res, 422, { detail: body.detail });

    const agent = findAgent(body.value.agentId);
    if (!agent) return sendJson(res, 404, { detail: 'Agent not found' });
    const scenario = headerScenario ?? scenarioOfAgent(body.value.agentId);
    const { stream, format } = body.value;
    const hangHeaders = !stream ? JSON_TYPE : format === 'text' ? TEXT_HEADERS : SSE_HEADERS;
    if (scenario && (await respondScenario(ctx, scenario, hangHeaders))) return;

    const text = await answer(agent.id, body.value.messages);
    const reply: Reply = {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      created: Math.floor(Date.now() / 1000),
      model: agent.model ?? 'gpt-4o-mini',
      agentName: agent.name,
      text,
      pieces: splitPieces(text),
      promptTokens: body.value.messages.reduce((sum, m) => sum + countWords(m.content), 0),
    };
    const play = createPlayer(ctx, scenario, options);
    if (!stream) return play.whole(reply, format);
    return format === 'text' ? play.text(reply) : play.sse(reply);
  }

  /** Answers the response-level scenarios (and `hang`); returns false when the scenario shapes the body instead. */
  async function respondScenario(ctx: Ctx, scenario: Scenario, hangHeaders: Record<string, string>): Promise<boolean> {
    const canned = RESPONSE_SCENARIOS[scenario];
    if (canned) {
      ctx.res.writeHead(canned.status, canned.headers);
      ctx.res.end(canned.body);
      return true;
    }
    if (scenario !== 'hang') return false;
    ctx.res.writeHead(200, hangHeaders);
    ctx.res.flushHeaders();
    await ctx.life.untilClosed();
    return true;
  }

  function findAgent(id: string): MockAgent | undefined {
    const listed = agents.find((agent) => agent.id === id);
    if (listed) return listed;
    if (id.startsWith('mock-')) return { id, name: id };
    if (options.strictAgents || MISSING_AGENT.test(id)) return undefined;
    return { id, name: id };
  }

  function authorize(req: IncomingMessage, res: ServerResponse): boolean {
    const match = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendJson(res, 401, { detail: 'Not authenticated' });
      return false;
    }
    if (!acceptToken(match[1])) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendJson(res, 401, { detail: 'Invalid API key' });
      return false;
    }
    const org = req.headers['codegpt-org-id'];
    if (options.orgId !== undefined && org !== undefined && org !== options.orgId) {
      sendJson(res, 403, { detail: 'Forbidden' });
      return false;
    }
    return true;
  }

  return Object.assign(handler, { stats });
}

// ---------------------------------------------------------------------------------------------
// Routing, CORS, bookkeeping

type Route = { kind: 'health' } | { kind: 'chat' } | { kind: 'agents' } | { kind: 'unknown' } | { kind: 'agent'; id: string };

function matchRoute(pathname: string): Route | undefined {
  if (pathname === '/health') return { kind: 'health' };
  const prefix = /^\/(?:api\/)?v1(?=\/|$)/.exec(pathname);
  if (!prefix) return undefined;
  const rest = pathname.slice(prefix[0].length);
  if (rest === '/chat/completions') return { kind: 'chat' };
  if (rest === '/agent' || rest === '/agents') return { kind: 'agents' };
  const one = /^\/agents?\/([^/]+)$/.exec(rest);
  if (one?.[1]) {
    try {
      return { kind: 'agent', id: decodeURIComponent(one[1]) };
    } catch {
      return { kind: 'unknown' };
    }
  }
  return { kind: 'unknown' };
}

interface Lifecycle {
  /** True once the client went away or the response ended. */
  readonly closed: () => boolean;
  /** Resolves after `ms` (via `options.wait` when given), or at once when the connection closes. */
  pause(ms: number): Promise<void>;
  /** A real gap (default 1 ms) that `options.wait` never replaces: for the wire, not for pacing. */
  tick(ms?: number): Promise<void>;
  untilClosed(): Promise<void>;
  /** Marks a socket destroy as ours, so it is not counted as a client disconnect. */
  destroyedByUs(): void;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  life: Lifecycle;
  stats: MockStats;
}

function trackLifecycle(req: IncomingMessage, res: ServerResponse, stats: MockStats, options: MockOptions, url: URL): Lifecycle {
  let closed = false;
  let ours = false;
  const waiters = new Set<() => void>();
  res.on('close', () => {
    closed = true;
    // 'close' also follows a normal end; only a close before end() is the client going away.
    const aborted = !res.writableEnded && !ours;
    if (aborted) stats.aborted += 1;
    options.log?.(`${req.method ?? 'GET'} ${url.pathname} ${res.statusCode}${aborted ? ' (client went away)' : ''}`);
    for (const wake of waiters) wake();
    waiters.clear();
  });
  const untilClosed = () => new Promise<void>((resolve) => (closed ? resolve() : waiters.add(resolve)));
  return {
    closed: () => closed,
    untilClosed,
    destroyedByUs: () => {
      ours = true;
    },
    pause(ms) {
      if (closed) return Promise.resolve();
      if (options.wait) return Promise.race([options.wait(ms), untilClosed()]);
      return sleep(ms);
    },
    tick: (ms = 1) => (closed ? Promise.resolve() : sleep(ms)),
  };

  function sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(handle);
        waiters.delete(done);
        resolve();
      };
      const handle = setTimeout(done, ms);
      waiters.add(done);
    });
  }
}

function applyCors(req: IncomingMessage, res: ServerResponse): void {
  // 8.1: on every response, errors included. Echo the Origin (with Vary) or fall back to '*'.
  const origin = req.headers.origin;
  res.setHeader('Access-Control-Allow-Origin', origin ?? '*');
  if (origin) res.setHeader('Vary', 'Origin');
  // Ours: without this a cross-origin client cannot read Retry-After (not a CORS-safelisted header).
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
}

function preflight(res: ServerResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    // 8.1's list, plus our X-Mock-Scenario so browser tests may send it cross-origin.
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, CodeGPT-Org-Id, Channel, source, channel, X-Mock-Scenario',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendJson(res, 405, { detail: 'Method Not Allowed' });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function record(ctx: Ctx, body: unknown): void {
  const headers: RecordedRequest['headers'] = { ...ctx.req.headers };
  if (headers.authorization !== undefined) headers.authorization = '[redacted]';
  ctx.stats.lastRequest = { method: ctx.req.method ?? 'GET', path: ctx.url.pathname + ctx.url.search, headers, body };
}

function readHeaderScenario(req: IncomingMessage): Scenario | undefined | null {
  const raw = req.headers['x-mock-scenario'];
  if (raw === undefined) return undefined;
  const name = String(raw).trim().toLowerCase();
  return (SCENARIOS as readonly string[]).includes(name) ? (name as Scenario) : null;
}

function scenarioOfAgent(agentId: string): Scenario | undefined {
  const name = agentId.startsWith('mock-') ? agentId.slice(5) : '';
  return (SCENARIOS as readonly string[]).includes(name) ? (name as Scenario) : undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size <= MAX_BODY) parts.push(part);
    });
    req.on('end', () => resolve(size > MAX_BODY ? 'too-large' : Buffer.concat(parts)));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Validation (8.3): FastAPI / pydantic-v1 error shapes.

/** One pydantic-v1 validation error. */
export interface ValidationItem {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

/** A validated chat request, defaults applied. */
export interface ChatRequest {
  agentId: string;
  messages: MockMessage[];
  stream: boolean;
  format: 'json' | 'text';
}

type Parsed = { value: unknown; recorded: unknown } | { detail: ValidationItem[]; recorded: unknown };

function parseJsonBody(req: IncomingMessage, raw: Buffer): Parsed {
  const text = raw.toString('utf8');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  // FastAPI parses JSON when the Content-Type is absent or */json, */*+json; any other body is not a dict.
  const isJson = type === '' || /^[a-z]+\/([a-z0-9.+-]+\+)?json$/.test(type);
  if (!isJson) return { detail: [notDict(['body'])], recorded: text };
  if (text.trim() === '') return { detail: [missing(['body'])], recorded: undefined };
  try {
    const value = JSON.parse(text) as unknown;
    return { value, recorded: value };
  } catch {
    return { detail: [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }], recorded: text };
  }
}

const missing = (loc: (string | number)[]): ValidationItem => ({ loc, msg: 'field required', type: 'value_error.missing' });
const notDict = (loc: (string | number)[]): ValidationItem => ({ loc, msg: 'value is not a valid dict', type: 'type_error.dict' });
const notStr = (loc: (string | number)[]): ValidationItem => ({ loc, msg: 'str type expected', type: 'type_error.str' });
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const ROLES = ['user', 'assistant', 'system'];
const FORMATS = ['json', 'text'];

/** Checks a chat body the way the FastAPI backend is assumed to (8.3). Types are strict (no coercion). */
export function validateChatBody(body: unknown): { ok: true; value: ChatRequest } | { ok: false; detail: ValidationItem[] } {
  if (body === null) return { ok: false, detail: [missing(['body'])] };
  if (!isObject(body)) return { ok: false, detail: [notDict(['body'])] };
  const errors: ValidationItem[] = [];
  const { agentId, messages, stream = true, format = 'json' } = body;

  if (agentId === undefined) errors.push(missing(['body', 'agentId']));
  else if (typeof agentId !== 'string') errors.push(notStr(['body', 'agentId']));
  else if (agentId === '') {
    errors.push({ loc: ['body', 'agentId'], msg: 'ensure this value has at least 1 characters', type: 'value_error.any_str.min_length', ctx: { limit_value: 1 } });
  }

  if (messages === undefined) errors.push(missing(['body', 'messages']));
  else if (!Array.isArray(messages)) errors.push({ loc: ['body', 'messages'], msg: 'value is not a valid list', type: 'type_error.list' });
  else if (messages.length === 0) {
    errors.push({ loc: ['body', 'messages'], msg: 'ensure this value has at least 1 items', type: 'value_error.list.min_items', ctx: { limit_value: 1 } });
  } else {
    messages.forEach((item: unknown, i) => {
      const loc = ['body', 'messages', i];
      if (!isObject(item)) {
        errors.push(notDict(loc));
        return;
      }
      if (item.role === undefined) errors.push(missing([...loc, 'role']));
      else if (typeof item.role !== 'string' || !ROLES.includes(item.role)) {
        errors.push({ loc: [...loc, 'role'], msg: "unexpected value; permitted: 'user', 'assistant', 'system'", type: 'value_error.const', ctx: { given: item.role, permitted: ROLES } });
      }
      if (item.content === undefined) errors.push(missing([...loc, 'content']));
      else if (typeof item.content !== 'string') errors.push(notStr([...loc, 'content']));
    });
  }

  if (typeof stream !== 'boolean') errors.push({ loc: ['body', 'stream'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' });
  if (typeof format !== 'string' || !FORMATS.includes(format)) {
    errors.push({ loc: ['body', 'format'], msg: "unexpected value; permitted: 'json', 'text'", type: 'value_error.const', ctx: { given: format, permitted: FORMATS } });
  }
  if (errors.length > 0) return { ok: false, detail: errors };
  return {
    ok: true,
    value: {
      agentId: agentId as string,
      messages: (messages as MockMessage[]).map((m) => ({ role: m.role, content: m.content })),
      stream: stream as boolean,
      format: format as 'json' | 'text',
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Replies

function scriptedAnswer(agents: readonly MockAgent[], agentId: string, messages: MockMessage[]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const agent = agents.find((a) => a.id === agentId);
  const scripted = agent?.replies?.[lastUser.trim().toLowerCase()] ?? agent?.reply;
  return scripted ?? `You said: ${lastUser}`;
}

function toAgentJson(agent: MockAgent, orgId: string | undefined): Record<string, unknown> {
  return {
    id: agent.id,
    name: agent.name,
    welcome: agent.welcome ?? '',
    image: agent.image ?? null,
    description: agent.description ?? null,
    model: agent.model ?? 'gpt-4o-mini',
    agent_type: 'qa',
    is_public: agent.is_public ?? false,
    org_id: orgId ?? DEFAULT_ORG,
    created_at: FIXED_CREATED_AT,
    prompt: agent.prompt ?? '',
    agent_documents: [],
    pincode: null,
    ...(agent.suggested_questions ? { suggested_questions: agent.suggested_questions } : {}),
  };
}

const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/**
 * Cuts a reply into pieces of 1, 2, 3, 1, 2, 3… words, each keeping the whitespace before it
 * (the trailing whitespace joins the last piece), so `pieces.join('') === text` always (8.3).
 */
export function splitPieces(text: string): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  const pieces: string[] = [];
  for (let i = 0, n = 0; i < words.length; n += 1) {
    const size = (n % 3) + 1;
    pieces.push(words.slice(i, i + size).join(''));
    i += size;
  }
  const trailing = text.slice(words.join('').length);
  if (trailing) {
    if (pieces.length > 0) pieces[pieces.length - 1] += trailing;
    else pieces.push(trailing);
  }
  return pieces;
}

/**
 * Cuts bytes into 1–7-byte fragments (deterministic PRNG), forcing a cut inside every `data:` prefix
 * (`da|ta:`) and right after the first byte of every multi-byte UTF-8 character (8.6 `split`).
 */
export function fragmentBytes(bytes: Uint8Array): Uint8Array[] {
  const forced = new Set<number>();
  const dataPrefix = [0x64, 0x61, 0x74, 0x61, 0x3a];
  for (let i = 0; i < bytes.length; i += 1) {
    if ((bytes[i] ?? 0) >= 0xc0) forced.add(i + 1);
    if (dataPrefix.every((b, k) => bytes[i + k] === b)) forced.add(i + 2);
  }
  let seed = 0x5eed;
  const next = () => {
    // mulberry32: tiny, deterministic, good enough to vary fragment sizes.
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    let end = Math.min(bytes.length, pos + 1 + Math.floor(next() * 7));
    for (let cut = pos + 1; cut < end; cut += 1) {
      if (forced.has(cut)) {
        end = cut;
        break;
      }
    }
    out.push(bytes.subarray(pos, end));
    pos = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing responses

interface Reply {
  id: string;
  created: number;
  model: string;
  agentName: string;
  text: string;
  pieces: string[];
  promptTokens: number;
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};
const TEXT_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' };

/** 200–500 ms, varied but deterministic (`slow`). */
const slowDelay = (i: number): number => 200 + ((i * 137) % 301);

function createPlayer(ctx: Ctx, scenario: Scenario | undefined, options: MockOptions) {
  const { res, life } = ctx;
  const delay = (i: number) => (scenario === 'slow' ? slowDelay(i) : options.pieceDelayMs ?? 0);

  const write = (chunk: string | Uint8Array): Promise<void> =>
    new Promise((resolve) => {
      if (life.closed()) return resolve();
      // Resolve once handed to the socket, so a following destroy() cannot drop it.
      res.write(chunk, () => resolve());
    });

  /**
   * Kills the socket mid-response. The short real wait first matters: Chromium drops bytes it has
   * received but not yet handed to the page when a reset follows them at once, and a real server
   * dies after its last piece was delivered, not in the same millisecond.
   */
  const destroy = async () => {
    await life.tick(100);
    life.destroyedByUs();
    res.destroy();
  };

  async function silence(sse: boolean): Promise<void> {
    const q = ctx.url.searchParams;
    const h = ctx.req.headers;
    const total = numberFrom(q.get('silenceMs') ?? h['x-mock-silence-ms'], options.silence?.silenceMs ?? 2000);
    const every = Math.max(1, numberFrom(q.get('pingMs') ?? h['x-mock-ping-ms'], options.silence?.pingMs ?? 500));
    for (let waited = 0; waited < total && !life.closed(); waited += every) {
      await life.pause(Math.min(every, total - waited));
      if (sse) await write(': ping\n\n');
    }
  }

  /** Plays frames with the timing and write pattern the scenario asks for. */
  async function play(headers: Record<string, string>, frames: string[], end: 'end' | 'destroy', sse: boolean): Promise<void> {
    if (scenario === 'buffered') {
      for (let i = 1; i < frames.length; i += 1) await life.pause(delay(i));
      const body = Buffer.from(frames.join(''));
      if (life.closed()) return;
      res.writeHead(200, { ...headers, 'Content-Length': String(body.length) });
      res.end(body);
      return;
    }
    res.socket?.setNoDelay(true);
    res.writeHead(200, headers);
    res.flushHeaders();
    if (scenario === 'silent-keepalive') await silence(sse);
    if (scenario === 'split') {
      // Fragments are not paced like pieces: a real tick between writes keeps them apart on the wire.
      for (const fragment of fragmentBytes(Buffer.from(frames.join('')))) {
        await write(fragment);
        await life.tick();
      }
    } else {
      const group = scenario === 'coalesce' ? 3 : 1;
      for (let i = 0; i < frames.length; i += group) {
        if (i > 0) {
          if (scenario === 'keepalive' && sse) await write(': keep-alive\n\n');
          await life.pause(delay(i));
        }
        await write(frames.slice(i, i + group).join(''));
      }
    }
    if (life.closed()) return;
    if (end === 'destroy') await destroy();
    else res.end();
  }

  return {
    /** 8.3 responses 3 (and every json-format scenario). */
    sse(reply: Reply): Promise<void> {
      const eol = scenario === 'crlf' ? '\r\n' : '\n';
      const field = scenario === 'nospace' ? 'data:' : 'data: ';
      const frame = scenario === 'bare-json' ? (data: string) => data : (data: string) => `${field}${data}${eol}${eol}`;
      const chunk = (delta: unknown, finish: string | null) =>
        JSON.stringify({
          id: reply.id,
          object: 'chat.completion.chunk',
          created: reply.created,
          model: reply.model,
          choices: [{ index: 0, delta, finish_reason: finish }],
        });
      const cut = scenario === 'abort' || scenario === 'midstream-error';
      const pieces = cut ? reply.pieces.slice(0, 2) : reply.pieces;
      const frames: string[] = [];
      if (scenario === 'legacy-data') {
        for (const piece of pieces) frames.push(frame(JSON.stringify({ data: piece })));
      } else {
        frames.push(frame(chunk({ role: 'assistant' }, null)));
        pieces.forEach((piece, i) => {
          const delta =
            scenario !== 'contents-array'
              ? { content: piece }
              : {
                  contents: [
                    // One non-text part a client must not display (2025 shape, 8.6).
                    ...(i === 0 ? [{ type: 'reasoning', content: 'The user wants an answer; keep it short.' }] : []),
                    { type: 'text', content: piece },
                  ],
                };
          frames.push(frame(chunk(delta, null)));
        });
        if (!cut) frames.push(frame(chunk({}, 'stop')));
      }
      if (scenario === 'midstream-error') {
        frames.push(frame(JSON.stringify({ error: { message: 'Upstream model error', type: 'server_error' } })));
      }
      const withDone = !cut && scenario !== 'no-done' && scenario !== 'bare-json';
      if (withDone) frames.push(frame('[DONE]'));
      return play(SSE_HEADERS, frames, scenario === 'abort' ? 'destroy' : 'end', true);
    },

    /** 8.3 response 4: raw text pieces, no framing, no terminator. */
    text(reply: Reply): Promise<void> {
      const cut = scenario === 'abort' || scenario === 'midstream-error';
      const frames = cut ? reply.pieces.slice(0, 2) : reply.pieces;
      return play(TEXT_HEADERS, frames, scenario === 'abort' ? 'destroy' : 'end', false);
    },

    /** 8.3 responses 1 and 2. */
    async whole(reply: Reply, format: 'json' | 'text'): Promise<void> {
      const body = format === 'text'
        ? JSON.stringify(reply.text)
        : JSON.stringify({
            id: reply.id,
            object: 'chat.completion',
            created: reply.created,
            model: reply.model,
            agentName: reply.agentName,
            choices: [{ index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: 'stop' }],
            usage: {
              prompt_tokens: reply.promptTokens,
              completion_tokens: countWords(reply.text),
              total_tokens: reply.promptTokens + countWords(reply.text),
            },
          });
      const bytes = Buffer.from(body);
      if (scenario === 'split') return play(JSON_TYPE, [body], 'end', false);
      if (scenario === 'slow') await life.pause(slowDelay(1));
      if (life.closed()) return;
      res.writeHead(200, { ...JSON_TYPE, 'Content-Length': String(bytes.length) });
      if (scenario !== 'abort') return void res.end(bytes);
      // `abort`: half the promised body, then the socket dies.
      await write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      await destroy();
    },
  };
}

function numberFrom(value: string | string[] | null | undefined, fallback: number): number {
  const n = Number(Array.isArray(value) ? value[0] : value);
  return value === null || value === undefined || !Number.isFinite(n) || n < 0 ? fallback : n;
}
