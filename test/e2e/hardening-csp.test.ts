/**
 * Hardening suite, section B of reliability.md (plus A12): Content-Security-Policy, in real Chromium
 * against the built bundles. The CSP pages are fixtures served with a `.headers.json` sidecar; every
 * `securitypolicyviolation` event is recorded by the harness's init script (init scripts are not
 * subject to the page's policy), so "zero violations" is checked, not assumed.
 *
 * Not here: B3's "if the engine blocks the constructed stylesheet" branch (Chromium never blocks it,
 * so only the styled outcome can be observed), and firefox/webkit (not installable here).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, newPage } from './helpers/browser';
import { corpusFailures, cspViolations, installHarness, loadDomPurifyPayloads, mountSynthetic, runCorpus } from './helpers/harness';
import { MARKDOWN_PAYLOADS } from './helpers/markdown-payloads';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

const CSP_BLOCKED = "Blocked by the site's Content Security Policy (connect-src).";
const ACCENT = 'rgb(10, 127, 63)'; // data-accent="#0a7f3f" on the fixture pages
/** The mock answers `You said: <question>`: this question makes a heading, a list, a link and a code block. */
const MARKDOWN_QUESTION = 'hi\n\n# Getting started\n\n- one **two**\n- [docs](https://example.com/docs)\n\n```js\nconst a = 1;\n```';

