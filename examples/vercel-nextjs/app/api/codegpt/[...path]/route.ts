/**
 * Next.js App Router route handler (Vercel or any Next.js host): the reference broker at
 * `/api/codegpt/*`, i.e. `POST /api/codegpt/token` and `POST /api/codegpt/chat/completions`
 * (plus their CORS preflights). The widget then uses `tokenEndpoint="/api/codegpt/token"`.
 *
 * Secrets live in the project's environment variables (Vercel: Settings → Environment Variables,
 * or `vercel env add CODEGPT_API_KEY`; locally `.env.local`, which Next.js keeps out of the bundle
 * because the names have no `NEXT_PUBLIC_` prefix). Never prefix them with `NEXT_PUBLIC_`.
 */
import { createBroker, type BrokerHandler } from 'codegpt-widget/server';

// Web APIs only: 'edge' works too. A streamed answer can outlast the default function timeout.
export const runtime = 'nodejs';
export const maxDuration = 60;

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

let broker: BrokerHandler | undefined;

/** Built on the first request, not at import: `next build` imports this file without the secrets. */
function getBroker(): BrokerHandler {
  const env = process.env;
  broker ??= createBroker({
    upstreamBase: env.CODEGPT_API_BASE || 'https://api.codegpt.co/api/v1',
    upstreamKey: env.CODEGPT_API_KEY ?? '',
    orgId: env.CODEGPT_ORG_ID || undefined,
    agentIds: list(env.AGENT_IDS),
    // The site's own origin(s), exact: e.g. `https://docs.example.com,https://docs-git-main-acme.vercel.app`.
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    signingKeys: [{ kid: env.SIGNING_KID ?? '', secret: env.SIGNING_SECRET ?? '' }],
    basePath: '/api/codegpt',
    publicApiBase: env.PUBLIC_API_BASE || undefined,
    // Vercel sets X-Forwarded-For to the client address itself (it does not pass on a client's value).
    trustProxy: true,
  });
  return broker;
}

export function POST(request: Request): Promise<Response> {
  return getBroker()(request);
}

export function OPTIONS(request: Request): Promise<Response> {
  return getBroker()(request);
}

export function GET(request: Request): Promise<Response> {
  return getBroker()(request); // GET /api/codegpt/health
}
