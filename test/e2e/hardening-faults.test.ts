/**
 * Hardening suite, sections C (token lifecycle) and D (streaming faults) of reliability.md, in real
 * Chromium against dist/codegpt-widget.iife.js and the local server: the programmable token
 * endpoint (`/dev/token?script=…`), the mock's fault scenarios (`mock-<name>` agents), `page.route`
 * for one-off responses, and synthetic streams built in the page for byte-level faults.
 *
 * Long waits (Retry-After, the 10 s token timeout, the 45 s idle timeout, a 55 s idle user) run on
 * Chromium's virtual clock (`page.clock`): the widget captures the page's timers and
 * `performance.now`, so fast-forwarding the page clock drives it exactly as time would.
 *
 * Every test also checks E13: nothing reaches the host page (no uncaught error, no unhandled
 * rejection), and the user is left with a readable state.
 *
 * Covered elsewhere: C11 (broker origin checks) in test/server, and D6's ≥ 300-run property test in
 * test/core/stream-decoder.test.ts; here D5/D6 re-chunk a hostile body at byte level in the browser.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { en } from '../../widget/core/strings';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage, type PageWatch } from './helpers/browser';
import { assistantMessages, installHarness, recordParts, seenParts, syntheticRequests } from './helpers/harness';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

interface Env {
  page: Page;
  context: BrowserContext;
  watch: PageWatch;
  /** `token` / `completion` for every POST the page made, in order. */
  posts: string[];
}

/** E13: nothing reached the host page. */
function expectContained(watch: PageWatch): void {
  expect(watch.errors).toEqual([]);
  expect(watch.console.filter((m) => m.text.includes('UNHANDLED REJECTION'))).toEqual([]);
}

const errorNotice = (page: Page) => page.locator('[part="error"]');