describeBrowser('hardening B: Content-Security-Policy in Chromium', () => {
  let server: Server;
  let browser: Browser;
  let port: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDemoServer({ port: 0 }), launchChromium()]);
    port = new URL(server.url).port;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function cspPage(fixture: string) {
    const env = await newPage(browser);
    await installHarness(env.page);
    await env.page.goto(`${server.url}/fixtures/${fixture}`);
    return env;
  }

  /** Opens the panel, asks, and returns the finished answer. */
  async function ask(page: Page, question: string) {
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill(question);
    await page.keyboard.press('Enter');
    return lastAnswer(page);
  }

  const launcherBackground = (page: Page) => page.locator('[part="launcher"]').evaluate((el) => getComputedStyle(el).backgroundColor);

  it("B1/B2: under default-src 'none', nonces, Trusted Types and no unsafe-eval the widget loads, is styled and streams markdown, with zero violations", async () => {
    const { page, context, watch } = await cspPage('csp-strict.html');
    const failed: string[] = [];
    page.on('response', (r) => r.status() >= 400 && failed.push(r.url()));
    const policy = (await page.request.get(`${server.url}/fixtures/csp-strict.html`)).headers()['content-security-policy'];
    expect(policy).toContain("require-trusted-types-for 'script'");
    expect(policy).not.toMatch(/unsafe-(inline|eval)/);
    await page.locator('[part="launcher"]').waitFor();
    expect(await launcherBackground(page)).toBe(ACCENT);
    const answer = await ask(page, MARKDOWN_QUESTION);
    expect(answer.state).toBe('done');
    expect(answer.text).toContain('Getting started');
    // The answer's markdown really rendered (heading, list, code block with its copy button), styled.
    expect(await page.locator('[part="content"] h1').count()).toBe(1);
    expect(await page.locator('[part="content"] pre code').count()).toBe(1);
    expect(await page.locator('[part="copy"]').count()).toBe(1);
    expect(await page.locator('[part="panel"]').evaluate((el) => getComputedStyle(el).position)).toBe('fixed');
    expect(await cspViolations(page)).toEqual([]);
    expect(watch.errors).toEqual([]);
    // (Chromium's own "Failed to load resource" line is the favicon's 404, checked above.)
    expect(watch.console.filter((m) => (m.type === 'error' || m.type === 'warning') && !m.text.startsWith('Failed to load resource'))).toEqual([]);
    expect(failed.filter((u) => !u.endsWith('/favicon.ico'))).toEqual([]);
    await context.close();
  });

  it("B1: script-src 'nonce' 'strict-dynamic' with object-src 'none' and data-csp-nonce: loads, is styled, streams, zero violations", async () => {
    const { page, context, watch } = await cspPage('csp-strict-dynamic.html');
    await page.locator('[part="launcher"]').waitFor();
    expect(await launcherBackground(page)).toBe('rgb(37, 99, 235)'); // the default accent: the sheet applied
    const answer = await ask(page, MARKDOWN_QUESTION);
    expect(answer.state).toBe('done');
    expect(answer.text).toContain('Getting started');
    expect(await page.locator('[part="content"] pre code').count()).toBe(1);
    expect(await cspViolations(page)).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A12: the DOMPurify and markdown corpora under Trusted Types render with zero violations and no XSS', async () => {
    const { page, context, watch } = await cspPage('csp-strict-bare.html');
    await page.waitForFunction(() => !!(window as { CodeGPTWidget?: unknown }).CodeGPTWidget);
    await mountSynthetic(page);
    const corpus = [...(await loadDomPurifyPayloads()), ...MARKDOWN_PAYLOADS];
    const results = await runCorpus(page, corpus);
    expect(corpusFailures(results, corpus)).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    // No Trusted Types policy was attempted (trusted-types 'none' would have thrown and reported).
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('B2: neither bundle contains eval, new Function or a string timer', async () => {
    for (const file of ['dist/codegpt-widget.iife.js', 'dist/codegpt-widget.js']) {
      const code = await readFile(file, 'utf8');
      expect(code.length).toBeGreaterThan(1000);
      expect(code.match(/\beval\s*\(/g), file).toBeNull();
      expect(code.match(/\bnew\s+Function\b/g), file).toBeNull();
      expect(code.match(/[^.\w]Function\s*\(/g), file).toBeNull();
      expect(code.match(/\bset(Timeout|Interval)\s*\(\s*["'`]/g), file).toBeNull();
      expect(code.match(/\bimportScripts\b|document\.write\s*\(/g), file).toBeNull();
    }
  });

  it("B3: style-src 'self' and no nonce: the constructed stylesheet applies, zero violations", async () => {
    const { page, context, watch } = await cspPage('csp-style-self.html');
    await page.locator('[part="launcher"]').waitFor();
    expect(await launcherBackground(page)).toBe(ACCENT);
    const answer = await ask(page, 'How big is it?');
    expect(answer.text).toBe('You said: How big is it?');
    expect(answer.state).toBe('done');
    expect(await cspViolations(page)).toEqual([]);
    // No <style> fallback was needed, and the widget warned about nothing.
    expect(await page.evaluate(() => document.querySelector('codegpt-chat')!.shadowRoot!.querySelectorAll('style').length)).toBe(0);
    expect(watch.console.filter((m) => m.type === 'warning' || m.type === 'error')).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  /** On the connect-src 'self' page, adds the script tag as a site would, with these attributes. */
  async function connectPage(attrs: Record<string, string>) {
    const env = await cspPage('csp-connect-self.html');
    await env.page.evaluate((a) => {
      const s = document.createElement('script');
      s.src = '/dist/codegpt-widget.iife.js';
      for (const [k, v] of Object.entries(a)) s.setAttribute(`data-${k}`, v);
      document.head.appendChild(s);
    }, attrs);
    await env.page.locator('[part="launcher"]').waitFor();
    return env;
  }

  async function expectCspError(page: Page) {
    const error = page.locator('[part="error"]');
    await error.waitFor();
    expect(await error.textContent()).toContain(CSP_BLOCKED);
    // Retrying cannot help: no Retry button, no spinner, and the question is kept.
    expect(await page.locator('[part="retry"]').count()).toBe(0);
    expect(await page.locator('[data-state="streaming"]').count()).toBe(0);
    expect(await page.locator('[part~="user"]').textContent()).toContain('Anyone there?');
    expect(await page.locator('[part="send"]').count()).toBe(1);
  }

  it('B4: connect-src blocking the token endpoint shows the CSP error, not a spinner, after one attempt (no retry storm)', async () => {
    const endpoint = `http://localhost:${port}/dev/token?key=b4-token`;
    const { page, context, watch } = await connectPage({ 'agent-id': 'mock-csp', 'token-endpoint': endpoint });
    const events: string[] = [];
    await page.evaluate(() => {
      document.addEventListener('codegpt:error', (e) => console.info('EVENT ' + JSON.stringify((e as CustomEvent).detail)));
    });
    page.on('console', (m) => m.text().startsWith('EVENT ') && events.push(m.text().slice(6)));
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill('Anyone there?');
    await page.keyboard.press('Enter');
    await expectCspError(page);
    await page.waitForTimeout(1_500);
    const violations = await cspViolations(page);
    expect(violations).toEqual([{ directive: 'connect-src', blocked: endpoint, sample: '' }]);
    expect(server.devToken.calls('b4-token')).toBe(0);
    expect(events.map((e) => JSON.parse(e) as { code: string; message: string })).toEqual([{ code: 'config', message: CSP_BLOCKED }]);
    // One console line tells the site owner which origin to add (Chromium logs its own "Refused to connect").
    const logged = watch.console.filter((m) => m.type === 'error' && m.text.startsWith('codegpt-widget'));
    expect(logged).toHaveLength(1);
    expect(logged[0]!.text).toContain(`http://localhost:${port}`);
    expect(logged[0]!.text).toContain('connect-src');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('B4: connect-src blocking the API origin shows the CSP error after one completion attempt', async () => {
    const apiBase = `http://localhost:${port}/api/v1`;
    const { page, context, watch } = await connectPage({ 'agent-id': 'mock-csp', 'token-endpoint': '/dev/token?key=b4-api', 'api-base': apiBase });
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill('Anyone there?');
    await page.keyboard.press('Enter');
    await expectCspError(page);
    await page.waitForTimeout(1_500);
    expect(await cspViolations(page)).toEqual([{ directive: 'connect-src', blocked: `${apiBase}/chat/completions`, sample: '' }]);
    expect(server.devToken.calls('b4-api')).toBe(1);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('B6: a script whose SRI integrity does not match is refused and the host page is unaffected; the right hash loads', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.goto(`${server.url}/fixtures/blank.html`);
    const before = await page.evaluate(() => document.body.innerHTML);
    const hash = createHash('sha384').update(await readFile('dist/codegpt-widget.iife.js')).digest('base64');
    const load = (integrity: string) =>
      page.evaluate(
        (value) =>
          new Promise<string>((resolve) => {
            const s = document.createElement('script');
            s.src = '/dist/codegpt-widget.iife.js';
            s.integrity = value;
            s.setAttribute('data-agent-id', 'docs-agent');
            s.setAttribute('data-token-endpoint', '/dev/token');
            s.onload = () => resolve('load');
            s.onerror = () => resolve('error');
            document.head.appendChild(s);
          }),
        integrity,
      );
    expect(await load('sha384-' + Buffer.alloc(48).toString('base64'))).toBe('error');
    expect(await page.evaluate(() => typeof (window as { CodeGPTWidget?: unknown }).CodeGPTWidget)).toBe('undefined');
    expect(await page.evaluate(() => document.body.innerHTML)).toBe(before);
    expect(watch.errors).toEqual([]);
    expect(await load(`sha384-${hash}`)).toBe('load');
    await page.locator('[part="launcher"]').waitFor();
    expect(watch.errors).toEqual([]);
    await context.close();
  });
});
