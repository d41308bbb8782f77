/**
 * The Node adapter over real HTTP on 127.0.0.1 (port 0): streaming, body caps, and client
 * disconnects reaching the upstream fetch.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { request as httpRequest } from 'node:http';
import { createBroker } from '../../server/index';
import { nodeClientIp, serve } from '../../server/node';
import type { NodeServer } from '../../server/node';
import type { BrokerLogEvent } from '../../server/index';
import { AGENT, KEY_A, ORIGIN, UPSTREAM, UPSTREAM_KEY, controlledStream, fakeUpstream, hangingReply } from './broker-helpers';

const servers: NodeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(overrides: Record<string, unknown> = {}) {
  const upstream = fakeUpstream();
  const logs: BrokerLogEvent[] = [];
  const broker = createBroker({
    upstreamBase: UPSTREAM,
    upstreamKey: UPSTREAM_KEY,
    agentIds: [AGENT],
    allowedOrigins: [ORIGIN],
    signingKeys: [KEY_A],
    fetch: upstream.fetch,
    clientIp: nodeClientIp,
    log: (e) => logs.push(e),
    ...overrides,
  });
  const server = await serve(broker, { port: 0, host: '127.0.0.1' });
  servers.push(server);
  const token = async (): Promise<string> => {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ agentId: AGENT, widgetVersion: '0.1.0' }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  const complete = async (bearer: string, signal?: AbortSignal) =>
    fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
      ...(signal ? { signal } : {}),
    });
  return { server, upstream, logs, token, complete };
}

describe('node adapter', () => {
  it('serves /health and binds the port it was given (0 → a free one)', async () => {
    const { server } = await start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/health`);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('streams each upstream event to the client before upstream finishes', async () => {
    const t = await start();
    const upstream = controlledStream();
    t.upstream.replyWith(() => new Response(upstream.stream, { headers: { 'Content-Type': 'text/event-stream' } }));
    const res = await t.complete(await t.token());
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    upstream.push('data: {"choices":[{"delta":{"content":"one"}}]}\n\n');
    expect(decoder.decode((await reader.read()).value)).toBe('data: {"choices":[{"delta":{"content":"one"}}]}\n\n');
    upstream.push('data: [DONE]\n\n');
    upstream.close();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
    expect(rest).toBe('data: [DONE]\n\n');
  });

  it('aborts the upstream fetch and cancels its body when the client disconnects mid-stream', async () => {
    const t = await start();
    const upstream = controlledStream();
    t.upstream.replyWith(() => new Response(upstream.stream, { headers: { 'Content-Type': 'text/event-stream' } }));
    const client = new AbortController();
    const res = await t.complete(await t.token(), client.signal);
    const reader = res.body!.getReader();
    upstream.push('data: {"choices":[{"delta":{"content":"a"}}]}\n\n');
    await reader.read();
    client.abort();
    await vi.waitFor(() => expect(t.upstream.calls[0]!.signal.aborted).toBe(true), { timeout: 5000 });
    await vi.waitFor(() => expect(upstream.state.cancelled).toBe(true), { timeout: 5000 });
    await vi.waitFor(() => expect(t.logs.some((e) => e.event === 'stream_end' && e.outcome === 'cancelled')).toBe(true));
  });

  it('aborts the upstream fetch when the client disconnects before upstream answered', async () => {
    const t = await start();
    t.upstream.replyWith(hangingReply);
    const client = new AbortController();
    const pending = t.complete(await t.token(), client.signal).catch((e: unknown) => e);
    await t.upstream.called();
    client.abort();
    await pending;
    await vi.waitFor(() => expect(t.upstream.calls[0]!.signal.aborted).toBe(true), { timeout: 5000 });
  });

  it('answers 413 to a chunked body over the cap and keeps the socket for the answer', async () => {
    const t = await start({ maxBodyBytes: { token: 256 } });
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(`{"agentId":"${AGENT}","pad":"${'x'.repeat(2000)}`));
        c.close();
      },
    });
    const res = await fetch(`${t.server.url}/token`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('passes the socket address to nodeClientIp for rate limiting', async () => {
    const keys: string[] = [];
    const t = await start({ limiter: { hit: (key: string) => (keys.push(key), { allowed: true, retryAfterSeconds: 0 }) } });
    await t.token();
    expect(keys).toEqual([`token|${ORIGIN}|127.0.0.1`]);
  });

  it('fires request.signal when the client leaves, even if the handler looks at it late', async () => {
    let seen: AbortSignal | undefined;
    let arrived!: () => void;
    const entered = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = await serve(async (request) => {
      arrived();
      await gate; // busy, and has not touched request.signal yet
      seen = request.signal;
      return new Response('late');
    }, { port: 0 });
    servers.push(server);
    const socketClosed = new Promise<void>((resolve) => server.server.once('connection', (s) => s.once('close', () => resolve())));
    const url = new URL(server.url);
    const req = httpRequest({ host: url.hostname, port: url.port, path: '/', method: 'GET' });
    req.on('error', () => {});
    req.end();
    await entered;
    req.destroy();
    await socketClosed;
    release();
    await vi.waitFor(() => expect(seen?.aborted).toBe(true), { timeout: 5000 });
  });

  it('answers 500 JSON when the handler throws, without leaking the error', async () => {
    const server = await serve(() => {
      throw new Error(`boom ${UPSTREAM_KEY}`);
    }, { port: 0 });
    servers.push(server);
    const res = await fetch(`${server.url}/x`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain(UPSTREAM_KEY);
  });
});