describeBrowser('hardening C/D: token lifecycle and streaming faults in Chromium', () => {
  let server: Server;
  let browser: Browser;
  let keys = 0;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDemoServer({ port: 0 }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh token-endpoint key, so each test has its own script position and call count. */
  const newKey = () => `fault-${++keys}`;

  /**
   * A page with the widget from a script tag, panel open. `clock` installs Chromium's virtual
   * clock before the page loads.
   */
  async function openWidget(attrs: Record<string, string>, options: { clock?: boolean; open?: boolean } = {}): Promise<Env> {
    const env = await newPage(browser);
    await installHarness(env.page);
    if (options.clock) await env.page.clock.install();
    const posts: string[] = [];
    env.page.on('request', (r) => {
      if (r.method() !== 'POST') return;
      if (r.url().includes('/chat/completions')) posts.push('completion');
      else if (r.url().includes('/dev/token')) posts.push('token');
    });
    await loadWidget(env.page, server.url, { persist: 'none', ...attrs });
    if (options.open !== false) await env.page.locator('[part="launcher"]').click();
    return { ...env, posts };
  }

  async function ask(page: Page, text: string): Promise<void> {
    await page.locator('[part="input"]').fill(text);
    await page.keyboard.press('Enter');
  }

  /** Polls the server-side token call count. */
  const tokenCalls = (key: string) => expect.poll(() => server.devToken.calls(key), { timeout: 5_000 });

  // ---------------------------------------------------------------------------------------------
  // C. Token lifecycle

  it('C1: 10 instances, 3 messages sent within 100 ms: exactly one token request for the (endpoint, agent)', async () => {
    const key = newKey();
    const { page, context, watch, posts } = await openWidget({}, { open: false });
    const answers = await page.evaluate(async (endpoint) => {
      type Widget = { send(t: string): Promise<void>; messages: { content: string }[] };
      const g = (window as unknown as { CodeGPTWidget: { mount(o: unknown): Widget } }).CodeGPTWidget;
      const widgets: Widget[] = [];
      for (let i = 0; i < 10; i++) {
        const box = document.body.appendChild(document.createElement('div'));
        widgets.push(g.mount({ agentId: 'mock-c1', tokenEndpoint: endpoint, mode: 'inline', target: box, persist: 'none' }));
      }
      await Promise.all([widgets[0]!.send('one'), widgets[4]!.send('two'), widgets[9]!.send('three')]);
      return [0, 4, 9].map((i) => widgets[i]!.messages.map((m) => m.content));
    }, `/dev/token?key=${key}`);
    expect(answers).toEqual([
      ['one', 'You said: one'],
      ['two', 'You said: two'],
      ['three', 'You said: three'],
    ]);
    expect(server.devToken.calls(key)).toBe(1);
    expect(posts.filter((p) => p === 'token')).toHaveLength(1);
    expect(posts.filter((p) => p === 'completion')).toHaveLength(3);
    expectContained(watch);
    await context.close();
  });

  it('C2: token 500, 500, then 200: retried with backoff, the user sees "connecting", never an error', async () => {
    const key = newKey();
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-c2', 'token-endpoint': `/dev/token?key=${key}&script=500,500,200` });
    await recordParts(page);
    await ask(page, 'Hello after a bumpy start');
    await page.locator(`[aria-label="${en.connecting}"]`).waitFor();
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Hello after a bumpy start' });
    expect(server.devToken.calls(key)).toBe(3);
    const seen = await seenParts(page);
    expect(seen).toContain(`label:${en.connecting}`);
    expect(seen).not.toContain('part:error');
    expect(seen).not.toContain('state:error');
    expectContained(watch);
    await context.close();
  });

  it.each([401, 403])('C3: token %i: one request, "unavailable on this page", no loop; a manual Retry makes exactly one more', async (code) => {
    const key = newKey();
    const { page, context, watch, posts } = await openWidget({ 'agent-id': 'mock-c3', 'token-endpoint': `/dev/token?key=${key}&script=${code}` });
    await ask(page, 'Can I chat?');
    await errorNotice(page).waitFor();
    expect(await errorNotice(page).textContent()).toContain(en.errors.auth);
    expect(await page.locator('[part~="user"]').textContent()).toContain('Can I chat?');
    await page.locator('[part="launcher"]').hover(); // warming up again must not re-ask a refusing endpoint
    await page.waitForTimeout(1_500);
    expect(server.devToken.calls(key)).toBe(1);
    expect(posts).toEqual(['token']);
    await page.locator('[part="retry"]').click();
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Can I chat?' });
    expect(server.devToken.calls(key)).toBe(2);
    expect(await errorNotice(page).count()).toBe(0);
    expectContained(watch);
    await context.close();
  });

  it('C4: 429 with Retry-After: 7 waits 7 s (virtual clock), showing "connecting", then succeeds', async () => {
    const key = newKey();
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-c4', 'token-endpoint': `/dev/token?key=${key}&script=429,200&retryAfter=7` }, { clock: true });
    await ask(page, 'Busy?');
    await tokenCalls(key).toBe(1);
    await page.clock.fastForward(6_000);
    await page.waitForTimeout(300);
    expect(server.devToken.calls(key)).toBe(1);
    expect(await page.locator(`[aria-label="${en.connecting}"]`).count()).toBe(1);
    expect(await errorNotice(page).count()).toBe(0);
    await page.clock.fastForward(1_100);
    await tokenCalls(key).toBe(2);
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Busy?' });
    expectContained(watch);
    await context.close();
  });

  it('C4: 429 with an HTTP-date Retry-After waits until that date', async () => {
    const key = newKey();
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-c4', 'token-endpoint': `/dev/token?key=${key}&script=429date,200&retryAfter=7` }, { clock: true });
    await ask(page, 'Busy until?');
    await tokenCalls(key).toBe(1);
    // The date has 1 s resolution: the wait is between 6 and 7 s.
    await page.clock.fastForward(5_500);
    await page.waitForTimeout(300);
    expect(server.devToken.calls(key)).toBe(1);
    await page.clock.fastForward(2_000);
    await tokenCalls(key).toBe(2);
    expect((await lastAnswer(page)).state).toBe('done');
    expectContained(watch);
    await context.close();
  });

  it('C4: Retry-After: 3600 is not honoured (over the 60 s cap): normal backoff, then "busy" with the capped wait', async () => {
    const key = newKey();
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-c4', 'token-endpoint': `/dev/token?key=${key}&script=429,429,429&retryAfter=3600` });
    await ask(page, 'Very busy?');
    await errorNotice(page).waitFor({ timeout: 10_000 });
    // Three tries about 0.5 s and 1 s apart, not an hour.
    expect(server.devToken.calls(key)).toBe(3);
    expect(await errorNotice(page).textContent()).toContain(`${en.errors.rate_limited} (60 s)`);
    expect(await page.locator('[part="retry"]').count()).toBe(1);
    expectContained(watch);
    await context.close();
  });

  it('C5: malformed token answers (html, bad JSON, {}, expiresIn -5 / "abc" / 1e12, 1 MB body) give a token error; the token is never used and the body never shown', async () => {
    const { page, context, watch, posts } = await openWidget({}, { open: false });
    const outcomes = ['html', 'badjson', 'empty', 'neg', 'str', 'huge', 'big'];
    const results: Record<string, unknown> = {};
    for (const outcome of outcomes) {
      const key = newKey();
      const shown = await page.evaluate(async (endpoint) => {
        const g = (window as unknown as { CodeGPTWidget: { mount(o: unknown): { send(t: string): Promise<void>; destroy(): void; element: HTMLElement } } }).CodeGPTWidget;
        const w = g.mount({ agentId: 'mock-c5', tokenEndpoint: endpoint, persist: 'none', open: true });
        await w.send('Token please');
        await new Promise((r) => setTimeout(r, 0));
        const root = w.element.shadowRoot!;
        const result = {
          error: root.querySelector('[part="error"]')?.textContent ?? null,
          retry: root.querySelectorAll('[part="retry"]').length,
          question: root.querySelector('[part~="user"]')?.textContent ?? null,
          html: root.innerHTML,
        };
        w.destroy();
        return result;
      }, `/dev/token?key=${key}&script=${outcome},200`);
      expect(server.devToken.calls(key), outcome).toBe(1);
      expect(shown.html, outcome).not.toMatch(/Sign in|sk-dev-|padding|xxxxxxxx/);
      results[outcome] = { error: shown.error, retry: shown.retry, question: shown.question };
    }
    const expected = { error: en.errors.token + en.retry, retry: 1, question: expect.stringContaining('Token please') };
    expect(results).toEqual(Object.fromEntries(outcomes.map((o) => [o, expected])));
    expect(posts.filter((p) => p === 'completion')).toEqual([]);
    expectContained(watch);
    await context.close();
  });

  it('C6: a hanging token endpoint is aborted after 10 s and retried with backoff, then an error; the launcher stays responsive', async () => {
    const key = newKey();
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-c6', 'token-endpoint': `/dev/token?key=${key}&script=hang,hang,hang` }, { clock: true });
    await ask(page, 'Hello?');
    await tokenCalls(key).toBe(1);
    // The launcher answers while the token request hangs.
    const launcher = page.locator('[part="launcher"]');
    await launcher.click();
    expect(await launcher.getAttribute('aria-expanded')).toBe('false');
    await launcher.click();
    expect(await launcher.getAttribute('aria-expanded')).toBe('true');
    for (const calls of [2, 3]) {
      await page.clock.fastForward(10_001); // the timeout aborts the hanging request
      await page.waitForTimeout(100);
      await page.clock.fastForward(1_300); // the backoff
      await tokenCalls(key).toBe(calls);
    }
    expect(await errorNotice(page).count()).toBe(0);
    await page.clock.fastForward(10_001);
    await errorNotice(page).waitFor();
    expect(await errorNotice(page).textContent()).toContain(en.errors.network);
    await page.waitForTimeout(300);
    expect(server.devToken.calls(key)).toBe(3);
    expectContained(watch);
    await context.close();
  });

  it('C7: token TTL 60 s, the user idles 55 s: a proactive refresh happens before the completion request, no 401', async () => {
    const key = newKey();
    const { page, context, watch, posts } = await openWidget({ 'agent-id': 'mock-c7', 'token-endpoint': `/dev/token?key=${key}&ttl=60` }, { clock: true });
    await ask(page, 'First');
    expect((await lastAnswer(page)).text).toBe('You said: First');
    expect(posts).toEqual(['token', 'completion']);
    await page.clock.fastForward(55_000);
    await ask(page, 'Second');
    expect((await lastAnswer(page)).text).toBe('You said: Second');
    expect(posts).toEqual(['token', 'completion', 'token', 'completion']);
    expect(await errorNotice(page).count()).toBe(0);
    expectContained(watch);
    await context.close();
  });

  it('C8: a completion 401 before any byte: one refresh, one retry, and the answer arrives', async () => {
    const key = newKey();
    const { page, context, watch, posts } = await openWidget({ 'agent-id': 'mock-c8', 'token-endpoint': `/dev/token?key=${key}` });
    let first = true;
    await page.route('**/chat/completions', (route) => {
      if (first) {
        first = false;
        return route.fulfill({ status: 401, contentType: 'application/json', body: '{"detail":"token_expired"}' });
      }
      return route.continue();
    });
    await recordParts(page);
    await ask(page, 'Expired?');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Expired?' });
    expect(posts).toEqual(['token', 'completion', 'token', 'completion']);
    expect(await seenParts(page)).not.toContain('part:error');
    expectContained(watch);
    await context.close();
  });

  it('C8: a second 401 gives a readable error and no loop', async () => {
    const key = newKey();
    const { page, context, watch, posts } = await openWidget({ 'agent-id': 'mock-http-401', 'token-endpoint': `/dev/token?key=${key}` });
    await ask(page, 'Still expired?');
    await errorNotice(page).waitFor();
    expect(await errorNotice(page).textContent()).toContain(en.errors.auth);
    await page.waitForTimeout(1_000);
    expect(posts).toEqual(['token', 'completion', 'token', 'completion']);
    expectContained(watch);
    await context.close();
  });

  it('C10: after a conversation no token is in storage, cookies, IndexedDB, the global, the DOM, events or the console', async () => {
    const key = newKey();
    const env = await newPage(browser);
    const tokens: string[] = [];
    env.page.on('response', async (r) => {
      if (r.url().includes('/dev/token') && r.request().method() === 'POST' && r.ok()) tokens.push(((await r.json()) as { token: string }).token);
    });
    await env.page.addInitScript(() => {
      for (const name of ['ready', 'open', 'close', 'send', 'answer', 'error']) {
        document.addEventListener(`codegpt:${name}`, (e) => ((window as unknown as { __events: unknown[] }).__events ??= []).push((e as CustomEvent).detail));
      }
    });
    await loadWidget(env.page, server.url, { 'agent-id': 'mock-c10', 'token-endpoint': `/dev/token?key=${key}`, persist: 'local' });
    await env.page.locator('[part="launcher"]').click();
    for (const q of ['First question', 'Second question']) {
      await ask(env.page, q);
      expect((await lastAnswer(env.page)).state).toBe('done');
    }
    expect(tokens).toHaveLength(1);
    const token = tokens[0]!;
    expect(token).toMatch(/^sk-dev-/);
    const everything = await env.page.evaluate(async () => {
      const g = window as unknown as { CodeGPTWidget: Record<string, unknown>; __events: unknown[] };
      const host = document.querySelector('codegpt-chat')!;
      const databases = indexedDB.databases ? await indexedDB.databases() : [];
      return [
        JSON.stringify({ ...localStorage }),
        JSON.stringify({ ...sessionStorage }),
        document.cookie,
        JSON.stringify(databases),
        JSON.stringify(Object.entries(g.CodeGPTWidget).map(([k, v]) => [k, typeof v === 'function' ? 'fn' : v])),
        JSON.stringify(g.__events),
        document.documentElement.outerHTML,
        host.shadowRoot!.innerHTML,
        Array.from(host.attributes).map((a) => `${a.name}=${a.value}`).join(' '),
      ].join('\n');
    });
    expect(everything).toContain('Second question'); // the scan saw the conversation…
    expect(everything).not.toContain(token); // …and no token
    expect(everything).not.toMatch(/sk-dev-/);
    expect(env.watch.console.map((m) => m.text).join('\n')).not.toContain(token);
    expectContained(env.watch);
    await env.context.close();
  });

  // ---------------------------------------------------------------------------------------------
  // D. Streaming faults

  it('D1: the server closes the socket halfway: partial text kept, "interrupted" with Retry, no automatic re-POST, the draft kept', async () => {
    const { page, context, watch, posts } = await openWidget({ 'agent-id': 'mock-abort', 'token-endpoint': `/dev/token?key=${newKey()}` });
    await ask(page, 'Tell me something long');
    await page.locator('[part="input"]').fill('my next question, half typed');
    const answer = await lastAnswer(page);
    expect(answer.state).toBe('error');
    expect(answer.text.length).toBeGreaterThan(0);
    expect('You said: Tell me something long'.startsWith(answer.text)).toBe(true);
    expect(await errorNotice(page).textContent()).toContain(en.errors.interrupted);
    expect(await page.locator('[part="retry"]').count()).toBe(1);
    await page.waitForTimeout(800);
    expect(posts.filter((p) => p === 'completion')).toHaveLength(1);
    expect(await page.locator('[part="input"]').inputValue()).toBe('my next question, half typed');
    expectContained(watch);
    await context.close();
  });

  it('D1: a mid-stream error event keeps the partial answer and never re-POSTs', async () => {
    const { page, context, watch, posts } = await openWidget({ 'agent-id': 'mock-midstream-error', 'token-endpoint': `/dev/token?key=${newKey()}` });
    await ask(page, 'Break in the middle');
    const answer = await lastAnswer(page);
    expect(answer.state).toBe('error');
    expect(answer.text.length).toBeGreaterThan(0);
    await errorNotice(page).waitFor();
    await page.waitForTimeout(800);
    expect(posts.filter((p) => p === 'completion')).toHaveLength(1);
    expectContained(watch);
    await context.close();
  });

  it('D2: headers then silence (mock "hang"): the 45 s idle timeout aborts, "interrupted", and the server sees the disconnect', async () => {
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-hang', 'token-endpoint': `/dev/token?key=${newKey()}` }, { clock: true });
    const before = { ...server.mock.stats };
    await ask(page, 'Anyone?');
    await expect.poll(() => server.mock.stats.requests).toBe(before.requests + 1);
    await page.waitForTimeout(300); // the headers reach the page: the read (and its idle timer) starts
    await page.clock.fastForward(44_000);
    await page.waitForTimeout(200);
    expect(await errorNotice(page).count()).toBe(0);
    await page.clock.fastForward(1_100);
    await errorNotice(page).waitFor();
    expect(await errorNotice(page).textContent()).toContain(en.errors.interrupted);
    await expect.poll(() => server.mock.stats.aborted).toBe(before.aborted + 1);
    expect(await page.locator('[part="retry"]').count()).toBe(1);
    expectContained(watch);
    await context.close();
  });

  /** A widget on the synthetic API (mount({ fetch })), optionally on the virtual clock. */
  async function syntheticWidget(clock = false): Promise<Env> {
    const env = await openWidget({}, { clock, open: false });
    await env.page.evaluate(() => {
      const g = window as unknown as { CodeGPTWidget: { mount(o: unknown): unknown }; __hx: { fetch: unknown; getToken: unknown }; __widget: unknown };
      g.__widget = g.CodeGPTWidget.mount({ agentId: 'synthetic', getToken: g.__hx.getToken, fetch: g.__hx.fetch, persist: 'none', open: true });
    });
    await env.page.locator('[part="panel"]').waitFor();
    return env;
  }

  /** Queues one synthetic answer (chunks as in harness `sse()`) and asks through the UI. */
  async function askSynthetic(page: Page, question: string, chunks: string[], options: Record<string, unknown> = {}): Promise<void> {
    await page.evaluate(
      ({ chunks: c, options: o }) => {
        const hx = (window as unknown as { __hx: { queue: (() => Response)[]; sse(c: string[], o: unknown): Response } }).__hx;
        hx.queue.push(() => hx.sse(c, o));
      },
      { chunks, options },
    );
    await ask(page, question);
  }

  it('D2: a partial answer then silence: the idle timeout keeps the partial text and says "interrupted"', async () => {
    const { page, context, watch } = await syntheticWidget(true);
    await askSynthetic(page, 'Stall please', ['The first half ', 'arrived'], { end: 'stall' });
    await page.locator('[part="content"]', { hasText: 'The first half arrived' }).waitFor();
    await page.clock.fastForward(45_001);
    expect(await lastAnswer(page)).toEqual({ state: 'error', text: 'The first half arrived' });
    expect(await errorNotice(page).textContent()).toContain(en.errors.interrupted);
    // The read was cancelled (over a real connection that closes it; D2 above shows the server seeing it).
    expect(await page.evaluate(() => (window as unknown as { __hx: { pulls: { cancelled: number } } }).__hx.pulls.cancelled)).toBe(1);
    expectContained(watch);
    await context.close();
  });

  it('D3: 60 s without data but a ": ping" every 15 s: no timeout, the stream completes', async () => {
    const { page, context, watch } = await syntheticWidget(true);
    const frame = (t: string) => `data: ${JSON.stringify({ choices: [{ delta: { content: t } }] })}\n\n`;
    const chunks = [frame('Before the pause, '), ': ping\n\n', ': ping\n\n', ': ping\n\n', ': ping\n\n', frame('after the pause.'), 'data: [DONE]\n\n'];
    await askSynthetic(page, 'Slow thinker', chunks, { raw: true, end: 'eof', gapMs: 15_000 });
    await page.clock.runFor(100_000);
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'Before the pause, after the pause.' });
    expect(await errorNotice(page).count()).toBe(0);
    expectContained(watch);
    await context.close();
  });

  it('D4: Stop mid-stream aborts the request (the server sees the disconnect), keeps the partial text, "stopped", no error', async () => {
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-slow', 'token-endpoint': `/dev/token?key=${newKey()}` });
    const before = server.mock.stats.aborted;
    await ask(page, 'one two three four five six seven eight nine ten eleven twelve');
    await page.locator('[data-state="streaming"] [part="content"]').waitFor();
    await page.locator('[part="stop"]').click();
    const answer = await lastAnswer(page);
    expect(answer.state).toBe('stopped');
    expect(answer.text.length).toBeGreaterThan(0);
    await expect.poll(() => server.mock.stats.aborted).toBe(before + 1);
    await page.waitForTimeout(700);
    expect((await lastAnswer(page)).text).toBe(answer.text);
    expect(await page.locator('[part~="assistant"] .note').textContent()).toBe(en.stopped);
    expect(await errorNotice(page).count()).toBe(0);
    expectContained(watch);
    await context.close();
  });

  it('D5/D6: unknown fields, retry: abc, broken JSON, CR/CRLF/LF endings, a BOM and split multi-byte characters: the valid events render the same for every chunking', async () => {
    const { page, context, watch } = await syntheticWidget();
    const frame = (t: string) => `data: ${JSON.stringify({ choices: [{ delta: { content: t } }] })}`;
    const body =
      '\uFEFFretry: abc\nfoo: bar\n: a comment\n\n' +
      frame('Hello ') + '\n\n' +
      'data: {"choices":[{"delta":{"content":"broken\n\n' +
      frame('café ☕ ') + '\r\n\r\n' +
      frame('🚀 and ') + '\r\r' +
      'id: 7\n' + frame('naïve ') + '\n\n' +
      'event: unknown-kind\n' + frame('end.') + '\n\n' +
      'data: [DONE]\n\n';
    const expected = 'Hello café ☕ 🚀 and naïve end.';
    const texts: string[] = [];
    for (const cutEvery of [1, 2, 3, 5, 7, 13, 64, 100_000]) {
      await askSynthetic(page, `chunks of ${cutEvery}`, [body], { raw: true, end: 'eof', cutEvery });
      const answer = await lastAnswer(page);
      expect(answer.state, `chunks of ${cutEvery}`).toBe('done');
      texts.push(answer.text);
    }
    expect(new Set(texts)).toEqual(new Set([expected]));
    expectContained(watch);
    await context.close();
  });

  it('D7: a data: line growing past 1 MiB with no blank line: the stream is aborted early, "interrupted"', async () => {
    const { page, context, watch } = await syntheticWidget();
    const chunks = ['data: ', ...Array.from({ length: 40 }, () => 'x'.repeat(64 * 1024))];
    await askSynthetic(page, 'Flood', chunks, { raw: true, end: 'stall' });
    await errorNotice(page).waitFor();
    expect(await errorNotice(page).textContent()).toContain(en.errors.interrupted);
    const pulled = await page.evaluate(() => (window as unknown as { __hx: { pulls: { count: number } } }).__hx.pulls.count);
    expect(pulled).toBeLessThan(30); // stopped reading soon after 1 MiB, not at the end of 2.5 MB
    expect((await syntheticRequests(page))[0]!.aborted).toBe(false); // cancelled by the reader, not by Stop
    expectContained(watch);
    await context.close();
  });

  it('D8: a 200 JSON error body and a 200 HTML login page are not parsed as a stream; readable errors, the page never shown', async () => {
    for (const [agent, code] of [
      ['mock-json-200-error', 'server'],
      ['mock-html-200', 'bad_response'],
    ] as const) {
      const { page, context, watch } = await openWidget({ 'agent-id': agent, 'token-endpoint': `/dev/token?key=${newKey()}` });
      await ask(page, 'Login wall?');
      await errorNotice(page).waitFor();
      expect(await errorNotice(page).textContent(), agent).toContain(en.errors[code]);
      const html = await page.evaluate(() => document.querySelector('codegpt-chat')!.shadowRoot!.innerHTML);
      expect(html).not.toMatch(/Sign in|<form|<input name/);
      expectContained(watch);
      await context.close();
    }
  });

  it('D9: proxy buffering (the whole SSE body in one chunk at the end): the final message is identical', async () => {
    const question = 'Buffered:\n\n# Title\n\n- café ☕\n- 🚀 [link](https://example.com)\n\n```js\nconst x = 1;\n```';
    const rendered: string[] = [];
    for (const agent of ['mock-default', 'mock-buffered']) {
      const { page, context, watch } = await openWidget({ 'agent-id': agent, 'token-endpoint': `/dev/token?key=${newKey()}` });
      await ask(page, question);
      expect((await lastAnswer(page)).state).toBe('done');
      rendered.push(await page.locator('[part~="assistant"] [part="content"]').innerHTML());
      expectContained(watch);
      await context.close();
    }
    expect(rendered[0]).toContain('<h1>');
    expect(rendered[1]).toBe(rendered[0]);
  });

  it.each([
    ['429', 'mock-http-429'],
    ['503', 'mock-http-503'],
  ])('D10: completion %s with Retry-After: 2 is honoured, at most 2 retries, then "busy"', async (_code, agent) => {
    const { page, context, watch, posts } = await openWidget({ 'agent-id': agent, 'token-endpoint': `/dev/token?key=${newKey()}` }, { clock: true });
    await ask(page, 'Busy?');
    const completions = () => expect.poll(() => posts.filter((p) => p === 'completion').length, { timeout: 5_000 });
    await completions().toBe(1);
    await page.clock.fastForward(1_500);
    await page.waitForTimeout(200);
    expect(posts.filter((p) => p === 'completion')).toHaveLength(1); // waits the full 2 s
    await page.clock.fastForward(600);
    await completions().toBe(2);
    await page.waitForTimeout(100);
    await page.clock.fastForward(2_100);
    await completions().toBe(3);
    await errorNotice(page).waitFor();
    expect(await errorNotice(page).textContent()).toContain(`${en.errors.rate_limited} (2 s)`);
    await page.clock.fastForward(30_000);
    await page.waitForTimeout(200);
    expect(posts.filter((p) => p === 'completion')).toHaveLength(3);
    expectContained(watch);
    await context.close();
  });

  it('D11: visibilitychange to hidden and back mid-stream: no second request, the stream completes', async () => {
    const { page, context, watch, posts } = await openWidget({ 'agent-id': 'mock-slow', 'token-endpoint': `/dev/token?key=${newKey()}` });
    const question = 'alpha beta gamma delta epsilon zeta eta theta';
    await ask(page, question);
    await page.locator('[data-state="streaming"] [part="content"]').waitFor();
    const setVisibility = (state: string) =>
      page.evaluate((s) => {
        Object.defineProperty(document, 'visibilityState', { value: s, configurable: true });
        Object.defineProperty(document, 'hidden', { value: s === 'hidden', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    await page.waitForTimeout(700);
    await setVisibility('visible');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: `You said: ${question}` });
    expect(posts.filter((p) => p === 'completion')).toHaveLength(1);
    expectContained(watch);
    await context.close();
  });

  it.each([
    ['TypeError: Load failed (iOS background kill)', { errorMessage: 'Load failed' }],
    ['an AbortError the user did not cause', { abortError: true, errorMessage: 'The operation was aborted.' }],
  ])('D12: the read rejects with %s: "interrupted", partial kept, Retry offered', async (_name, options) => {
    const { page, context, watch } = await syntheticWidget();
    await askSynthetic(page, 'Background me', ['Partial ', 'answer'], { end: 'error', ...options });
    expect(await lastAnswer(page)).toEqual({ state: 'error', text: 'Partial answer' });
    expect(await errorNotice(page).textContent()).toContain(en.errors.interrupted);
    expect(await page.locator('[part="retry"]').count()).toBe(1);
    // Retry works and replaces the broken answer.
    await page.locator('[part="retry"]').click();
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'ok' });
    expect(await assistantMessages(page)).toHaveLength(1);
    expectContained(watch);
    await context.close();
  });

  it('D13: offline shows a hint but sending stays enabled; the real error drives the state; back online, Retry works', async () => {
    const { page, context, watch } = await openWidget({ 'agent-id': 'mock-d13', 'token-endpoint': `/dev/token?key=${newKey()}` });
    await ask(page, 'Online question');
    expect((await lastAnswer(page)).state).toBe('done');
    await context.setOffline(true);
    await page.locator('[role="status"]', { hasText: en.offline }).waitFor();
    await page.locator('[part="input"]').fill('Offline question');
    expect(await page.locator('[part="send"]').isEnabled()).toBe(true);
    await page.keyboard.press('Enter');
    await errorNotice(page).waitFor();
    expect(await errorNotice(page).textContent()).toContain(en.errors.network);
    expect(await page.locator('[part~="user"]').last().textContent()).toContain('Offline question');
    await context.setOffline(false);
    await expect.poll(() => page.locator('[role="status"]', { hasText: en.offline }).count()).toBe(0);
    await page.locator('[part="retry"]').click();
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Offline question' });
    expectContained(watch);
    await context.close();
  });
});
