import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createMockCodeGPT,
  fragmentBytes,
  MARKDOWN_REPLY,
  SCENARIOS,
  splitPieces,
  type MockOptions,
} from '../../demo/codegpt-mock';
import { startDemoServer, type DemoServer } from '../../demo/server';
import { readChunks, serve, splitJsonObjects, sseData } from './helpers';

const KEY = 'sk-test-0000';
const AUTH = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
}

/**
 * Servers are cheap; each describe block gets its own so stats and options never leak. These tests
 * are about the mock's own scripted defaults, not the demo's docs agent (`answers: 'mock'`).
 */
async function start(mock: MockOptions = {}): Promise<DemoServer> {
  return startDemoServer({ port: 0, mock, answers: 'mock' });
}

function post(server: DemoServer, body: unknown, headers: Record<string, string> = {}, path = '/api/v1/chat/completions') {
  return fetch(server.url + path, {
    method: 'POST',
    headers: { ...AUTH, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const ask = (agentId: string, content: string, extra: Record<string, unknown> = {}) => ({
  agentId,
  messages: [{ role: 'user', content }],
  ...extra,
});

/** The non-stream answer for the same request: the reference every stream must reproduce. */
async function wholeAnswer(server: DemoServer, agentId: string, content: string): Promise<string> {
  const res = await post(server, ask(agentId, content, { stream: false }));
  const json = (await res.json()) as { choices: { message: { content: string } }[] };
  return json.choices[0]!.message.content;
}

const contentOf = (data: string[]): string =>
  data
    .filter((d) => d !== '[DONE]')
    .map((d) => (JSON.parse(d) as Chunk).choices[0]?.delta.content ?? '')
    .join('');

describe('pure helpers', () => {
  it('splitPieces: pieces join back to the text exactly and hold 1–3 words each', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'é', '☕', '🚀', ' ', '\n', '\t', 'x', '`') }), (text) => {
        const pieces = splitPieces(text);
        expect(pieces.join('')).toBe(text);
        for (const piece of pieces) {
          const words = piece.split(/\s+/).filter(Boolean).length;
          if (text.trim() !== '') expect(words).toBeGreaterThanOrEqual(1);
          expect(words).toBeLessThanOrEqual(3);
        }
      }),
      { numRuns: 300 },
    );
    expect(splitPieces('You said: one two three four')).toEqual(['You', ' said: one', ' two three four']);
    expect(splitPieces('')).toEqual([]);
  });

  it('fragmentBytes: 1–7-byte fragments that rejoin exactly, cutting data: prefixes and multi-byte characters', () => {
    const input = new TextEncoder().encode('data: {"x":"café ☕ 🚀"}\n\ndata: [DONE]\n\n');
    const fragments = fragmentBytes(input);
    expect(Buffer.concat(fragments)).toEqual(Buffer.from(input));
    expect(fragments.every((f) => f.length >= 1 && f.length <= 7)).toBe(true);
    const texts = fragments.map((f) => Buffer.from(f).toString('latin1'));
    expect(texts.some((t) => t.endsWith('da'))).toBe(true);
    // A fragment that is not valid UTF-8 on its own: a character was cut.
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const cutInside = fragments.filter((f) => {
      try {
        fatal.decode(f);
        return false;
      } catch {
        return true;
      }
    });
    expect(cutInside.length).toBeGreaterThanOrEqual(3);
  });
});

