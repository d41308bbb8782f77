import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage } from './helpers/browser';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

/**
 * Issue 7: `data-debug` loads `codegpt-widget.debug.js` beside the bundle and logs what integrators
 * otherwise guess at, to the console only, never the token.
 */
describeBrowser('debug mode in Chromium (dist/codegpt-widget.iife.js + codegpt-widget.debug.js)', () => {
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

  it('logs config, root font size, token fetches and stream timings; never the token', async () => {
    const { page, context, watch } = await newPage(browser);
    const tokens: string[] = [];
    page.on('response', async (r) => {
      if (r.url().includes('/dev/token')) tokens.push(((await r.json()) as { token: string }).token);
    });
    await page.goto(server.url + '/fixtures/blank.html');
    await loadWidget(page, server.url, { 'agent-id': 'mock-debug', 'token-endpoint': '/dev/token?key=debug-e2e', debug: '', persist: 'none' }, '/fixtures/blank.html?keep');
    const logs = () => watch.console.filter((m) => m.text.startsWith('[codegpt-widget]')).map((m) => m.text);
    await expect.poll(() => logs().some((l) => l.includes('config'))).toBe(true);
    await page.evaluate(() => (document.querySelector('codegpt-chat') as unknown as { open(): void }).open());
    await page.locator('[part="input"]').fill('Hello debug');
    await page.keyboard.press('Enter');
    expect((await lastAnswer(page)).text).toBe('You said: Hello debug');
    await expect.poll(() => logs().some((l) => /answer done \d+ chars/.test(l))).toBe(true);
    const all = logs();
    expect(all.some((l) => /token request #1 200 expiresIn \d+/.test(l))).toBe(true);
    expect(all.some((l) => /POST .*\/chat\/completions 200/.test(l))).toBe(true);
    expect(all.some((l) => l.includes('idle → connecting'))).toBe(true);
    expect(all.some((l) => l.includes('first answer character'))).toBe(true);
    expect(all.some((l) => /root font-size 16px/.test(l))).toBe(true);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) expect(watch.console.map((m) => m.text).join('\n')).not.toContain(token);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('without data-debug nothing is logged and debug.js is not requested', async () => {
    const { page, context, watch } = await newPage(browser);
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await loadWidget(page, server.url, { 'agent-id': 'mock-quiet', 'token-endpoint': '/dev/token', persist: 'none' });
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill('Quiet');
    await page.keyboard.press('Enter');
    expect((await lastAnswer(page)).text).toBe('You said: Quiet');
    expect(watch.console.filter((m) => m.text.startsWith('[codegpt-widget]'))).toEqual([]);
    expect(requested.filter((u) => u.includes('debug') || u.includes('/locales/'))).toEqual([]);
    await context.close();
  });
});
