/**
 * The reference broker on Cloudflare Workers. Secrets come from `wrangler secret put`; the broker is
 * built once per isolate (on the first request) and reused, so the in-memory rate limiter and the
 * decoded keys live as long as the isolate. Several isolates each count on their own: pass a
 * `limiter` backed by a Durable Object or KV for one global limit.
 */
// In your own project: `from 'codegpt-widget/server'`.
import { createBroker } from '../../server/index';
import type { BrokerHandler } from '../../server/index';

interface Env {
  CODEGPT_API_BASE?: string;
  CODEGPT_API_KEY: string;
  CODEGPT_ORG_ID?: string;
  /** Comma-separated agent ids. */
  AGENT_IDS: string;
  /** Comma-separated exact origins, e.g. `https://example.com,https://www.example.com`. */
  ALLOWED_ORIGINS: string;
  /** Current signing key id and secret (≥ 32 bytes). */
  SIGNING_KID: string;
  SIGNING_SECRET: string;
  /** During a rotation: the previous key, kept until its tokens expired. */
  PREVIOUS_SIGNING_KID?: string;
  PREVIOUS_SIGNING_SECRET?: string;
  /** This worker's public URL plus its base path, returned to the widget as `apiBase`. */
  PUBLIC_API_BASE?: string;
}

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);

let broker: BrokerHandler | undefined;

function build(env: Env): BrokerHandler {
  const signingKeys = [{ kid: env.SIGNING_KID, secret: env.SIGNING_SECRET }];
  if (env.PREVIOUS_SIGNING_KID && env.PREVIOUS_SIGNING_SECRET) {
    signingKeys.push({ kid: env.PREVIOUS_SIGNING_KID, secret: env.PREVIOUS_SIGNING_SECRET });
  }
  return createBroker({
    upstreamBase: env.CODEGPT_API_BASE ?? 'https://api.codegpt.co/api/v1',
    upstreamKey: env.CODEGPT_API_KEY,
    orgId: env.CODEGPT_ORG_ID || undefined,
    agentIds: list(env.AGENT_IDS),
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    signingKeys,
    publicApiBase: env.PUBLIC_API_BASE || undefined,
    // Cloudflare sets CF-Connecting-IP itself; a client cannot forge it here.
    trustProxy: true,
    log: (event) => console.log(JSON.stringify(event)),
  });
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    broker ??= build(env);
    return broker(request);
  },
};
