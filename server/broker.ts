import { Hono } from 'hono';
import type { Context } from 'hono';
import type { BrokerConfig, BrokerErrorCode, BrokerHandler, BrokerLogEvent, RateLimiter } from './types';
import { resolveConfig } from './config';
import { BodyError, errorResponse, isRecord, jsonResponse, readJsonBody } from './http';
import { parseCompletionBody } from './messages';
import { createTokenService } from './tokens';
import { mapUpstreamError, pipeStream } from './upstream';

const TOKEN_ROUTE = '/token';
const CHAT_ROUTE = '/chat/completions';
const ALLOW_HEADERS = 'Authorization, Content-Type, CodeGPT-Org-Id';

/** Response with a status from 200 to 599 that a client which already left will never read. */
const ABORTED_STATUS = 499;

/**
 * Creates the reference token broker (embed.md section 6): one standard fetch handler that issues
 * short-lived widget tokens (`POST /token`) and proxies completions with the real key
 * (`POST /chat/completions`), so the key never reaches the browser. Web APIs only: the same handler
 * runs on Node (see `server/node.ts`), Cloudflare Workers, Deno, Bun and edge functions.
 *
 * @throws TypeError naming the bad field when the config is invalid.
 */
export function createBroker(config: BrokerConfig): BrokerHandler {
  const cfg = resolveConfig(config);
  const tokens = createTokenService(cfg.signingKeys, cfg.now);
  let warnedNoIp = false;

  const log = (event: BrokerLogEvent): void => {
    try {
      cfg.log(event);
    } catch {
      // A broken log sink must not break a request.
    }
  };

  const routeOf = (c: Context): string => {
    const path = new URL(c.req.url).pathname;
    return (path.startsWith(cfg.basePath) ? path.slice(cfg.basePath.length) : path) || '/';
  };

  /** The request's Origin when it is on the allowlist; `null` and absent never are (reliability C11). */
  const allowedOrigin = (request: Request): string | undefined => {
    const origin = request.headers.get('origin');
    return origin !== null && cfg.allowedOrigins.has(origin) ? origin : undefined;
  };

  const clientIp = (request: Request): string | undefined => {
    if (cfg.clientIp) {
      try {
        return cfg.clientIp(request) ?? undefined;
      } catch {
        return undefined;
      }
    }
    if (cfg.trustProxy) {
      const cf = request.headers.get('cf-connecting-ip')?.trim();
      if (cf) return cf;
      const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
      if (forwarded) return forwarded;
    }
    return undefined;
  };

  /** Counts a hit; returns the 429/503 to send, or undefined when the request may go on. */
  const limit = async (
    limiter: RateLimiter | undefined,
    route: typeof TOKEN_ROUTE | typeof CHAT_ROUTE,
    request: Request,
    origin: string,
  ): Promise<{ status: number; code: BrokerErrorCode; message: string; headers: Record<string, string> } | undefined> => {
    if (!limiter) return undefined;
    const ip = clientIp(request);
    if (ip === undefined && !warnedNoIp) {
      warnedNoIp = true;
      log({ level: 'warn', event: 'client_ip_unknown', status: 0, route, origin });
    }
    const scope = route === TOKEN_ROUTE ? 'token' : 'chat';
    try {
      const result = await limiter.hit(`${scope}|${origin}|${(ip ?? 'unknown').slice(0, 64)}`);
      if (result.allowed) return undefined;
      const seconds = Math.max(1, Math.ceil(result.retryAfterSeconds));
      return { status: 429, code: 'rate_limited', message: 'Too many requests', headers: { 'Retry-After': String(seconds) } };
    } catch {
      // Fail closed: a limiter outage must not open the paid route to everyone.
      return { status: 503, code: 'unavailable', message: 'Rate limiter unavailable', headers: { 'Retry-After': '5' } };
    }
  };

  const root = new Hono();
  // Routes below are written relative to the mount point (e.g. `/api/codegpt` in the demo).
  const app = cfg.basePath ? root.basePath(cfg.basePath) : root;

  app.notFound((c) => {
    log({ level: 'info', event: 'not_found', status: 404, route: routeOf(c) });
    return errorResponse(404, 'not_found', 'Not found');
  });

  app.onError((_error, c) => {
    // The error itself is not logged: it may quote a request or upstream value.
    log({ level: 'error', event: 'internal_error', status: 500, route: routeOf(c) });
    return errorResponse(500, 'internal_error', 'Internal error');
  });

  // CORS (embed.md section 6, reliability C11), written out rather than Hono's `cors()` because
  // that one sends `Access-Control-Allow-Credentials: true` even to origins it refuses, and answers
  // their preflights with 204. Here: an exact echo of an allowed origin, credentials only beside
  // it, `Vary: Origin` on every response, and the same headers on errors.
  app.use('*', async (c, next) => {
    const origin = allowedOrigin(c.req.raw);
    const route = routeOf(c);
    if (c.req.method === 'OPTIONS' && (route === TOKEN_ROUTE || route === CHAT_ROUTE)) {
      const vary = { Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' };
      if (!origin) {
        log({ level: 'warn', event: 'preflight_denied', status: 403, route, code: 'origin_not_allowed' });
        return errorResponse(403, 'origin_not_allowed', 'Origin not allowed', vary);
      }
      return new Response(null, {
        status: 204,
        headers: {
          ...vary,
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Credentials': 'true',
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': ALLOW_HEADERS,
          'Access-Control-Max-Age': '600',
        },
      });
    }
    await next();
    const headers = c.res.headers;
    if (!/(^|,)\s*origin\s*(,|$)/i.test(headers.get('vary') ?? '')) headers.append('Vary', 'Origin');
    headers.set('X-Content-Type-Options', 'nosniff');
    if (origin) {
      headers.set('Access-Control-Allow-Origin', origin);
      headers.set('Access-Control-Allow-Credentials', 'true');
      // The widget reads Retry-After on 429/503; it is not a CORS-safelisted response header.
      headers.set('Access-Control-Expose-Headers', 'Retry-After');
    }
  });

  /** A refusal: logged once (warn, or error for 5xx) with what is known of the request so far. */
  const denier =
    (event: string, route: string, started: number, origin: string | undefined, agent: () => string | undefined) =>
    (status: number, code: BrokerErrorCode, message: string, headers?: Record<string, string>): Response => {
      const level = status >= 500 ? 'error' : 'warn';
      log({ level, event, status, route, origin, agent: agent(), code, ms: cfg.now() - started });
      return errorResponse(status, code, message, headers);
    };

  app.get('/health', () => jsonResponse(200, { status: 'ok' }));

  app.post(TOKEN_ROUTE, async (c) => {
    const request = c.req.raw;
    const started = cfg.now();
    const origin = allowedOrigin(request);
    let agent: string | undefined;
    const deny = denier('token_denied', TOKEN_ROUTE, started, origin, () => agent);

    if (!origin) return deny(403, 'origin_not_allowed', 'Origin not allowed');
    const limited = await limit(cfg.limiter, TOKEN_ROUTE, request, origin);
    if (limited) return deny(limited.status, limited.code, limited.message, limited.headers);

    let body: unknown;
    try {
      body = await readJsonBody(request, cfg.maxTokenBodyBytes);
    } catch (error) {
      if (error instanceof BodyError) return deny(error.status, 'bad_request', error.message);
      throw error;
    }
    if (!isRecord(body) || typeof body.agentId !== 'string') return deny(400, 'bad_request', '`agentId` must be a string');
    if (body.widgetVersion !== undefined && typeof body.widgetVersion !== 'string') {
      return deny(400, 'bad_request', '`widgetVersion` must be a string');
    }
    if (!cfg.agentIds.has(body.agentId)) return deny(403, 'agent_not_allowed', 'Agent not allowed');
    agent = body.agentId;

    let sub: string | null | undefined;
    try {
      sub = await cfg.subject(request);
    } catch {
      sub = undefined;
    }
    if (typeof sub !== 'string' || sub === '') return deny(401, 'unauthenticated', 'Sign in to use the chat');

    const token = await tokens.issue({ agent, origin, sub, ttlSeconds: cfg.ttlSeconds });
    const issuedAt = Math.floor(cfg.now() / 1000);
    log({ level: 'info', event: 'token_issued', status: 200, route: TOKEN_ROUTE, origin, agent, ms: cfg.now() - started });
    return jsonResponse(200, {
      token,
      expiresIn: cfg.ttlSeconds,
      tokenType: 'Bearer',
      expiresAt: new Date((issuedAt + cfg.ttlSeconds) * 1000).toISOString(),
      ...(cfg.publicApiBase ? { apiBase: cfg.publicApiBase } : {}),
    });
  });

  app.post(CHAT_ROUTE, async (c) => {
    const request = c.req.raw;
    const started = cfg.now();
    const origin = allowedOrigin(request);
    let agent: string | undefined;
    const deny = denier('completion_denied', CHAT_ROUTE, started, origin, () => agent);

    if (!origin) return deny(403, 'origin_not_allowed', 'Origin not allowed');
    const bearer = /^Bearer[ ]+([^\s]+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    const challenge = (code: string) => ({ 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${code}"` });
    if (!bearer) return deny(401, 'invalid_token', 'Missing bearer token', challenge('invalid_token'));
    const verified = await tokens.verify(bearer);
    if (!verified.ok) return deny(401, verified.code, verified.message, challenge(verified.code));
    const claims = verified.claims;
    // Tokens outlive allowlist edits by up to one TTL; the allowlist wins.
    if (!cfg.agentIds.has(claims.agent)) return deny(403, 'agent_not_allowed', 'Agent not allowed');
    agent = claims.agent;
    if (claims.origin !== origin) {
      return deny(401, 'invalid_token', 'Token was issued to another origin', challenge('invalid_token'));
    }
    const limited = await limit(cfg.completionLimiter, CHAT_ROUTE, request, origin);
    if (limited) return deny(limited.status, limited.code, limited.message, limited.headers);

    let raw: unknown;
    try {
      raw = await readJsonBody(request, cfg.maxCompletionBodyBytes);
    } catch (error) {
      if (error instanceof BodyError) return deny(error.status, 'bad_request', error.message);
      throw error;
    }
    const parsed = parseCompletionBody(raw, cfg);
    if (!parsed.ok) return deny(400, 'bad_request', parsed.message);
    const { messages, stream, format } = parsed.value;

    // The upstream request follows the client's signal, a headers timeout, and our own cancel.
    const upstreamAbort = new AbortController();
    const clientSignal = request.signal;
    const onClientAbort = (): void => upstreamAbort.abort(clientSignal.reason);
    if (clientSignal.aborted) return deny(ABORTED_STATUS, 'aborted', 'Client went away');
    clientSignal.addEventListener('abort', onClientAbort, { once: true });
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      upstreamAbort.abort();
    }, cfg.upstreamTimeoutMs);
    const release = (): void => {
      clearTimeout(timeout);
      clientSignal.removeEventListener('abort', onClientAbort);
    };

    const headers: Record<string, string> = {
      Authorization: `Bearer ${cfg.upstreamKey}`,
      'Content-Type': 'application/json',
      Accept: stream ? 'text/event-stream, application/json' : 'application/json',
    };
    if (cfg.orgId) headers['CodeGPT-Org-Id'] = cfg.orgId;

    let upstream: Response;
    try {
      upstream = await cfg.fetch(`${cfg.upstreamBase}/chat/completions`, {
        method: 'POST',
        headers,
        // The token's agent, never the body's: a token for agent A cannot reach agent B.
        body: JSON.stringify({ agentId: claims.agent, messages, stream, format }),
        signal: upstreamAbort.signal,
      });
    } catch {
      release();
      if (clientSignal.aborted) return deny(ABORTED_STATUS, 'aborted', 'Client went away');
      if (timedOut) return deny(504, 'upstream_timeout', 'The chat service did not answer in time');
      return deny(502, 'upstream_error', 'Could not reach the chat service');
    }
    clearTimeout(timeout); // the timeout covers the wait for headers only; a stream may run long

    if (upstream.status >= 400) {
      release();
      const failure = await mapUpstreamError(upstream, [cfg.upstreamKey]);
      return deny(failure.status, failure.code, failure.message, failure.headers);
    }

    const contentType =
      upstream.headers.get('content-type') ??
      (!stream ? 'application/json' : format === 'text' ? 'text/plain; charset=utf-8' : 'text/event-stream');
    // Pings only for SSE: in `format: text` mode the body is raw text whatever its header says
    // (codegpt-api.md section 9.1), and a comment line would become part of the answer.
    const sse = stream && format === 'json' && /^\s*text\/event-stream/i.test(contentType);
    const body = pipeStream(upstream.body, {
      sse,
      heartbeatMs: cfg.heartbeatMs,
      onCancel: (reason) => upstreamAbort.abort(reason),
      onEnd: (outcome) => {
        release();
        const level = outcome === 'error' ? 'warn' : 'info';
        log({ level, event: 'stream_end', status: 200, route: CHAT_ROUTE, origin, agent, outcome, ms: cfg.now() - started });
      },
    });
    log({ level: 'info', event: 'completion_started', status: 200, route: CHAT_ROUTE, origin, agent, ms: cfg.now() - started });
    return new Response(body, {
      status: 200,
      headers: { 'Content-Type': contentType, 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' },
    });
  });

  return async (request: Request) => app.fetch(request);
}