describe('transport, health and CORS (8.1, 8.5)', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  it('GET /health needs no auth', async () => {
    const res = await fetch(server.url + '/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers a preflight with 204 and the 8.1 headers, echoing the Origin', async () => {
    const res = await fetch(server.url + '/api/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { Origin: 'https://docs.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://docs.example');
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/^Authorization, Content-Type, Accept, CodeGPT-Org-Id, Channel, source, channel/);
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('puts Access-Control-Allow-Origin on error responses too, and exposes Retry-After', async () => {
    const res = await fetch(server.url + '/api/v1/chat/completions', { method: 'POST', headers: { Origin: 'https://docs.example' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://docs.example');
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });

  it('unknown paths under /api/v1 are a JSON 404; wrong methods a 405 with Allow', async () => {
    const unknown = await fetch(server.url + '/api/v1/nope', { headers: AUTH });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: 'Not Found' });

    const get = await fetch(server.url + '/api/v1/chat/completions', { headers: AUTH });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toEqual({ detail: 'Method Not Allowed' });

    const postAgent = await fetch(server.url + '/api/v1/agent/docs-agent', { method: 'POST', headers: AUTH });
    expect(postAgent.status).toBe(405);
    expect(postAgent.headers.get('allow')).toBe('GET');
  });

  it('the same routes work without /api (legacy /v1)', async () => {
    const res = await post(server, ask('echo-agent', 'legacy', { stream: false }), {}, '/v1/chat/completions');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('You said: legacy');
  });

  it('as middleware, it passes other paths to next()', async () => {
    const handler = createMockCodeGPT();
    const next = vi.fn();
    const app = await serve((req, res) =>
      handler(req, res, () => {
        next(req.url);
        res.end('static');
      }),
    );
    const res = await fetch(app.url + '/index.html');
    expect(await res.text()).toBe('static');
    expect(next).toHaveBeenCalledWith('/index.html');
    expect(handler.stats.requests).toBe(0);
    await app.close();
  });
});

describe('authentication (8.2)', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await start({ orgId: 'org-1' });
  });
  afterAll(() => server.close());

  it.each([
    ['no header', {}, 'Not authenticated'],
    ['a Basic header', { Authorization: 'Basic dXNlcjpwYXNz' }, 'Not authenticated'],
    ['an empty Bearer', { Authorization: 'Bearer ' }, 'Not authenticated'],
    ['an unknown token', { Authorization: 'Bearer nope' }, 'Invalid API key'],
  ])('%s → 401 {"detail":"%s"}', async (_name, headers, detail) => {
    const res = await fetch(server.url + '/api/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(ask('echo-agent', 'hi')),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({ detail });
  });

  it('agent routes need auth too', async () => {
    expect((await fetch(server.url + '/api/v1/agents')).status).toBe(401);
  });

  it('the Bearer scheme is case-insensitive', async () => {
    const res = await post(server, ask('echo-agent', 'hi', { stream: false }), { Authorization: `bearer ${KEY}` });
    expect(res.status).toBe(200);
  });

  it('a different CodeGPT-Org-Id → 403; the same one or none is fine', async () => {
    const other = await post(server, ask('echo-agent', 'hi', { stream: false }), { 'CodeGPT-Org-Id': 'org-2' });
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({ detail: 'Forbidden' });
    expect((await post(server, ask('echo-agent', 'hi', { stream: false }), { 'codegpt-org-id': 'org-1' })).status).toBe(200);
    expect((await post(server, ask('echo-agent', 'hi', { stream: false }))).status).toBe(200);
  });

  it('acceptToken decides which tokens are valid', async () => {
    const strict = await start({ acceptToken: (t) => t === 'sk-only-this' });
    expect((await post(strict, ask('echo-agent', 'hi', { stream: false }))).status).toBe(401);
    expect((await post(strict, ask('echo-agent', 'hi', { stream: false }), { Authorization: 'Bearer sk-only-this' })).status).toBe(200);
    await strict.close();
  });
});

describe('validation (8.3, FastAPI / pydantic-v1 shapes)', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  const missing = (...loc: (string | number)[]) => ({ loc: ['body', ...loc], msg: 'field required', type: 'value_error.missing' });

  it.each([
    ['invalid JSON', '{"agentId":', [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }]],
    ['an empty body', '', [{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }]],
    ['a JSON array', [], [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }]],
    ['no fields', {}, [missing('agentId'), missing('messages')]],
    ['messages not a list', { agentId: 'a', messages: 'hi' }, [{ loc: ['body', 'messages'], msg: 'value is not a valid list', type: 'type_error.list' }]],
    ['empty messages', { agentId: 'a', messages: [] }, [{ loc: ['body', 'messages'], msg: 'ensure this value has at least 1 items', type: 'value_error.list.min_items', ctx: { limit_value: 1 } }]],
    ['bad format', { ...ask('a', 'hi'), format: 'xml' }, [{ loc: ['body', 'format'], msg: "unexpected value; permitted: 'json', 'text'", type: 'value_error.const', ctx: { given: 'xml', permitted: ['json', 'text'] } }]],
    ['agentId not a string', { ...ask('a', 'hi'), agentId: 7 }, [{ loc: ['body', 'agentId'], msg: 'str type expected', type: 'type_error.str' }]],
    ['empty agentId', { ...ask('a', 'hi'), agentId: '' }, [{ loc: ['body', 'agentId'], msg: 'ensure this value has at least 1 characters', type: 'value_error.any_str.min_length', ctx: { limit_value: 1 } }]],
    ['stream not a boolean', { ...ask('a', 'hi'), stream: 'yes' }, [{ loc: ['body', 'stream'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' }]],
    [
      'bad message items',
      { agentId: 'a', messages: ['hi', { role: 'bot', content: 1 }, {}] },
      [
        { loc: ['body', 'messages', 0], msg: 'value is not a valid dict', type: 'type_error.dict' },
        { loc: ['body', 'messages', 1, 'role'], msg: "unexpected value; permitted: 'user', 'assistant', 'system'", type: 'value_error.const', ctx: { given: 'bot', permitted: ['user', 'assistant', 'system'] } },
        { loc: ['body', 'messages', 1, 'content'], msg: 'str type expected', type: 'type_error.str' },
        missing('messages', 2, 'role'),
        missing('messages', 2, 'content'),
      ],
    ],
  ])('%s → 422 with exactly these items', async (_name, body, detail) => {
    const res = await post(server, body);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ detail });
  });

  it('a non-JSON Content-Type is not a dict; a charset parameter is fine; unknown fields are ignored', async () => {
    const plain = await post(server, ask('echo-agent', 'hi'), { 'Content-Type': 'text/plain' });
    expect(plain.status).toBe(422);
    expect(await plain.json()).toEqual({ detail: [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }] });
    const charset = await post(server, ask('echo-agent', 'hi', { stream: false, temperature: 0.2, requestId: 'r1' }), {
      'Content-Type': 'application/json; charset=utf-8',
    });
    expect(charset.status).toBe(200);
  });

  it('an unknown agent → 404 {"detail":"Agent not found"}; other ids are accepted (permissive default)', async () => {
    const res = await post(server, ask('missing-agent', 'hi'));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'Agent not found' });
    expect(await wholeAnswer(server, 'any-uuid-1234', 'hello')).toBe('You said: hello');
  });

  it('strictAgents: only listed and mock- ids exist', async () => {
    const strict = await start({ strictAgents: true });
    expect((await post(strict, ask('any-uuid-1234', 'hi'))).status).toBe(404);
    expect((await post(strict, ask('mock-anything', 'hi', { stream: false }))).status).toBe(200);
    expect((await post(strict, ask('docs-agent', 'hi', { stream: false }))).status).toBe(200);
    await strict.close();
  });
});

