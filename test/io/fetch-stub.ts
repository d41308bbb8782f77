/**
 * A scripted fetch for io/ tests: each call takes the next handler from a queue, and every call is
 * recorded with its parsed init. Bodies are real `ReadableStream`s so the code under test reads them
 * exactly as it reads a browser response.
 */
import { expect, vi } from 'vitest';
import { WidgetError } from '../../widget/core/errors';

export type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

export interface FetchCall {
  url: string;
  init: RequestInit;
  headers: Headers;
  body: unknown;
}

export interface FetchStub {
  fetch: typeof fetch;
  calls: FetchCall[];
  /** Queues handlers; once the queue is empty the last handler keeps answering. */
  queue(...handlers: Handler[]): void;
}

export function createFetchStub(...initial: Handler[]): FetchStub {
  const handlers: Handler[] = [...initial];
  let last: Handler | undefined;
  const calls: FetchCall[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({
      url,
      init,
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
    });
    const handler = handlers.shift() ?? last;
    if (!handler) throw new Error(`unexpected fetch #${calls.length} to ${url}`);
    last = handler;
    return handler(url, init);
  });
  return {
    fetch: fetchImpl as unknown as typeof fetch,
    calls,
    queue: (...more) => handlers.push(...more),
  };
}

const encoder = new TextEncoder();

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Handler {
  return () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
}

export function text(body: string, status: number, contentType = 'text/plain', headers: Record<string, string> = {}): Handler {
  return () => new Response(body, { status, headers: { 'content-type': contentType, ...headers } });
}

export function status(code: number, headers: Record<string, string> = {}): Handler {
  return () => new Response(null, { status: code, headers });
}

/** fetch rejecting like a browser does when offline or blocked. */
export function networkError(message = 'Failed to fetch'): Handler {
  return () => Promise.reject(new TypeError(message));
}

/** A fetch that never answers, but rejects with an AbortError when its signal aborts, like the real one. */
export function hang(): Handler {
  return (_url, init) =>
    new Promise<Response>((_resolve, reject) => {
      const signal = init.signal;
      if (!signal) return;
      signal.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')), { once: true });
    });
}

/** A body the test writes to by hand; records whether the reader cancelled it. */
export interface ControlledBody {
  stream: ReadableStream<Uint8Array>;
  push(chunk: string | Uint8Array): void;
  close(): void;
  error(reason: unknown): void;
  readonly cancelled: boolean;
}

export function controlledBody(): ControlledBody {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      cancelled = true;
    },
  });
  return {
    stream,
    // After the reader cancelled, the server may still "send": those bytes go nowhere.
    push: (chunk) => {
      if (!cancelled) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    },
    close: () => controller.close(),
    error: (reason) => controller.error(reason),
    get cancelled() {
      return cancelled;
    },
  };
}

/** A response around a controlled body. */
export function streaming(body: ControlledBody, contentType = 'text/event-stream', status = 200): Handler {
  return () => new Response(body.stream, { status, headers: { 'content-type': contentType } });
}

/** A response whose body is the given chunks, delivered as separate reads. */
export function chunked(chunks: (string | Uint8Array)[], contentType = 'text/event-stream', status = 200): Handler {
  return () => {
    const queue = chunks.map((chunk) => (typeof chunk === 'string' ? encoder.encode(chunk) : chunk));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = queue.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    return new Response(stream, { status, headers: { 'content-type': contentType } });
  };
}

/** An endless body of `chunkSize`-byte chunks; counts what was handed out and whether it was cancelled. */
export function endless(chunkSize: number, contentType = 'application/json', status = 200) {
  const state = { sent: 0, cancelled: false };
  const handler: Handler = () => {
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        state.sent += chunkSize;
        controller.enqueue(encoder.encode('{'.padEnd(chunkSize, ' ')));
      },
      cancel() {
        state.cancelled = true;
      },
    });
    return new Response(stream, { status, headers: { 'content-type': contentType } });
  };
  return { handler, state };
}

/** Settles a promise into a value we can inspect synchronously after advancing fake timers. */
export function track<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

/** The WidgetError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function failure(promise: Promise<unknown>): Promise<WidgetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WidgetError);
  return error as WidgetError;
}
