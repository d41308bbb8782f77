import type { ErrorCode } from './types';

/** Extra facts an error may carry. */
export interface WidgetErrorInit {
  /** HTTP status of the response that caused it, when there was one. */
  status?: number;
  /** How long the server asked us to wait before trying again (already capped). */
  retryAfterMs?: number;
  /** True once answer bytes were received: such a request is never re-sent automatically. */
  afterBytes?: boolean;
  cause?: unknown;
}

/**
 * The one error type of the widget (style rule 3). `code` is machine-readable (embed.md section 3);
 * `message` is short, human and safe to show: it never contains a response body or a token.
 */
export class WidgetError extends Error {
  // Declared, not class fields: the constructor sets them all (no field initialisers to emit).
  declare readonly code: ErrorCode;
  declare readonly status: number | undefined;
  declare readonly retryAfterMs: number | undefined;
  declare readonly afterBytes: boolean;

  constructor(code: ErrorCode, message: string, init: WidgetErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.afterBytes = init.afterBytes ?? false;
    this.name = 'WidgetError';
  }
}

/** True for an error raised because our own AbortSignal fired (stop, destroy, timeout). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