describe('agents (8.4)', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await start({ orgId: 'org-1' });
  });
  afterAll(() => server.close());

  it.each(['/api/v1/agent', '/api/v1/agents', '/v1/agents'])('GET %s lists the fixture agents', async (path) => {
    const res = await fetch(server.url + path, { headers: AUTH });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { id: string }[];
    expect(list.map((a) => a.id)).toEqual(['docs-agent', 'markdown-agent', 'echo-agent']);
  });

  it('GET /agent/{id} and /agents/{id} return the 8.4 shape with suggested_questions', async () => {
    for (const path of ['/api/v1/agent/docs-agent', '/api/v1/agents/docs-agent']) {
      const res = await fetch(server.url + path, { headers: AUTH });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        id: 'docs-agent',
        name: 'codegpt-widget docs',
        welcome: expect.any(String),
        image: null,
        description: expect.any(String),
        model: expect.any(String),
        agent_type: 'qa',
        is_public: false,
        org_id: 'org-1',
        created_at: '2024-05-01T12:00:00.000Z',
        prompt: expect.any(String),
        agent_documents: [],
        pincode: null,
        suggested_questions: ['How do I install it?', 'Is it safe under CSP?', 'How big is it?'],
      });
    }
  });

  it('an unknown agent is a 404; an unlisted id gets a synthesized agent', async () => {
    const missing = await fetch(server.url + '/api/v1/agent/missing-agent', { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: 'Agent not found' });
    const other = await fetch(server.url + '/api/v1/agent/mock-default', { headers: AUTH });
    expect(((await other.json()) as { id: string; name: string }).id).toBe('mock-default');
  });

  it('the X-Mock-Scenario header applies response-level faults to agent routes', async () => {
    const res = await fetch(server.url + '/api/v1/agent/docs-agent', { headers: { ...AUTH, 'X-Mock-Scenario': 'http-500' } });
    expect(res.status).toBe(500);
  });
});

