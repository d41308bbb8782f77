/**
 * The reference broker configured from environment variables, shared by `server.ts` (plain Node)
 * and `express.ts` (Express-style). The API key and the signing secret come from the environment
 * (a secret store in production, a git-ignored `.env` locally); nothing secret is written here.
 *
 * In your own project import from `codegpt-widget/server` and `codegpt-widget/server/node`.
 */
import { createBroker } from '../../server/index';
import type { BrokerConfig, BrokerHandler, SigningKey } from '../../server/index';
import { nodeClientIp } from '../../server/node';

/** The variables read, the same names as in `examples/cloudflare-worker/`. */
export interface BrokerEnv {
  /** The CodeGPT API key. Secret. */
  CODEGPT_API_KEY?: string;
  /** @defaultValue `https://api.codegpt.co/api/v1` */
  CODEGPT_API_BASE?: string;
  CODEGPT_ORG_ID?: string;
  /** Comma-separated agent ids the broker issues tokens for. */
  AGENT_IDS?: string;
  /** Comma-separated exact origins of the pages that embed the widget, e.g. `https://docs.example.com`. */
  ALLOWED_ORIGINS?: string;
  /** Current signing key: an id you choose and at least 32 random bytes (`openssl rand -base64 48`). Secret. */
  SIGNING_KID?: string;
  SIGNING_SECRET?: string;
  /** During a rotation, the previous key, kept until its tokens expired (10 minutes by default). */
  PREVIOUS_SIGNING_KID?: string;
  PREVIOUS_SIGNING_SECRET?: string;
  /** Where the broker is reachable from the browser, e.g. `https://docs.example.com/api/codegpt`. */
  PUBLIC_API_BASE?: string;
  /** Behind a proxy that overwrites `X-Forwarded-For` (or Cloudflare): `true`. */
  TRUST_PROXY?: string;
  [name: string]: string | undefined;
}

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);

function required(env: BrokerEnv, name: keyof BrokerEnv & string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`Set the ${name} environment variable (see examples/node/README.md).`);
  return value;
}

/**
 * Creates the broker from `env`. `overrides` wins over the environment: `basePath` (where the
 * broker is mounted), a shared `limiter`, or a fake `fetch` in tests.
 */
export function createBrokerFromEnv(env: BrokerEnv, overrides: Partial<BrokerConfig> = {}): BrokerHandler {
  const signingKeys: SigningKey[] = [{ kid: required(env, 'SIGNING_KID'), secret: required(env, 'SIGNING_SECRET') }];
  if (env.PREVIOUS_SIGNING_KID && env.PREVIOUS_SIGNING_SECRET) {
    signingKeys.push({ kid: env.PREVIOUS_SIGNING_KID, secret: env.PREVIOUS_SIGNING_SECRET });
  }
  const trustProxy = env.TRUST_PROXY === 'true';
  return createBroker({
    upstreamBase: env.CODEGPT_API_BASE || 'https://api.codegpt.co/api/v1',
    upstreamKey: required(env, 'CODEGPT_API_KEY'),
    orgId: env.CODEGPT_ORG_ID || undefined,
    agentIds: list(required(env, 'AGENT_IDS')),
    allowedOrigins: list(required(env, 'ALLOWED_ORIGINS')),
    signingKeys,
    publicApiBase: env.PUBLIC_API_BASE || undefined,
    basePath: '/api/codegpt',
    // Node faces the client directly: the socket address. Behind a proxy, the forwarded one.
    ...(trustProxy ? { trustProxy } : { clientIp: nodeClientIp }),
    log: (event) => console.log(JSON.stringify(event)),
    ...overrides,
  });
}
