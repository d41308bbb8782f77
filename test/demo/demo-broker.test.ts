import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARKDOWN_REPLY } from '../../demo/codegpt-mock';
import { createRepoDocsAgent } from '../../demo/docs-agent';
import { BROKER_PATH, brokerLogLine, startDemoServer, type DemoServer } from '../../demo/server';
import { serve, sseData } from './helpers';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Fixed test values (options.secrets), so we can prove they never leak. Not real secrets.
const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef-0123456789';
const LOCAL_KEY = 'sk-local-test-upstream-key-fedcba9876543210';
const REAL_KEY = 'sk-real-test-key-not-a-real-one-13579';

/** Everything a client could see of one response: status line, headers and body. */
interface Seen {
  status: number;
  headers: Headers;
  text: string;
}

function createClient(base: string) {
  const seen: Seen[] = [];
  async function call(path: string, init: RequestInit & { origin?: string | null } = {}): Promise<Seen> {
    const headers = new Headers(init.headers);
    if (init.origin !== null) headers.set('Origin', init.origin ?? base);
    const res = await fetch(base + path, { ...init, headers });
    const result = { status: res.status, headers: res.headers, text: await res.text() };
    seen.push(result);
    return result;
  }
  return {
    seen,
    /** All of it as one string, for leak checks. */
    everything: () => seen.map((s) => `${s.status}\n${[...s.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${s.text}`).join('\n'),
    token: (agentId: string, origin?: string) =>
      call(`${BROKER_PATH}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ agentId, widgetVersion: '0.1.0' }),
        ...(origin ? { origin } : {}),
      }),
    chat: (token: string, question: string, origin?: string) =>
      call(`${BROKER_PATH}/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId: 'ignored-by-the-broker', messages: [{ role: 'user', content: question }], stream: true }),
        ...(origin ? { origin } : {}),
      }),
    call,
  };
}

