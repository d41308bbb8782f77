import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe } from 'vitest';

/** Debian's Chromium; the only browser this machine can run (downloads of browsers fail here). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

if (!hasChromium) {
  const banner = `\n${'!'.repeat(78)}\n!! Chromium not found at ${CHROMIUM_PATH}: the BROWSER TESTS ARE SKIPPED.\n!! Install it with: apt-get update && apt-get install -y chromium\n${'!'.repeat(78)}\n`;
  console.warn(banner);
  if (process.env.REQUIRE_CHROMIUM) throw new Error(`REQUIRE_CHROMIUM is set but ${CHROMIUM_PATH} does not exist.`);
}

/** `describe` when Chromium is present, `describe.skip` (with the banner above) when not. */
export const describeBrowser = hasChromium ? describe : describe.skip;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Everything a page reported that a host page would see: errors, rejections, console output. */
export interface PageWatch {
  errors: string[];
  console: { type: string; text: string }[];
}

/** A fresh context + page that records uncaught errors and console output. */
export async function newPage(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const watch: PageWatch = { errors: [], console: [] };
  page.on('pageerror', (e) => watch.errors.push(String(e)));
  page.on('console', (m) => watch.console.push({ type: m.type(), text: m.text() }));
  await page.addInitScript(() => {
    window.addEventListener('unhandledrejection', (e) => {
      console.error('UNHANDLED REJECTION: ' + String((e as PromiseRejectionEvent).reason));
    });
  });
  return { context, page, watch };
}

/**
 * Open a blank page of the demo server and add the script tag with these data attributes, exactly
 * as a site would paste it.
 */
export async function loadWidget(page: Page, baseUrl: string, attrs: Record<string, string>, pagePath = '/fixtures/blank.html'): Promise<void> {
  await page.goto(baseUrl + pagePath);
  await page.evaluate((a) => {
    const s = document.createElement('script');
    s.src = '/dist/codegpt-widget.iife.js';
    for (const [k, v] of Object.entries(a)) s.setAttribute(`data-${k}`, v);
    document.head.appendChild(s);
  }, attrs);
  await page.waitForFunction(() => !!(window as { CodeGPTWidget?: unknown }).CodeGPTWidget);
}

/** Text of the last assistant message once it is no longer streaming. */
export async function lastAnswer(page: Page, timeout = 20_000): Promise<{ state: string; text: string }> {
  const last = page.locator('[part~="message"][part~="assistant"][data-state]').last();
  await page.waitForFunction(
    () => {
      const host = document.querySelector('codegpt-chat');
      const all = host?.shadowRoot?.querySelectorAll('[data-state]');
      const el = all?.[all.length - 1];
      return !!el && el.getAttribute('data-state') !== 'streaming';
    },
    undefined,
    { timeout },
  );
  return {
    state: (await last.getAttribute('data-state')) ?? '',
    text: (await last.locator('[part="content"]').textContent()) ?? '',
  };
}
