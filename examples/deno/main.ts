/**
 * Deno (and Deno Deploy): the reference broker with `Deno.serve`, at `/api/codegpt/*`.
 *
 *   deno run --allow-net --allow-env --env-file=.env main.ts
 *
 * Secrets come from the environment: `--env-file` locally (keep `.env` out of git), the project's
 * environment variables on Deno Deploy. `--allow-env` could be narrowed to the names read below.
 */
import { createBroker } from 'npm:codegpt-widget/server';

const env = (name: string): string | undefined => Deno.env.get(name) || undefined;
const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

// The socket address of each request, for the per-client rate limit.
const clientIps = new WeakMap<Request, string>();

const broker = createBroker({
  upstreamBase: env('CODEGPT_API_BASE') ?? 'https://api.codegpt.co/api/v1',
  upstreamKey: env('CODEGPT_API_KEY') ?? '',
  orgId: env('CODEGPT_ORG_ID'),
  agentIds: list(env('AGENT_IDS')),
  // Exact origins of the pages embedding the widget, e.g. `https://docs.example.com`.
  allowedOrigins: list(env('ALLOWED_ORIGINS')),
  signingKeys: [{ kid: env('SIGNING_KID') ?? '', secret: env('SIGNING_SECRET') ?? '' }],
  basePath: '/api/codegpt',
  publicApiBase: env('PUBLIC_API_BASE'),
  clientIp: (request) => clientIps.get(request),
});

Deno.serve({ port: Number(env('PORT') ?? 8000) }, (request, info) => {
  const address = info.remoteAddr;
  if (address.transport === 'tcp') clientIps.set(request, address.hostname);
  return broker(request);
});