describe('chat completions: the four normal shapes (8.3)', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  it('stream:false, format:json → chat.completion with agentName and usage', async () => {
    const res = await post(server, { ...ask('docs-agent', 'Hello there'), stream: false, format: 'json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
    expect(body).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]+$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-4o-mini',
      agentName: 'codegpt-widget docs',
      choices: [{ index: 0, message: { role: 'assistant', content: 'You said: Hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
    });
  });

  it('stream:false, format:text → the answer as a JSON string', async () => {
    const res = await post(server, { ...ask('echo-agent', 'plain "quoted"'), stream: false, format: 'text' });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(JSON.stringify('You said: plain "quoted"'));
  });

  it('stream (default) → SSE: role chunk, one chunk per piece, finish chunk, [DONE], one id', async () => {
    const question = 'one two three four five six seven';
    const res = await post(server, ask('echo-agent', question));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const { text, error } = await readChunks(res);
    expect(error).toBeUndefined();
    expect(text).toMatch(/^data: \{/);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-4o-mini')).toBe(true);
    expect(chunks[0]!.choices).toEqual([{ index: 0, delta: { role: 'assistant' }, finish_reason: null }]);
    expect(chunks.at(-1)!.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    const pieces = chunks.slice(1, -1).map((c) => c.choices[0]!.delta.content as string);
    expect(pieces).toEqual(splitPieces(`You said: ${question}`));
    expect(pieces.join('')).toBe(await wholeAnswer(server, 'echo-agent', question));
  });

  it('stream, format:text → raw text/plain pieces with no framing', async () => {
    const question = 'data: {"not":"a frame"}';
    const res = await post(server, { ...ask('echo-agent', question), format: 'text' });
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const { text } = await readChunks(res);
    expect(text).toBe(`You said: ${question}`);
  });

  it('the markdown fixture carries a heading, list, fence, link, café ☕ and emoji through every shape intact', async () => {
    expect(MARKDOWN_REPLY).toMatch(/^# /);
    expect(MARKDOWN_REPLY).toMatch(/\n- /);
    expect(MARKDOWN_REPLY).toContain('```html\n');
    expect(MARKDOWN_REPLY).toMatch(/\[[^\]]+\]\(https:\/\/[^)]+\)/);
    expect(MARKDOWN_REPLY).toContain('café ☕');
    expect(MARKDOWN_REPLY).toMatch(/\p{Extended_Pictographic}/u);

    expect(await wholeAnswer(server, 'markdown-agent', 'anything')).toBe(MARKDOWN_REPLY);
    const sse = await readChunks(await post(server, ask('markdown-agent', 'anything')));
    expect(contentOf(sseData(sse.text))).toBe(MARKDOWN_REPLY);
    const raw = await readChunks(await post(server, ask('markdown-agent', 'anything', { format: 'text' })));
    expect(raw.text).toBe(MARKDOWN_REPLY);
    expect(Buffer.from(await (await post(server, ask('markdown-agent', 'x', { stream: false, format: 'text' }))).arrayBuffer()).toString('utf8')).toBe(
      JSON.stringify(MARKDOWN_REPLY),
    );
  });

  it('docs-agent answers its suggested questions from the script, case-insensitively', async () => {
    expect(await wholeAnswer(server, 'docs-agent', 'How do I install it?')).toBe(MARKDOWN_REPLY);
    expect(await wholeAnswer(server, 'docs-agent', '  how big is it?  ')).toContain('20 KB');
  });

  it('the reply of the last user message is used, whatever follows it', async () => {
    const res = await post(server, {
      agentId: 'echo-agent',
      stream: false,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'You said: first' },
        { role: 'user', content: 'second' },
      ],
    });
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('You said: second');
  });
});

describe('the answer hook', () => {
  it('replaces the scripted replies and sees the agent id and messages', async () => {
    const answer = vi.fn(async (agentId: string, messages: { role: string; content: string }[]) => `${agentId}/${messages.length}: ok ✓`);
    const server = await start({ answer });
    const res = await post(server, ask('docs-agent', 'q'));
    expect(contentOf(sseData((await readChunks(res)).text))).toBe('docs-agent/1: ok ✓');
    expect(answer).toHaveBeenCalledWith('docs-agent', [{ role: 'user', content: 'q' }]);
    await server.close();
  });

  it('a throwing hook is a 500, not a crash', async () => {
    const server = await start({ answer: () => Promise.reject(new Error('boom')) });
    const res = await post(server, ask('docs-agent', 'q'));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ detail: 'Internal server error' });
    await server.close();
  });
});

