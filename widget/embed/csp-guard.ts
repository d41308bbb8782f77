/**
 * Tells a request the page's Content-Security-Policy refused apart from a network failure
 * (reliability.md B4). The browser rejects such a fetch with the same `TypeError: Failed to fetch`
 * as a dropped connection; only a `securitypolicyviolation` event, fired at the document around the
 * same time (in Chromium just after the rejection), names the blocked URL. A fetch that failed for a
 * URL the policy blocked becomes a `config` error: retrying cannot help (a policy does not loosen
 * during the life of a document), so nothing retries it, and the site owner gets one console line
 * naming the origin to add to `connect-src`.
 */
import { isAbortError, WidgetError } from '../core/errors';
import { share } from '../core/share';
import type { Shared } from '../core/share';

/** The message of the error (the view shows `strings.cspBlocked`; events carry this). */
export const CSP_BLOCKED_MESSAGE = "Blocked by the site's Content Security Policy (connect-src).";

/** The `cause` of a {@link WidgetError} raised for a CSP block. */
export interface CspBlock {
  csp: 'connect-src';
  /** The URL (or origin) the browser reported as blocked. */
  blockedUri: string;
}

/** True for an error raised because the page's CSP blocked the request. */
export function isCspBlock(error: unknown): boolean {
  const cause = error instanceof WidgetError ? (error.cause as Partial<CspBlock> | undefined) : undefined;
  return cause?.csp === 'connect-src';
}

/** How long after a failed fetch the violation event may still arrive. */
const EVENT_GRACE_MS = 30;

/** One listener per document, shared by every guard on it, removed with the last one (reliability E8). */
const recorders = new WeakMap<Document, Shared<string[]>>();
/** Origins already reported on the console, so a blocked endpoint is named once, not per try. */
const reported = new Set<string>();

/** A fetch that reports CSP blocks as such, and the way to stop listening. */
export interface CspGuard {
  fetch: typeof fetch;
  dispose(): void;
}

/**
 * Wraps `fetchImpl`: when it rejects (not an abort) for a URL the page's policy blocked under
 * `connect-src`, the rejection becomes a `config` {@link WidgetError} whose cause is a
 * {@link CspBlock}. Every other outcome passes through unchanged. `wait` is the timer used for the
 * short grace period (injected: captured natives, reliability E4).
 */
export function createCspGuard(doc: Document, fetchImpl: typeof fetch, wait: (ms: number) => Promise<void>): CspGuard {
  const mine: string[] = [];
  const listener = (event: SecurityPolicyViolationEvent): void => {
    const directive = event.effectiveDirective || event.violatedDirective || '';
    // Report-only policies block nothing.
    if (event.disposition === 'enforce' && directive.startsWith('connect-src') && event.blockedURI) {
      if (!mine.includes(event.blockedURI)) mine.push(event.blockedURI);
    }
  };
  /** The blocked URIs, as recorded by the listener of the document's first guard. */
  const [blocked, dispose] = share(
    recorders,
    doc,
    () => {
      doc.addEventListener('securitypolicyviolation', listener);
      return mine;
    },
    () => doc.removeEventListener('securitypolicyviolation', listener),
  );

  const findBlock = (url: string): string | undefined =>
    // The event names the full URL, or only the origin after a cross-origin redirect.
    blocked.find((uri) => url === uri || url.startsWith(uri.endsWith('/') ? uri : `${uri}/`));

  const guarded = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await fetchImpl(input, init);
    } catch (error) {
      if (isAbortError(error) || init?.signal?.aborted) throw error;
      const url = input instanceof Request ? input.url : String(input);
      let blockedUri = findBlock(url);
      if (blockedUri === undefined) {
        await wait(EVENT_GRACE_MS);
        blockedUri = findBlock(url);
      }
      if (blockedUri === undefined) throw error;
      const origin = safeOrigin(url);
      if (!reported.has(origin)) {
        reported.add(origin);
        console.error(`codegpt-widget: this page's Content-Security-Policy blocked a request to ${origin}. Add ${origin} to connect-src.`);
      }
      const cause: CspBlock = { csp: 'connect-src', blockedUri };
      throw new WidgetError('config', CSP_BLOCKED_MESSAGE, { cause });
    }
  };

  return {
    fetch: guarded as typeof fetch,
    dispose,
  };
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url.slice(0, 100);
  }
}
