import type { RateLimiter, RateLimitResult } from './types';

/** Options of {@link createMemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /** Requests allowed per key per window. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
  /**
   * Most keys held at once. When full, expired windows are swept, then the oldest keys are dropped
   * (a dropped key starts a fresh window, which errs towards allowing). Bounds memory under an IP
   * flood. @defaultValue 10000
   */
  maxKeys?: number;
  /** Clock in epoch milliseconds. @defaultValue `Date.now` */
  now?: () => number;
}

/** A {@link RateLimiter} that answers synchronously. */
export interface MemoryRateLimiter extends RateLimiter {
  hit(key: string): RateLimitResult;
}

/**
 * A fixed-window counter per key, in memory. Good for one process or one isolate; a Workers
 * deployment with many isolates should pass a shared limiter (KV, Durable Object) instead.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): MemoryRateLimiter {
  const { limit, windowMs, maxKeys = 10_000, now = Date.now } = options;
  // Map keeps insertion order, so its first keys are the oldest windows.
  const windows = new Map<string, { count: number; resetAt: number }>();

  function makeRoom(t: number): void {
    for (const [key, w] of windows) if (w.resetAt <= t) windows.delete(key);
    for (const key of windows.keys()) {
      if (windows.size < maxKeys) break;
      windows.delete(key);
    }
  }

  return {
    hit(key: string): RateLimitResult {
      const t = now();
      let w = windows.get(key);
      if (!w || w.resetAt <= t) {
        if (w) windows.delete(key);
        else if (windows.size >= maxKeys) makeRoom(t);
        w = { count: 0, resetAt: t + windowMs };
        windows.set(key, w);
      }
      w.count += 1;
      if (w.count <= limit) return { allowed: true, retryAfterSeconds: 0 };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - t) / 1000)) };
    },
  };
}