describe('fault scenarios (8.6 and ours)', () => {
  let server: DemoServer;
  const delays: number[] = [];
  beforeAll(async () => {
    // Every delay resolves at once and is recorded: no wall-clock in these tests.
    server = await start({
      wait: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });
  });
  afterAll(() => server.close());

  const question = 'Variation check: café ☕ and 🚀 emoji right here';
  const expected = `You said: ${question}`;
  const stream = (scenario: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    post(server, ask(`mock-${scenario}`, question, extra), headers);

  it('every scenario can be chosen by agentId mock-<name> and by the X-Mock-Scenario header', async () => {
    const byHeader = await post(server, ask('docs-agent', question), { 'X-Mock-Scenario': 'http-429' });
    expect(byHeader.status).toBe(429);
    const byId = await stream('http-429');
    expect(byId.status).toBe(429);
    // The header wins over the agent id.
    const both = await post(server, ask('mock-http-500', question), { 'X-Mock-Scenario': 'http-400' });
    expect(both.status).toBe(400);
    const unknown = await post(server, ask('docs-agent', question), { 'X-Mock-Scenario': 'nonsense' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ detail: 'Unknown X-Mock-Scenario: nonsense' });
    expect(SCENARIOS.length).toBe(24);
  });

  it('slow: 200–500 ms between pieces', async () => {
    delays.length = 0;
    const { text } = await readChunks(await stream('slow'));
    const frames = sseData(text).length;
    expect(delays).toHaveLength(frames - 1);
    expect(delays.every((ms) => ms >= 200 && ms <= 500)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(1);
    expect(contentOf(sseData(text))).toBe(expected);
  });

  it('keepalive: ": keep-alive" comment lines between events', async () => {
    const { text } = await readChunks(await stream('keepalive'));
    const events = text.split('\n\n').filter(Boolean);
    expect(events[0]).toMatch(/^data: /);
    expect(events.filter((e) => e === ': keep-alive').length).toBe(sseData(text).length - 1);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(contentOf(sseData(text))).toBe(expected);
  });

  it('crlf: every line ends \\r\\n and every event \\r\\n\\r\\n', async () => {
    const { text } = await readChunks(await stream('crlf'));
    expect(text).not.toMatch(/[^\r]\n/);
    expect(text.endsWith('data: [DONE]\r\n\r\n')).toBe(true);
    expect(text.split('\r\n\r\n').filter(Boolean).every((e) => e.startsWith('data: '))).toBe(true);
    expect(contentOf(sseData(text))).toBe(expected);
  });

  it('nospace: data:{…} with no space after the colon', async () => {
    const { text } = await readChunks(await stream('nospace'));
    const lines = text.split('\n').filter(Boolean);
    expect(lines.every((l) => l.startsWith('data:{') || l === 'data:[DONE]')).toBe(true);
    expect(lines.at(-1)).toBe('data:[DONE]');
    expect(contentOf(sseData(text))).toBe(expected);
  });

  it('no-done: the finish chunk, then the body ends with no [DONE]', async () => {
    const { text, error } = await readChunks(await stream('no-done'));
    expect(error).toBeUndefined();
    expect(text).not.toContain('[DONE]');
    const last = JSON.parse(sseData(text).at(-1)!) as Chunk;
    expect(last.choices[0]!.finish_reason).toBe('stop');
    expect(contentOf(sseData(text))).toBe(expected);
  });

  it('split: many tiny reads, cutting data: prefixes and multi-byte characters, same content', async () => {
    const { chunks, text, error } = await readChunks(await stream('split'));
    expect(error).toBeUndefined();
    expect(chunks.length).toBeGreaterThan(40);
    expect(chunks.filter((c) => c.length <= 7).length).toBeGreaterThan(chunks.length / 2);
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const cut = chunks.filter((c) => {
      try {
        fatal.decode(c);
        return false;
      } catch {
        return true;
      }
    });
    expect(cut.length).toBeGreaterThan(0);
    expect(chunks.some((c) => Buffer.from(c).toString('latin1').endsWith('da'))).toBe(true);
    expect(contentOf(sseData(text))).toBe(expected);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('coalesce: several events arrive in one read', async () => {
    const { chunks, text } = await readChunks(await stream('coalesce'));
    const perRead = chunks.map((c) => sseData(new TextDecoder().decode(c)).length);
    expect(Math.max(...perRead)).toBeGreaterThanOrEqual(3);
    expect(contentOf(sseData(text))).toBe(expected);
  });

  it('bare-json: chunk objects with no data:, no separator and no [DONE]', async () => {
    const { text } = await readChunks(await stream('bare-json'));
    expect(text).not.toContain('data:');
    expect(text).not.toContain('[DONE]');
    expect(text).toMatch(/^\{/);
    expect(text).toContain('}{');
    const objects = splitJsonObjects(text);
    expect(contentOf(objects)).toBe(expected);
    expect((JSON.parse(objects.at(-1)!) as Chunk).choices[0]!.finish_reason).toBe('stop');
  });

  it('contents-array: text parts carry the answer, plus one reasoning part to ignore', async () => {
    const { text } = await readChunks(await stream('contents-array'));
    const deltas = sseData(text)
      .filter((d) => d !== '[DONE]')
      .map((d) => (JSON.parse(d) as Chunk).choices[0]!.delta);
    expect(deltas.some((d) => 'content' in d)).toBe(false);
    const parts = deltas.flatMap((d) => (d.contents as { type: string; content: string }[] | undefined) ?? []);
    expect(parts.filter((p) => p.type === 'reasoning')).toHaveLength(1);
    expect(parts.filter((p) => p.type === 'text').map((p) => p.content).join('')).toBe(expected);
  });

  it('legacy-data: data: {"data":"<piece>"} frames and [DONE]', async () => {
    const { text } = await readChunks(await stream('legacy-data'));
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const frames = data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>);
    expect(frames.every((f) => Object.keys(f).join() === 'data')).toBe(true);
    expect(frames.map((f) => f.data).join('')).toBe(expected);
  });

  it('midstream-error: two pieces, then an error object, then close without [DONE]', async () => {
    const { text, error } = await readChunks(await stream('midstream-error'));
    expect(error).toBeUndefined();
    const data = sseData(text);
    expect(data).toHaveLength(4);
    expect(JSON.parse(data[3]!)).toEqual({ error: { message: 'Upstream model error', type: 'server_error' } });
    expect(contentOf(data.slice(0, 3))).toBe(splitPieces(expected).slice(0, 2).join(''));
    expect(text).not.toContain('[DONE]');
  });

  it('abort: two pieces, then the socket dies (a read error), not counted as a client disconnect', async () => {
    const before = server.mock.stats.aborted;
    const { text, error } = await readChunks(await stream('abort'));
    expect(error).toBeInstanceOf(TypeError);
    const data = sseData(text);
    expect(data).toHaveLength(3);
    expect(contentOf(data)).toBe(splitPieces(expected).slice(0, 2).join(''));
    expect(server.mock.stats.aborted).toBe(before);
  });

  it.each([
    ['http-429', 429, 'application/json', '{"detail":"Too many requests"}', '2'],
    ['http-503', 503, 'application/json', '{"detail":"Service unavailable"}', '2'],
    ['http-500', 500, 'application/json', '{"detail":"Internal server error"}', null],
    ['http-502-html', 502, 'text/html; charset=utf-8', '<html><body>Bad Gateway</body></html>', null],
    ['http-400', 400, 'application/json', '{"detail":"Bad request"}', null],
    ['error-array', 400, 'application/json', '{"error":["Something went wrong"]}', null],
    ['http-401', 401, 'application/json', '{"detail":"Invalid API key"}', null],
    ['json-200-error', 200, 'application/json', '{"detail":"Agent is not available"}', null],
  ])('%s → %i %s', async (scenario, status, type, body, retryAfter) => {
    const res = await stream(scenario);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('retry-after')).toBe(retryAfter);
    expect(await res.text()).toBe(body);
  });

  it('html-200: a 200 text/html sign-in page', async () => {
    const res = await stream('html-200');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toMatch(/^<!doctype html>.*Sign in/);
  });

  it('buffered: the whole body in one write at the end, with Content-Length', async () => {
    delays.length = 0;
    const res = await stream('buffered');
    expect(res.headers.get('content-length')).not.toBeNull();
    expect(res.headers.get('transfer-encoding')).toBeNull();
    const { text } = await readChunks(res);
    expect(Buffer.byteLength(text)).toBe(Number(res.headers.get('content-length')));
    // The pieces' pacing still happened, just before anything was sent.
    expect(delays).toHaveLength(sseData(text).length - 1);
    expect(contentOf(sseData(text))).toBe(expected);
  });

  it('silent-keepalive: headers, then only ": ping" comments, then the answer (query or header config)', async () => {
    delays.length = 0;
    const res = await post(server, ask('mock-silent-keepalive', question), {}, '/api/v1/chat/completions?silenceMs=1000&pingMs=250');
    const { text } = await readChunks(res);
    expect(delays.slice(0, 4)).toEqual([250, 250, 250, 250]);
    expect(text.startsWith(': ping\n\n'.repeat(4) + 'data: {')).toBe(true);
    expect(contentOf(sseData(text))).toBe(expected);

    const byHeader = await readChunks(await stream('silent-keepalive', {}, { 'X-Mock-Silence-Ms': '300', 'X-Mock-Ping-Ms': '100' }));
    expect(byHeader.text.startsWith(': ping\n\n'.repeat(3) + 'data: {')).toBe(true);
    const text2 = await readChunks(await stream('silent-keepalive', { format: 'text' }));
    expect(text2.text).toBe(expected);
  });

  it('text streams honour the transport scenarios: split, abort, midstream-error', async () => {
    const split = await readChunks(await stream('split', { format: 'text' }));
    expect(split.chunks.length).toBeGreaterThan(10);
    expect(split.text).toBe(expected);
    const abort = await readChunks(await stream('abort', { format: 'text' }));
    expect(abort.error).toBeInstanceOf(TypeError);
    expect(abort.text).toBe(splitPieces(expected).slice(0, 2).join(''));
    const cut = await readChunks(await stream('midstream-error', { format: 'text' }));
    expect(cut.error).toBeUndefined();
    expect(cut.text).toBe(splitPieces(expected).slice(0, 2).join(''));
  });

  it('non-stream requests: abort cuts the JSON body, split fragments it, framing scenarios change nothing', async () => {
    const abort = await stream('abort', { stream: false });
    expect(abort.status).toBe(200);
    await expect(abort.text()).rejects.toThrow();
    const split = await readChunks(await stream('split', { stream: false }));
    expect(split.chunks.length).toBeGreaterThan(10);
    expect((JSON.parse(split.text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(expected);
    const crlf = await stream('crlf', { stream: false });
    expect(((await crlf.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(expected);
  });
});

describe('disconnects and stats', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  it('hang: headers, then nothing until the client goes away, which the server counts', async () => {
    const before = server.mock.stats.aborted;
    const controller = new AbortController();
    const res = await fetch(server.url + '/api/v1/chat/completions', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify(ask('mock-hang', 'hello')),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const pending = res.body!.getReader().read();
    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(server.mock.stats.aborted).toBe(before + 1));
  });

  it('a client that aborts a slow stream mid-way is counted, and the server stops writing', async () => {
    const before = server.mock.stats.aborted;
    const controller = new AbortController();
    const res = await fetch(server.url + '/api/v1/chat/completions', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify(ask('mock-slow', 'one two three four five six seven eight nine ten')),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"role":"assistant"');
    controller.abort();
    await vi.waitFor(() => expect(server.mock.stats.aborted).toBe(before + 1));
  });

  it('counts requests and records the last one with the Authorization value redacted', async () => {
    const before = server.mock.stats.requests;
    await (await post(server, ask('echo-agent', 'recorded', { stream: false }), { 'CodeGPT-Org-Id': 'org-x' })).text();
    expect(server.mock.stats.requests).toBe(before + 1);
    const last = server.mock.stats.lastRequest!;
    expect(last.method).toBe('POST');
    expect(last.path).toBe('/api/v1/chat/completions');
    expect(last.body).toEqual(ask('echo-agent', 'recorded', { stream: false }));
    expect(last.headers.authorization).toBe('[redacted]');
    expect(last.headers['codegpt-org-id']).toBe('org-x');
    expect(JSON.stringify(last)).not.toContain(KEY);
  });

  it('logs one line per request, never the token', async () => {
    const lines: string[] = [];
    const logged = await start({ log: (line) => lines.push(line) });
    await (await post(logged, ask('echo-agent', 'hi', { stream: false }))).text();
    await vi.waitFor(() => expect(lines).toEqual(['POST /api/v1/chat/completions 200']));
    expect(lines.join()).not.toContain(KEY);
    await logged.close();
  });
});
