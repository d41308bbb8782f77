import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage } from './helpers/browser';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

describeBrowser('widget end to end in Chromium (dist/codegpt-widget.iife.js)', () => {
  let server: Server;
  let browser: Browser;

  beforeAll(async () => {
    server = await startDemoServer({ port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function ask(attrs: Record<string, string>, question: string) {
    const env = await newPage(browser);
    await loadWidget(env.page, server.url, { 'token-endpoint': '/dev/token', ...attrs });
    await env.page.locator('[part="launcher"]').click();
    await env.page.locator('[part="input"]').fill(question);
    await env.page.keyboard.press('Enter');
    return env;
  }

  it('sets exactly one global with mount, defineElement and version, and mounts a launcher', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.goto(server.url + '/fixtures/blank.html');
    const before = await page.evaluate(() => Object.getOwnPropertyNames(window));
    await loadWidget(page, server.url, { 'agent-id': 'docs-agent', 'token-endpoint': '/dev/token?key=lazy-check' });
    const after = await page.evaluate(() => Object.getOwnPropertyNames(window));
    expect(after.filter((n) => !before.includes(n))).toEqual(['CodeGPTWidget']);
    const api = await page.evaluate(() => {
      const g = (window as unknown as { CodeGPTWidget: Record<string, unknown> }).CodeGPTWidget;
      return { mount: typeof g.mount, defineElement: typeof g.defineElement, version: g.version };
    });
    expect(api).toEqual({ mount: 'function', defineElement: 'function', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    await expect.poll(() => page.locator('[part="launcher"]').count()).toBe(1);
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('false');
    // Rule 1 of embed.md section 5: no token request at page load, one on the first hover.
    const calls = async () => ((await (await fetch(server.url + '/dev/token/stats?key=lazy-check')).json()) as { calls: number }).calls;
    await page.waitForTimeout(300);
    expect(await calls()).toBe(0);
    await page.locator('[part="launcher"]').hover();
    await expect.poll(calls).toBe(1);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('a missing data-agent-id logs one clear console.error and mounts nothing', async () => {
    const { page, context, watch } = await newPage(browser);
    await loadWidget(page, server.url, { 'token-endpoint': '/dev/token' });
    await page.waitForTimeout(100);
    expect(await page.locator('codegpt-chat').count()).toBe(0);
    const errors = watch.console.filter((m) => m.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.text).toContain('data-agent-id');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('opens, asks, and streams a markdown answer to done', async () => {
    const { page, context, watch } = await ask({ 'agent-id': 'mock-slow' }, 'Hello there');
    // While pieces arrive slowly the message is observed streaming, then done.
    await page.locator('[data-state="streaming"]').waitFor();
    expect(await page.locator('[data-state="streaming"]').getAttribute('aria-busy')).toBe('true');
    const answer = await lastAnswer(page);
    expect(answer).toEqual({ state: 'done', text: 'You said: Hello there' });
    expect(await page.locator('[part~="user"]').count()).toBe(1);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('Stop keeps the partial answer, marks it stopped, and nothing is appended afterwards', async () => {
    const { page, context, watch } = await ask({ 'agent-id': 'mock-slow' }, 'one two three four five six seven eight nine ten eleven twelve');
    await page.waitForFunction(() => {
      const c = document.querySelector('codegpt-chat')?.shadowRoot?.querySelector('[data-state="streaming"] [part="content"]');
      return !!c && (c.textContent ?? '').length > 0;
    });
    await page.locator('[part="stop"]').click();
    const answer = await lastAnswer(page);
    expect(answer.state).toBe('stopped');
    expect(answer.text.length).toBeGreaterThan(0);
    expect('You said: one two three four five six seven eight nine ten eleven twelve'.startsWith(answer.text)).toBe(true);
    await page.waitForTimeout(800);
    expect((await lastAnswer(page)).text).toBe(answer.text);
    expect(await page.locator('[part="error"]').count()).toBe(0);
    expect(await page.locator('[part="send"]').count()).toBe(1);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('a mid-stream disconnect keeps the partial text, shows an error with Retry, and never re-POSTs by itself', async () => {
    const posts: string[] = [];
    const { page, context, watch } = await newPage(browser);
    page.on('request', (r) => r.url().includes('/chat/completions') && posts.push(r.method()));
    await loadWidget(page, server.url, { 'agent-id': 'mock-abort', 'token-endpoint': '/dev/token' });
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill('Tell me something long');
    await page.keyboard.press('Enter');
    const answer = await lastAnswer(page);
    expect(answer.state).toBe('error');
    expect(answer.text.length).toBeGreaterThan(0);
    await page.locator('[part="error"]').waitFor();
    expect(await page.locator('[part="retry"]').count()).toBe(1);
    await page.waitForTimeout(500);
    expect(posts.filter((m) => m === 'POST')).toHaveLength(1);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('Retry after a failure re-asks without duplicating the question', async () => {
    const { page, context, watch } = await newPage(browser);
    let fail = true;
    await page.route('**/chat/completions', (route) =>
      fail
        ? route.fulfill({ status: 500, contentType: 'application/json', body: '{"detail":"Internal server error"}' })
        : route.continue(),
    );
    await loadWidget(page, server.url, { 'agent-id': 'docs-agent', 'token-endpoint': '/dev/token' });
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill('What is this?');
    await page.keyboard.press('Enter');
    await page.locator('[part="error"]').waitFor();
    expect(await page.locator('[part="error"]').textContent()).not.toContain('Internal server error');
    fail = false;
    await page.locator('[part="retry"]').click();
    const answer = await lastAnswer(page);
    expect(answer.state).toBe('done');
    expect(answer.text.length).toBeGreaterThan(0);
    expect(await page.locator('[part~="user"]').count()).toBe(1);
    expect(await page.locator('[part~="assistant"][data-state]').count()).toBe(1);
    expect(await page.locator('[part="error"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('the conversation survives a reload (sessionStorage), and the token is never stored', async () => {
    const { page, context } = await ask({ 'agent-id': 'mock-default' }, 'Remember me');
    expect((await lastAnswer(page)).text).toBe('You said: Remember me');
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie);
    expect(stored).toContain('Remember me');
    expect(stored).not.toMatch(/sk-dev-/);
    await page.reload();
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.src = '/dist/codegpt-widget.iife.js';
      s.setAttribute('data-agent-id', 'mock-default');
      s.setAttribute('data-token-endpoint', '/dev/token');
      s.setAttribute('data-open', 'true');
      document.head.appendChild(s);
    });
    await page.locator('[part~="user"]').waitFor();
    expect(await page.locator('[part~="user"]').textContent()).toContain('Remember me');
    expect((await lastAnswer(page)).text).toBe('You said: Remember me');
    await context.close();
  });

  const variations = ['crlf', 'nospace', 'no-done', 'split', 'coalesce', 'bare-json', 'contents-array', 'legacy-data', 'keepalive', 'buffered'];
  it.each(variations)('stream variation "%s" gives the identical final text', async (scenario) => {
    const question = 'Variation check: café ☕ and 🚀 emoji';
    const { page, context, watch } = await ask({ 'agent-id': `mock-${scenario}` }, question);
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: `You said: ${question}` });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('format "text" streams raw text to the identical final text', async () => {
    const question = 'Plain text please { data: not a frame }';
    const { page, context } = await ask({ 'agent-id': 'mock-default', format: 'text' }, question);
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: `You said: ${question}` });
    await context.close();
  });

  it('a mid-stream error object keeps the partial answer and shows a readable error', async () => {
    const { page, context, watch } = await ask({ 'agent-id': 'mock-midstream-error' }, 'Break please');
    const answer = await lastAnswer(page);
    expect(answer.state).toBe('error');
    expect(answer.text.length).toBeGreaterThan(0);
    await page.locator('[part="error"]').waitFor();
    expect(watch.errors).toEqual([]);
    await context.close();
  });
});
