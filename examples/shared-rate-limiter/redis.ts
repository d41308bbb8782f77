/**
 * A {@link RateLimiter} shared by every instance of the broker, over Redis. The default limiters are
 * in memory: each Node process, serverless instance or Workers isolate counts on its own, so N
 * instances allow N times the limit. Pass this as `limiter` (for `POST /token`) and
 * `completionLimiter` (for `POST /chat/completions`) to count once for all of them.
 *
 * ```ts
 * import Redis from 'ioredis';                       // or: import { Redis } from '@upstash/redis' (HTTP: Vercel, Deno, Workers)
 * const redis = new Redis(process.env.REDIS_URL);
 * createBroker({
 *   ...,
 *   limiter: createRedisRateLimiter(redis, { limit: 20, windowMs: 60_000, prefix: 'cgw:token:' }),
 *   completionLimiter: createRedisRateLimiter(redis, { limit: 30, windowMs: 60_000, prefix: 'cgw:chat:' }),
 * });
 * ```
 *
 * A fixed window per key, like the in-memory default: INCR, and on the first hit PEXPIRE. If Redis
 * is down, `hit` rejects and the broker answers 503 (it fails closed, so an outage cannot open
 * the paid route to everyone). In your project: `import type { RateLimiter } from 'codegpt-widget/server'`.
 */
import type { RateLimiter, RateLimitResult } from '../../server/index';

/** The three commands used; ioredis and @upstash/redis clients have them under these names. */
export interface RedisLike {
  incr(key: string): Promise<number>;
  pexpire(key: string, milliseconds: number): Promise<unknown>;
  /** Milliseconds left, -1 for a key without expiry, -2 for no key. */
  pttl(key: string): Promise<number>;
}

export interface RedisRateLimiterOptions {
  /** Requests allowed per key per window. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
  /** Key prefix; use one per limiter so token and chat counts stay apart. @defaultValue `codegpt:rl:` */
  prefix?: string;
}

export function createRedisRateLimiter(redis: RedisLike, options: RedisRateLimiterOptions): RateLimiter {
  const { limit, windowMs, prefix = 'codegpt:rl:' } = options;
  return {
    async hit(key: string): Promise<RateLimitResult> {
      const k = prefix + key;
      const count = await redis.incr(k);
      if (count === 1) await redis.pexpire(k, windowMs);
      if (count <= limit) return { allowed: true, retryAfterSeconds: 0 };
      let ttl = await redis.pttl(k);
      if (ttl < 0) {
        // The process died between INCR and PEXPIRE: the key would never expire. Give it a window.
        await redis.pexpire(k, windowMs);
        ttl = windowMs;
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
    },
  };
}