/** The answer text of an SSE completion (chunk deltas joined). */
function answerOf(sse: string): string {
  return sseData(sse)
    .filter((data) => data !== '[DONE]')
    .map((data) => (JSON.parse(data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
    .join('');
}

describe('demo on the reference broker (offline docs agent upstream)', () => {
  let server: DemoServer;
  const logs: string[] = [];
  let client: ReturnType<typeof createClient>;

  beforeAll(async () => {
    server = await startDemoServer({
      port: 0,
      log: (line) => logs.push(line),
      secrets: { signingSecret: SIGNING_SECRET, localKey: LOCAL_KEY },
    });
    client = createClient(server.url);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('describes its upstream and accepts its own origins', () => {
    expect(server.agentId).toBe('docs-agent');
    expect(server.upstream).toBe(`offline docs agent at ${server.url}/api/v1 (answers from README.md and docs/, no API key)`);
    const port = new URL(server.url).port;
    expect(server.origins).toEqual([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  });

  it('POST /api/codegpt/token → a short-lived token whose apiBase is the broker', async () => {
    const res = await client.token('docs-agent');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe(server.url);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(body).toMatchObject({ expiresIn: 600, tokenType: 'Bearer', apiBase: `${server.url}${BROKER_PATH}` });
    expect(body.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('streams the docs agent\'s answer through the broker, citing a README section', async () => {
    const token = JSON.parse((await client.token('docs-agent')).text).token as string;
    const res = await client.chat(token, 'Is it safe under CSP?');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const answer = answerOf(res.text);
    expect(answer).toMatch(/\nSources:\n- README › /);
    // Exactly what the docs agent says for this question (it is deterministic).
    expect(answer).toBe(createRepoDocsAgent(ROOT).answer([{ role: 'user', content: 'Is it safe under CSP?' }]));
    await expect.poll(() => logs.some((l) => /^broker \/chat\/completions 200 \d+ms stream_end done agent=docs-agent/.test(l))).toBe(true);
  });

  it('the localhost origin works as well as 127.0.0.1', async () => {
    const localhost = server.url.replace('127.0.0.1', 'localhost');
    const res = await client.token('docs-agent', localhost);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(localhost);
    const answer = await client.chat(JSON.parse(res.text).token as string, 'hi', localhost);
    expect(answerOf(answer.text)).toMatch(/^Hi!/);
  });

  it('refuses other origins (403) and a token used from another origin', async () => {
    const evil = await client.token('docs-agent', 'https://evil.example');
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.text)).toMatchObject({ error: { code: 'origin_not_allowed' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect((await client.call(`${BROKER_PATH}/token`, { method: 'POST', origin: null })).status).toBe(403);

    const token = JSON.parse((await client.token('docs-agent')).text).token as string;
    expect((await client.chat(token, 'hi', 'https://evil.example')).status).toBe(403);
    const localhost = server.url.replace('127.0.0.1', 'localhost');
    expect((await client.chat(token, 'hi', localhost)).status).toBe(401); // issued to 127.0.0.1
  });

  it('only the demo agent gets tokens', async () => {
    const res = await client.token('mock-default');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'agent_not_allowed' } });
  });

  it('the dev token endpoint and the mock API stay available; mock-* agents still echo', async () => {
    const dev = await client.call('/dev/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: 'mock-default', widgetVersion: '0.1.0' }),
    });
    const { token, apiBase } = JSON.parse(dev.text) as { token: string; apiBase: string };
    expect(apiBase).toBe(`${server.url}/api/v1`);
    const complete = (agentId: string, content: string) =>
      client.call('/api/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId, messages: [{ role: 'user', content }], stream: false }),
      }).then((r) => (JSON.parse(r.text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content);
    expect(await complete('mock-default', 'Hello there')).toBe('You said: Hello there');
    expect(await complete('markdown-agent', 'anything')).toBe(MARKDOWN_REPLY);
    expect(await complete('echo-agent', 'ping')).toBe('You said: ping');
    const docsAnswer = await complete('docs-agent', 'How do I change the theme?');
    expect(docsAnswer).toMatch(/\nSources:\n- README › /);
    // Any other agent id is the docs agent too; `missing*` ids still 404.
    expect(await complete('some-other-agent', 'How do I change the theme?')).toBe(docsAnswer);
    const missing = await client.call('/api/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ agentId: 'missing-agent', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(missing.status).toBe(404);
  });

  it('serves the three demo pages under a strict CSP, with external scripts only', async () => {
    const port = new URL(server.url).port;
    for (const page of ['/', '/esm.html', '/inline.html']) {
      const res = await client.call(page);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain(`connect-src 'self' http://127.0.0.1:${port} http://localhost:${port}`);
      // Every <script> has a src and no body: nothing inline.
      const scripts = res.text.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const script of scripts) expect(script).toMatch(/^<script\b[^>]*\bsrc="\/[^"]+"[^>]*><\/script>$/);
      for (const link of ['href="/"', 'href="/esm.html"', 'href="/inline.html"']) expect(res.text).toContain(link);
    }
    expect((await client.call('/')).text).toContain('data-token-endpoint="/api/codegpt/token"');
    const inline = (await client.call('/inline.html')).text;
    expect(inline).toContain('data-mode="inline" data-target="#chat"');
    const esm = await client.call('/esm.js');
    expect(esm.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(esm.text).toContain("import { mount } from '/dist/codegpt-widget.js'");
    expect(esm.text).toContain("tokenEndpoint: '/api/codegpt/token'");
  });

  it('logs one line per broker request, and never a token, the upstream key or the signing secret', async () => {
    const before = logs.length;
    const res = await client.token('docs-agent');
    await client.token('docs-agent', 'https://evil.example');
    await client.chat(JSON.parse(res.text).token as string, 'How do I install it?');
    await expect.poll(() => logs.length - before).toBe(3);
    expect(logs.slice(before)).toEqual([
      expect.stringMatching(/^broker \/token 200 \d+ms token_issued agent=docs-agent origin=http:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^broker \/token 403 \d+ms token_denied code=origin_not_allowed$/),
      expect.stringMatching(/^broker \/chat\/completions 200 \d+ms stream_end done agent=docs-agent origin=/),
    ]);

    const tokens = client.seen.flatMap((s) => (/"token":"([^"]+)"/.exec(s.text)?.[1] ?? []));
    expect(tokens.length).toBeGreaterThan(3);
    const logText = logs.join('\n');
    for (const secret of [SIGNING_SECRET, LOCAL_KEY, ...tokens]) expect(logText).not.toContain(secret);
    const responses = client.everything();
    expect(responses).not.toContain(SIGNING_SECRET);
    expect(responses).not.toContain(LOCAL_KEY);
  });

  it('brokerLogLine skips completion_started (stream_end carries the whole request)', () => {
    expect(brokerLogLine({ level: 'info', event: 'completion_started', status: 200, route: '/chat/completions' })).toBeUndefined();
    expect(brokerLogLine({ level: 'warn', event: 'not_found', status: 404, route: '/nope' })).toBe('broker /nope 404 not_found');
  });
});

describe('demo on the reference broker (real API mode, via options)', () => {
  interface Received {
    authorization: string | undefined;
    org: string | undefined;
    body: { agentId?: string; messages?: unknown[] };
  }
  const received: Received[] = [];
  let fake: Awaited<ReturnType<typeof serve>>;
  let server: DemoServer;
  const logs: string[] = [];
  const AGENT = 'agent-1234-real';

  beforeAll(async () => {
    // A tiny stand-in for the real CodeGPT API: records what the broker sent, answers one SSE stream.
    fake = await serve((req: IncomingMessage, res) => {
      const parts: Buffer[] = [];
      req.on('data', (p: Buffer) => parts.push(p));
      req.on('end', () => {
        received.push({
          authorization: req.headers.authorization,
          org: req.headers['codegpt-org-id'] as string | undefined,
          body: JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Received['body'],
        });
        if (req.url !== '/api/v1/chat/completions') return void res.writeHead(404).end();
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
        res.end(`${chunk('Hello from ')}${chunk('the real API')}data: [DONE]\n\n`);
      });
    });
    server = await startDemoServer({
      port: 0,
      log: (line) => logs.push(line),
      upstream: { base: `${fake.url}/api/v1`, key: REAL_KEY, agentId: AGENT, orgId: 'org-42', keySource: 'CODEGPT_API_KEY' },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('says which upstream is in use, without the key', () => {
    expect(server.upstream).toBe(`CodeGPT API ${fake.url}/api/v1 (agent ${AGENT}, org org-42, key from CODEGPT_API_KEY)`);
    expect(server.upstream).not.toContain(REAL_KEY);
    expect(server.agentId).toBe(AGENT);
  });

  it('the broker calls the configured API with the configured key, org and agent', async () => {
    const client = createClient(server.url);
    expect((await client.token('docs-agent')).status).toBe(403); // only the configured agent
    const tokenRes = await client.token(AGENT);
    expect(tokenRes.status).toBe(200);
    const res = await client.chat(JSON.parse(tokenRes.text).token as string, 'Hi');
    expect(res.status).toBe(200);
    expect(answerOf(res.text)).toBe('Hello from the real API');
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual({
      authorization: `Bearer ${REAL_KEY}`,
      org: 'org-42',
      body: expect.objectContaining({ agentId: AGENT, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    // The pages use the configured agent; the key is nowhere a client or the log can see.
    for (const page of ['/', '/esm.html', '/inline.html']) {
      const html = (await client.call(page)).text;
      expect(html).toContain(`data-agent-id="${AGENT}"`);
      expect(html).not.toContain('data-agent-id="docs-agent"');
    }
    await expect.poll(() => logs.some((l) => l.startsWith('broker /chat/completions 200'))).toBe(true);
    expect(client.everything()).not.toContain(REAL_KEY);
    expect(logs.join('\n')).not.toContain(REAL_KEY);
  });

  it('an agent id is attribute-escaped when written into the pages', async () => {
    const odd = await startDemoServer({ port: 0, upstream: { base: `${fake.url}/api/v1`, key: REAL_KEY, agentId: 'a"b<c>&d' } });
    try {
      const html = await (await fetch(odd.url + '/inline.html')).text();
      expect(html).toContain('data-agent-id="a&quot;b&lt;c&gt;&amp;d"');
      expect(odd.upstream).toContain('key from options');
    } finally {
      await odd.close();
    }
  });
});

describe('demo server start-up', () => {
  it('a bad upstream base fails start-up with a message naming the field, not the key', async () => {
    const start = startDemoServer({ port: 0, upstream: { base: 'not a url', key: REAL_KEY, agentId: 'a' } });
    await expect(start).rejects.toThrow(/upstreamBase/);
    await expect(start).rejects.not.toThrow(REAL_KEY);
  });
});
