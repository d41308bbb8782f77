/**
 * The reference token broker, `codegpt-widget/server` (embed.md section 6). Web APIs only; the Node
 * adapter lives in `server/node.ts`.
 */
export { createBroker } from './broker';
export { createMemoryRateLimiter } from './rate-limit';
export type { MemoryRateLimiter, MemoryRateLimiterOptions } from './rate-limit';
export { TOKEN_AUDIENCE, TOKEN_ISSUER, CLOCK_TOLERANCE_SECONDS } from './tokens';
export type {
  BrokerConfig,
  BrokerErrorCode,
  BrokerHandler,
  BrokerLogEvent,
  RateLimiter,
  RateLimitResult,
  SigningKey,
  WidgetTokenClaims,
} from './types';
