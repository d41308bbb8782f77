// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import { CSP_BLOCKED_MESSAGE, createCspGuard, isCspBlock } from '../../widget/embed/csp-guard';

/** What Chromium fires at the document when connect-src refuses a fetch. */
function violation(blockedURI: string, init: { directive?: string; disposition?: string } = {}): Event {
  const event = new Event('securitypolicyviolation');
  Object.assign(event, { blockedURI, effectiveDirective: init.directive ?? 'connect-src', violatedDirective: init.directive ?? 'connect-src', disposition: init.disposition ?? 'enforce' });
  return event;
}

const failing = (onCall?: () => void) =>
  vi.fn(async () => {
    onCall?.();
    throw new TypeError('Failed to fetch');
  }) as unknown as typeof fetch;
const noWait = () => Promise.resolve();

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createCspGuard (reliability B4)', () => {
  it('a fetch the policy blocked becomes a config error naming CSP, logged once per origin', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    // The event arrives after the rejection, as in Chromium: during the grace wait.
    const guard = createCspGuard(document, failing(), async () => {
      document.dispatchEvent(violation('https://token.test/api/token'));
    });
    for (let i = 0; i < 2; i++) {
      const e = await guard.fetch('https://token.test/api/token', { method: 'POST' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WidgetError);
      expect(e).toMatchObject({ code: 'config', message: CSP_BLOCKED_MESSAGE });
      expect(isCspBlock(e)).toBe(true);
    }
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]![0])).toContain('https://token.test');
    guard.dispose();
  });

  it('an origin-only report (after a redirect) matches URLs on that origin only', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const guard = createCspGuard(document, failing(), noWait);
    document.dispatchEvent(violation('https://api2.test'));
    expect(isCspBlock(await guard.fetch('https://api2.test/v1/chat').catch((x: unknown) => x))).toBe(true);
    const other = await guard.fetch('https://api2.test.evil/v1').catch((x: unknown) => x);
    expect(other).toBeInstanceOf(TypeError);
    guard.dispose();
  });

  it('network failures, other directives, report-only policies and aborts pass through unchanged', async () => {
    const guard = createCspGuard(document, failing(), noWait);
    document.dispatchEvent(violation('https://img.test/x.png', { directive: 'img-src' }));
    document.dispatchEvent(violation('https://ro.test/x', { disposition: 'report' }));
    for (const url of ['https://down.test/x', 'https://img.test/x.png', 'https://ro.test/x']) {
      expect(await guard.fetch(url).catch((x: unknown) => x)).toBeInstanceOf(TypeError);
    }
    const controller = new AbortController();
    controller.abort();
    document.dispatchEvent(violation('https://aborted.test/x'));
    expect(await guard.fetch('https://aborted.test/x', { signal: controller.signal }).catch((x: unknown) => x)).toBeInstanceOf(TypeError);
    guard.dispose();
  });

  it('answers pass through; one document listener for all guards, removed with the last one', async () => {
    const add = vi.spyOn(document, 'addEventListener');
    const remove = vi.spyOn(document, 'removeEventListener');
    const response = new Response('ok');
    const a = createCspGuard(document, (async () => response) as unknown as typeof fetch, noWait);
    const b = createCspGuard(document, failing(), noWait);
    expect(await a.fetch('https://x.test')).toBe(response);
    expect(add.mock.calls.filter((c) => c[0] === 'securitypolicyviolation')).toHaveLength(1);
    a.dispose();
    a.dispose();
    expect(remove).not.toHaveBeenCalled();
    b.dispose();
    expect(remove.mock.calls.filter((c) => c[0] === 'securitypolicyviolation')).toHaveLength(1);
  });
});
