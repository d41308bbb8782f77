/**
 * Test fixtures for the broker suite: a scripted upstream `fetch`, controllable streams, and a
 * harness that records every header and body byte the broker sends so a test can grep them.
 * Web APIs only, so the suite can also run inside a Workers runtime.
 */
import { expect } from 'vitest';
import type { BrokerConfig, BrokerHandler, BrokerLogEvent } from '../../server/index';

export type MakeBroker = (config: BrokerConfig) => BrokerHandler;

/** Fake, but shaped like a real key, so the redaction patterns are exercised. Never a real key. */
export const UPSTREAM_KEY = 'sk-test-0000aaaa-fake-upstream-key-9999';
export const ORIGIN = 'https://shop.example';
export const OTHER_ORIGIN = 'https://blog.example';
export const EVIL_ORIGIN = 'https://evil.example';
export const AGENT = 'agent-1111';
export const OTHER_AGENT = 'agent-2222';
export const KEY_A = { kid: 'k-2025-01', secret: 'test-secret-A-0123456789abcdef-0123456789' };
export const KEY_B = { kid: 'k-2025-02', secret: 'test-secret-B-0123456789abcdef-0123456789' };
export const BASE = 'http://broker.test';
export const UPSTREAM = 'https://upstream.test/api/v1';
export const T0 = 1_750_000_000_000;

const encoder = new TextEncoder();

/** A ReadableStream the test writes to, and which remembers being cancelled. */
export function controlledStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const state = { cancelled: false, reason: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel(reason) {
      state.cancelled = true;
      state.reason = reason;
    },
  });
  return {
    stream,
    state,
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
    error: (e: unknown) => controller.error(e),
  };
}

export function sseResponse(events: string[], contentType = 'text/event-stream; charset=utf-8'): Response {
  return new Response(events.join(''), { headers: { 'Content-Type': contentType } });
}

export interface UpstreamCall {
  url: string;
  headers: Headers;
  body: Record<string, unknown>;
  signal: AbortSignal;
}

/** A scripted upstream: records each call and answers with `reply`. */
export function fakeUpstream() {
  const calls: UpstreamCall[] = [];
  let reply: (call: UpstreamCall) => Response | Promise<Response> = () =>
    sseResponse(['data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n', 'data: [DONE]\n\n']);
  let notify: (() => void) | undefined;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: UpstreamCall = {
      url: String(input),
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)) as Record<string, unknown>,
      signal: init?.signal ?? new AbortController().signal,
    };
    calls.push(call);
    notify?.();
    return reply(call);
  }) as typeof fetch;
  return {
    fetch: fetchFn,
    calls,
    replyWith(fn: typeof reply) {
      reply = fn;
    },
    /** Resolves once upstream has been called `n` times. */
    called(n = 1): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (calls.length >= n) resolve();
        };
        notify = check;
        check();
      });
    },
  };
}

/** An upstream fetch that hangs until its signal aborts, then rejects like fetch does. */
export function hangingReply(call: UpstreamCall): Promise<Response> {
  return new Promise((_, reject) => {
    const fail = () => reject(call.signal.reason ?? new DOMException('Aborted', 'AbortError'));
    if (call.signal.aborted) fail();
    call.signal.addEventListener('abort', fail, { once: true });
  });
}

/** Forwards a body while copying what passes into `sink`; cancel goes straight through. */
function tap(body: ReadableStream<Uint8Array>, sink: string[]): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        sink.push(decoder.decode(value, { stream: true }));
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Reads a body chunk by chunk as text. */
export function textReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  return {
    async read(): Promise<string | undefined> {
      const { done, value } = await reader.read();
      return done ? undefined : decoder.decode(value, { stream: true });
    },
    async rest(): Promise<string> {
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text + decoder.decode();
        text += decoder.decode(value, { stream: true });
      }
    },
    cancel: (reason?: unknown) => reader.cancel(reason),
  };
}

/** Tracks whether a promise settled, without awaiting it. */
export function watch<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

