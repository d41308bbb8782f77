import type { BrokerConfig, BrokerLogEvent, RateLimiter, SigningKey } from './types';
import { createMemoryRateLimiter } from './rate-limit';

/** {@link BrokerConfig} after validation, with every default filled in. */
export interface ResolvedConfig {
  upstreamBase: string;
  upstreamKey: string;
  orgId: string | undefined;
  agentIds: ReadonlySet<string>;
  allowedOrigins: ReadonlySet<string>;
  signingKeys: readonly SigningKey[];
  ttlSeconds: number;
  limiter: RateLimiter;
  completionLimiter: RateLimiter | undefined;
  trustProxy: boolean;
  clientIp: BrokerConfig['clientIp'];
  subject: NonNullable<BrokerConfig['subject']>;
  basePath: string;
  publicApiBase: string | undefined;
  fetch: typeof fetch;
  maxMessages: number;
  maxInputChars: number;
  maxTotalChars: number;
  maxTokenBodyBytes: number;
  maxCompletionBodyBytes: number;
  heartbeatMs: number;
  upstreamTimeoutMs: number;
  log: (event: BrokerLogEvent) => void;
  now: () => number;
}

/** Throws a TypeError that names the bad field; never echoes a secret value (embed.md section 6). */
function fail(field: string, problem: string): never {
  throw new TypeError(`createBroker: \`${field}\` ${problem}`);
}

function httpUrl(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') fail(field, 'must be a non-empty URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(field, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(field, 'must be an absolute http(s) URL');
  return value.replace(/\/+$/, '');
}

function nonEmptyStrings(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(field, 'must be a non-empty array (an exact allowlist)');
  for (const item of value) {
    if (typeof item !== 'string' || item.trim() === '') fail(field, 'must contain only non-empty strings');
    if (item.includes('*')) fail(field, `must list exact values; wildcards are refused (${JSON.stringify(item)})`);
  }
  return value as string[];
}

/** An exact origin is what `new URL(o).origin` gives back unchanged: scheme, host, optional port, no path. */
function exactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

function numberIn(field: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(field, `must be a number from ${min} to ${max}`);
  }
  return Math.floor(value);
}

function optionalFunction<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(field, 'must be a function');
  return value;
}

function limiterOrDefault(field: string, value: unknown, fallback: () => RateLimiter): RateLimiter {
  if (value === undefined) return fallback();
  if (typeof value !== 'object' || value === null || typeof (value as RateLimiter).hit !== 'function') {
    fail(field, 'must be an object with a hit(key) method');
  }
  return value as RateLimiter;
}

const encoder = new TextEncoder();

