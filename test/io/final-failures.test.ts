/**
 * Failures that no retry can fix (reliability.md B4, C3): a refused prefetch answers the next get()
 * instead of a second request, and a WidgetError raised by the injected fetch (the embed layer's
 * CSP guard) is final in both the token provider and the transport.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import { createTokenProvider } from '../../widget/io/token-provider';
import type { TokenProvider } from '../../widget/io/token-provider';
import { createHttpTransport } from '../../widget/io/transport';
import { createFetchStub, json, networkError, status } from './fetch-stub';
import type { Handler } from './fetch-stub';

const ok = (token = 'tok-1'): Handler => json({ token, expiresIn: 600 });
const refused = (code: number): Handler => json({ error: { code: 'origin_not_allowed', message: 'no' } }, code);
const blocked = (): Handler => () => Promise.reject(new WidgetError('config', 'Blocked by CSP.', { cause: { csp: 'connect-src' } }));

function setup(handlers: Handler[]) {
  const stub = createFetchStub(...handlers);
  const provider = createTokenProvider({ agentId: 'a', endpoint: 'https://site.test/token', fetch: stub.fetch, random: () => 0.5, now: () => 0 });
  return { stub, provider };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a refused prefetch (reliability C3)', () => {
  it.each([401, 403])('%i: the next get() gets that failure without a second request; the one after asks again', async (code) => {
    const { stub, provider } = setup([refused(code), ok()]);
    provider.prefetch();
    await vi.advanceTimersByTimeAsync(0);
    expect(stub.calls).toHaveLength(1);
    await expect(provider.get()).rejects.toMatchObject({ code: 'auth', status: code });
    expect(stub.calls).toHaveLength(1);
    // The manual Retry: exactly one more request.
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    expect(stub.calls).toHaveLength(2);
  });

  it('a malformed answer (C5) is replayed the same way', async () => {
    const { stub, provider } = setup([json({}), ok()]);
    provider.prefetch();
    await vi.advanceTimersByTimeAsync(0);
    await expect(provider.get()).rejects.toMatchObject({ code: 'token' });
    expect(stub.calls).toHaveLength(1);
  });

  it('a failure a get() already shared is not replayed', async () => {
    const { stub, provider } = setup([refused(401), ok()]);
    provider.prefetch();
    const first = provider.get();
    await expect(first).rejects.toMatchObject({ code: 'auth' });
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    expect(stub.calls).toHaveLength(2);
  });

  it('a transient failure (network, 5xx after 3 tries) is not replayed: the next get() asks again', async () => {
    const { stub, provider } = setup([networkError(), networkError(), networkError(), ok()]);
    provider.prefetch();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stub.calls).toHaveLength(3);
    await expect(provider.get()).resolves.toMatchObject({ token: 'tok-1' });
    expect(stub.calls).toHaveLength(4);
  });

  it('dispose() forgets a replayable failure', async () => {
    const { provider } = setup([refused(401)]);
    provider.prefetch();
    await vi.advanceTimersByTimeAsync(0);
    provider.dispose();
    await expect(provider.get()).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('a WidgetError from the injected fetch (the CSP guard, reliability B4)', () => {
  it('the token provider fails at once with it: no retry', async () => {
    const { stub, provider } = setup([blocked(), ok()]);
    const result = provider.get().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toMatchObject({ code: 'config', message: 'Blocked by CSP.' });
    expect(stub.calls).toHaveLength(1);
  });

  it('the transport fails at once with it: no retry, no re-POST', async () => {
    const stub = createFetchStub(blocked(), status(200));
    const tokens: TokenProvider = { get: async () => ({ token: 't', apiBase: undefined }), peek: () => undefined, invalidate() {}, prefetch() {}, dispose() {} };
    const transport = createHttpTransport({ agentId: 'a', format: 'json', tokens, fetch: stub.fetch, apiBase: 'https://api.test/v1', random: () => 0.5 });
    const result = transport.send({ messages: [{ role: 'user', content: 'q' }], signal: new AbortController().signal, onDelta() {} }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toMatchObject({ code: 'config', message: 'Blocked by CSP.' });
    expect(stub.calls).toHaveLength(1);
  });
});
