/**
 * Node adapter for the broker (and any other fetch handler). Kept apart from `server/index.ts`
 * because it imports `node:` modules. Written by hand rather than with `@hono/node-server`, whose
 * listener replaces the global `Request`/`Response` by default, logs to the console, and only
 * aborts `request.signal` if the handler touched it before the client left.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type FetchHandler = (request: Request) => Response | Promise<Response>;

const remoteAddresses = new WeakMap<Request, string>();

/**
 * The socket address of a request that came through {@link toNodeListener}. Pass it as the broker's
 * `clientIp` when Node faces the internet directly (behind a proxy, use `trustProxy` instead).
 */
export function nodeClientIp(request: Request): string | undefined {
  return remoteAddresses.get(request);
}

/** IncomingMessage → a web Request whose body streams with backpressure and whose signal follows the client. */
function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const host = req.headers.host ?? 'localhost';
  const url = new URL(req.url ?? '/', `http://${host}`);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers, signal });

  let settled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.on('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        const fail = (error: unknown): void => {
          if (settled) return;
          settled = true;
          controller.error(error);
        };
        req.on('error', fail);
        // A client that disconnects mid-upload may only close the socket.
        req.on('close', () => {
          if (!req.complete) fail(new DOMException('Client disconnected', 'AbortError'));
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        // The handler stopped reading (e.g. a 413): drop the rest, but keep the socket for the answer.
        settled = true;
        req.resume();
      },
    },
    { highWaterMark: 65_536, size: (chunk) => chunk.byteLength },
  );
  // `duplex` is required by Node's fetch for a streamed body; not in TypeScript's RequestInit yet.
  return new Request(url, { method, headers, body, signal, duplex: 'half' } as RequestInit);
}

/** Writes a web Response to `res`, chunk by chunk, waiting for `drain` when the socket is full. */
async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders(); // a stream's headers go out now, not with its first chunk

  const reader = response.body.getReader();
  const onClose = (): void => {
    // The client left mid-stream: cancelling reaches the broker's stream, which aborts upstream.
    if (!res.writableFinished) reader.cancel(new DOMException('Client disconnected', 'AbortError')).catch(() => {});
  };
  res.on('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
    res.end();
  } catch (error) {
    // An upstream stream that broke must look broken downstream too, not like a complete answer.
    res.destroy(error instanceof Error ? error : new Error('Response stream failed'));
  } finally {
    res.off('close', onClose);
  }
}

/**
 * Turns a fetch handler into a `node:http` request listener. `request.signal` aborts when the client
 * disconnects before the response finished; the response body is written chunk by chunk with
 * backpressure and destroyed (not ended) when it fails.
 */
export function toNodeListener(handler: FetchHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new DOMException('Client disconnected', 'AbortError'));
    });
    void (async () => {
      let request: Request;
      try {
        request = toRequest(req, controller.signal);
      } catch {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":{"code":"bad_request","message":"Bad request"}}');
        return;
      }
      if (req.socket.remoteAddress) remoteAddresses.set(request, req.socket.remoteAddress);
      let response: Response;
      try {
        response = await handler(request);
      } catch {
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end('{"error":{"code":"internal_error","message":"Internal error"}}');
        } else res.destroy();
        return;
      }
      await writeResponse(response, res);
    })();
  };
}

/** A listening server from {@link serve}. */
export interface NodeServer {
  server: Server;
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  url: string;
  close(): Promise<void>;
}

/** Starts a `node:http` server for `handler`. @defaultValue port 8787, host 127.0.0.1 */
export function serve(handler: FetchHandler, options: { port?: number; host?: string } = {}): Promise<NodeServer> {
  const { port = 8787, host = '127.0.0.1' } = options;
  const server = createServer(toNodeListener(handler));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${shownHost}:${address.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.closeAllConnections();
            server.close((error) => (error ? fail(error) : done()));
          }),
      });
    });
  });
}