/** Validates a {@link BrokerConfig} and fills in the defaults. */
export function resolveConfig(config: BrokerConfig): ResolvedConfig {
  if (typeof config !== 'object' || config === null) throw new TypeError('createBroker: config must be an object');

  const upstreamBase = httpUrl('upstreamBase', config.upstreamBase);
  if (typeof config.upstreamKey !== 'string' || config.upstreamKey.trim() === '') {
    fail('upstreamKey', 'must be a non-empty string');
  }
  if (config.orgId !== undefined && (typeof config.orgId !== 'string' || config.orgId.trim() === '')) {
    fail('orgId', 'must be a non-empty string when set');
  }

  const agentIds = nonEmptyStrings('agentIds', config.agentIds);
  const allowedOrigins = nonEmptyStrings('allowedOrigins', config.allowedOrigins);
  for (const origin of allowedOrigins) {
    // `null` is the origin of sandboxed iframes and file: pages: anyone can forge it (reliability C11).
    if (!exactOrigin(origin)) {
      fail('allowedOrigins', `must list exact origins like "https://example.com" (got ${JSON.stringify(origin)})`);
    }
  }

  if (!Array.isArray(config.signingKeys) || config.signingKeys.length === 0) {
    fail('signingKeys', 'must be a non-empty array of { kid, secret }');
  }
  const kids = new Set<string>();
  for (const [i, key] of config.signingKeys.entries()) {
    if (typeof key !== 'object' || key === null) fail(`signingKeys[${i}]`, 'must be { kid, secret }');
    if (typeof key.kid !== 'string' || key.kid.trim() === '') fail(`signingKeys[${i}].kid`, 'must be a non-empty string');
    if (kids.has(key.kid)) fail(`signingKeys[${i}].kid`, `duplicates kid ${JSON.stringify(key.kid)}`);
    kids.add(key.kid);
    if (typeof key.secret !== 'string' || encoder.encode(key.secret).byteLength < 32) {
      fail(`signingKeys[${i}].secret`, 'must be at least 32 bytes (HS256 needs a 256-bit key)');
    }
  }

  let ttlSeconds = 600;
  if (config.ttlSeconds !== undefined) {
    if (typeof config.ttlSeconds !== 'number' || !Number.isFinite(config.ttlSeconds)) fail('ttlSeconds', 'must be a number');
    // Clamped, not refused: embed.md section 5 bounds expiresIn to 30–3600 on the client side too.
    ttlSeconds = Math.min(3600, Math.max(30, Math.floor(config.ttlSeconds)));
  }

  let basePath = config.basePath ?? '';
  if (typeof basePath !== 'string' || (basePath !== '' && !basePath.startsWith('/'))) {
    fail('basePath', 'must be empty or start with "/"');
  }
  basePath = basePath.replace(/\/+$/, '');

  const publicApiBase = config.publicApiBase === undefined ? undefined : httpUrl('publicApiBase', config.publicApiBase);

  const fetchImpl = optionalFunction('fetch', config.fetch) ?? globalThis.fetch.bind(globalThis);
  const log = optionalFunction('log', config.log) ?? (() => {});
  const now = optionalFunction('now', config.now) ?? Date.now;

  if (config.trustProxy !== undefined && typeof config.trustProxy !== 'boolean') fail('trustProxy', 'must be a boolean');

  const maxInputChars = numberIn('maxInputChars', config.maxInputChars, 8000, 1);
  const maxTotalChars = numberIn('maxTotalChars', config.maxTotalChars, 32_000, 1);
  if (maxTotalChars < maxInputChars) fail('maxTotalChars', 'must be at least maxInputChars');

  const bodyCaps = config.maxBodyBytes ?? {};
  if (typeof bodyCaps !== 'object' || bodyCaps === null) fail('maxBodyBytes', 'must be { token?, completion? }');

  return {
    upstreamBase,
    upstreamKey: config.upstreamKey,
    orgId: config.orgId,
    agentIds: new Set(agentIds),
    allowedOrigins: new Set(allowedOrigins),
    signingKeys: config.signingKeys.map((k) => ({ kid: k.kid, secret: k.secret })),
    ttlSeconds,
    limiter: limiterOrDefault('limiter', config.limiter, () => createMemoryRateLimiter({ limit: 20, windowMs: 60_000, now })),
    completionLimiter:
      config.completionLimiter === false
        ? undefined
        : limiterOrDefault('completionLimiter', config.completionLimiter, () =>
            createMemoryRateLimiter({ limit: 30, windowMs: 60_000, now }),
          ),
    trustProxy: config.trustProxy ?? false,
    clientIp: optionalFunction('clientIp', config.clientIp),
    subject: optionalFunction('subject', config.subject) ?? (() => 'anonymous'),
    basePath,
    publicApiBase,
    fetch: fetchImpl,
    maxMessages: numberIn('maxMessages', config.maxMessages, 50, 1),
    maxInputChars,
    maxTotalChars,
    maxTokenBodyBytes: numberIn('maxBodyBytes.token', bodyCaps.token, 4096, 64),
    maxCompletionBodyBytes: numberIn('maxBodyBytes.completion', bodyCaps.completion, 262_144, 64),
    heartbeatMs: numberIn('heartbeatMs', config.heartbeatMs, 15_000, 0),
    upstreamTimeoutMs: numberIn('upstreamTimeoutMs', config.upstreamTimeoutMs, 60_000, 1),
    log,
    now,
  };
}