export interface RequestOptions {
  /** `undefined` → the allowed ORIGIN; `null` → no Origin header at all; `'null'` → the literal null origin. */
  origin?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function headersFor(options: RequestOptions): Record<string, string> {
  const origin = options.origin === undefined ? ORIGIN : options.origin;
  return {
    'Content-Type': 'application/json',
    ...(origin === null ? {} : { Origin: origin }),
    ...options.headers,
  };
}

function bodyFor(body: unknown): BodyInit {
  if (typeof body === 'string' || body instanceof ReadableStream) return body;
  return JSON.stringify(body);
}

/** Everything a test needs around one broker: clock, upstream, logs, and recorded output. */
export function setup(makeBroker: MakeBroker, overrides: Partial<BrokerConfig> = {}, basePath = '') {
  const clock = { now: T0 };
  const upstream = fakeUpstream();
  const logs: BrokerLogEvent[] = [];
  /** Every response header line and body text the broker sent, for the key grep. */
  const output: string[] = [];
  const responses: Response[] = [];
  const config: BrokerConfig = {
    upstreamBase: UPSTREAM,
    upstreamKey: UPSTREAM_KEY,
    orgId: 'org-1234',
    agentIds: [AGENT, OTHER_AGENT],
    allowedOrigins: [ORIGIN, OTHER_ORIGIN],
    signingKeys: [KEY_A],
    fetch: upstream.fetch,
    log: (event) => logs.push(event),
    now: () => clock.now,
    basePath,
    ...overrides,
  };
  const handler = makeBroker(config);

  async function send(request: Request): Promise<Response> {
    const res = await handler(request);
    res.headers.forEach((value, key) => output.push(`${key}: ${value}`));
    // Reliability C11 holds for every response: never `*`, credentials only beside an exact origin.
    const allowOrigin = res.headers.get('access-control-allow-origin');
    expect(allowOrigin).not.toBe('*');
    if (res.headers.has('access-control-allow-credentials')) expect([ORIGIN, OTHER_ORIGIN]).toContain(allowOrigin);
    if (allowOrigin !== null) expect(allowOrigin).toBe(request.headers.get('origin'));
    expect(res.headers.get('vary') ?? '').toMatch(/\borigin\b/i);
    const wrapped = new Response(res.body ? tap(res.body, output) : null, { status: res.status, headers: res.headers });
    responses.push(wrapped);
    return wrapped;
  }

  const url = (path: string) => `${BASE}${basePath}${path}`;

  function tokenRequest(options: RequestOptions = {}): Request {
    return new Request(url('/token'), {
      method: 'POST',
      headers: headersFor(options),
      body: bodyFor(options.body ?? { agentId: AGENT, widgetVersion: '0.1.0' }),
      ...(options.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  }

  async function token(options: RequestOptions = {}): Promise<string> {
    const res = await send(tokenRequest(options));
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }

  function completionRequest(bearer: string | undefined, options: RequestOptions = {}): Request {
    const headers = headersFor(options);
    if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
    const body = options.body ?? { agentId: AGENT, messages: [{ role: 'user', content: 'Hi' }], stream: true, format: 'json' };
    return new Request(url('/chat/completions'), {
      method: 'POST',
      headers,
      body: bodyFor(body),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  }

  /** Cancels bodies a test left unread, so no timer or stream outlives it. */
  async function dispose(): Promise<void> {
    for (const res of responses) if (res.body && !res.body.locked) await res.body.cancel().catch(() => {});
  }

  return {
    config,
    clock,
    upstream,
    logs,
    output,
    handler,
    send,
    url,
    tokenRequest,
    token,
    completionRequest,
    complete: (bearer: string | undefined, options: RequestOptions = {}) => send(completionRequest(bearer, options)),
    dispose,
  };
}

export type Harness = ReturnType<typeof setup>;

export async function errorOf(res: Response): Promise<{ code: string; message: string; detail: unknown }> {
  const body = (await res.json()) as { error: { code: string; message: string }; detail: unknown };
  return { ...body.error, detail: body.detail };
}
