/**
 * Visitors B: accessibility, keyboard, mobile, top layer, theming and accent contrast, in real
 * Chromium against dist/codegpt-widget.iife.js served by the demo server (embed.md sections 2–4,
 * widget/view/styles.css). axe-core runs in the page on every widget state; colours are normalised
 * to sRGB bytes through a 1×1 canvas before WCAG contrast is computed. Every test also checks that
 * no uncaught error or unhandled rejection reached the host page.
 */
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage, type PageWatch } from './helpers/browser';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

const require = createRequire(import.meta.url);
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Nothing reached the host page. */
function expectContained(watch: PageWatch): void {
  expect(watch.errors).toEqual([]);
  expect(watch.console.filter((m) => m.text.includes('UNHANDLED REJECTION'))).toEqual([]);
}

async function ask(page: Page, text: string): Promise<void> {
  await page.locator('[part="input"]').fill(text);
  await page.keyboard.press('Enter');
}

/** Sends every completion request of `page` with this `X-Mock-Scenario` (null: as it is). */
async function scenarioSwitch(page: Page): Promise<(s: string | null) => void> {
  let scenario: string | null = null;
  await page.route('**/chat/completions', (route) =>
    route.continue(scenario ? { headers: { ...route.request().headers(), 'x-mock-scenario': scenario } } : undefined),
  );
  return (s) => (scenario = s);
}

/** `document.activeElement` is the host and, inside its shadow root, the element with this part. */
function focusedPart(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const host = document.querySelector('codegpt-chat');
    if (!host || document.activeElement !== host) return `outside: <${document.activeElement?.localName ?? 'none'}>`;
    return host.shadowRoot!.activeElement?.getAttribute('part') ?? null;
  });
}

/** WCAG 2 relative luminance / contrast ratio of two sRGB byte triples. */
function contrast(a: number[], b: number[]): number {
  const lum = ([r, g, bl]: number[]) => {
    const lin = (v: number) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(bl!);
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/**
 * Computed `color` and `background-color` of the element at `selector` in the shadow root, as the
 * computed strings and as sRGB bytes (via a 1×1 canvas, which accepts rgb(), color(srgb …), lch(),
 * oklch()…). Throws when the canvas rejects a value, so an unparsed colour never passes silently.
 */
function colours(page: Page, selector: string): Promise<{ fg: string; bg: string; fgRgba: number[]; bgRgba: number[] }> {
  return page.evaluate((sel) => {
    const el = document.querySelector('codegpt-chat')!.shadowRoot!.querySelector(sel)!;
    const cs = getComputedStyle(el);
    const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
    ctx.canvas.width = ctx.canvas.height = 1;
    const bytes = (c: string) => {
      const seen: string[] = [];
      for (const sentinel of ['#010203', '#040506']) {
        ctx.fillStyle = sentinel;
        ctx.fillStyle = c;
        seen.push(String(ctx.fillStyle));
      }
      if (seen[0] !== seen[1]) throw new Error(`canvas cannot parse the colour ${c}`);
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillRect(0, 0, 1, 1);
      return [...ctx.getImageData(0, 0, 1, 1).data];
    };
    return { fg: cs.color, bg: cs.backgroundColor, fgRgba: bytes(cs.color), bgRgba: bytes(cs.backgroundColor) };
  }, selector);
}

describeBrowser('visitors B: accessibility, keyboard, mobile, top layer, theming (Chromium, dist IIFE)', () => {
  let server: Server;
  let browser: Browser;
  let keys = 0;
  const newKey = () => `visitors-b-${++keys}`;

  beforeAll(async () => {
    server = await startDemoServer({ port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const base = (agent: string, extra: Record<string, string> = {}) => ({
    'agent-id': agent,
    'token-endpoint': `/dev/token?key=${newKey()}`,
    persist: 'none',
    ...extra,
  });

  const STATES = ['launcher', 'open', 'streaming', 'finished', 'error'] as const;
  type AxeState = (typeof STATES)[number];
  /** `theme/accent/state` → violations, each `rule-id (node count)` plus, per node, `rule-id @ part`. */
  type AxeResults = Record<string, { rules: string[]; nodes: string[] }>;
  let axeResults: Promise<AxeResults> | undefined;

  /**
   * The axe-core flow, run once and shared by the two tests below: 6 pages (light/dark × default,
   * #ffd400, #0a3d2a accents), each audited closed, open and empty, streaming (the mock's `slow`
   * scenario, stopped after the audit), with a finished answer (copy/👍/👎 and the header Clear
   * visible), and in the error state (the mock's `http-500`). Prints the table of violation counts.
   */
  function runAxe(): Promise<AxeResults> {
    axeResults ??= (async () => {
      const axeSource = require.resolve('axe-core/axe.min.js');
      const results: AxeResults = {};
      const counts: Record<string, Record<string, number>> = {};
      for (const accent of [null, '#ffd400', '#0a3d2a']) {
        for (const theme of ['light', 'dark']) {
          const combo = `${theme}/${accent ?? 'default'}`;
          counts[combo] = {};
          const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
          const setScenario = await scenarioSwitch(page);
          await loadWidget(page, server.url, base('mock-axe', { theme, ...(accent ? { accent } : {}) }));
          expect(await page.locator('codegpt-chat').getAttribute('data-theme')).toBe(theme);
          if (accent) expect(await page.locator('codegpt-chat').evaluate((el) => (el as HTMLElement).style.getPropertyValue('--codegpt-accent'))).toBe(accent);
          await page.addScriptTag({ path: axeSource });
          const audit = async (state: AxeState) => {
            const found = await page.evaluate(async (tags) => {
              type Result = { violations: { id: string; nodes: { target: string[][] }[] }[]; passes: unknown[] };
              const axe = (window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<Result> } }).axe;
              const r = await axe.run({ include: [['codegpt-chat']] }, { runOnly: { type: 'tag', values: tags } });
              const root = document.querySelector('codegpt-chat')!.shadowRoot!;
              return {
                rules: r.violations.map((v) => `${v.id} (${v.nodes.length})`),
                nodes: r.violations.flatMap((v) =>
                  v.nodes.map((n) => {
                    const sel = n.target[0]?.[1];
                    const el = sel ? root.querySelector(sel) : null;
                    return `${v.id} @ ${el?.getAttribute('part') ?? sel ?? n.target.join(' ')}`;
                  }),
                ),
                passes: r.passes.length,
              };
            }, AXE_TAGS);
            // A run that checked nothing would pass vacuously.
            expect(found.passes, `${combo}/${state}: axe passes`).toBeGreaterThan(0);
            results[`${combo}/${state}`] = { rules: found.rules, nodes: found.nodes };
            counts[combo]![state] = found.rules.length;
          };
          await audit('launcher');
          await page.locator('[part="launcher"]').click();
          await page.locator('[part="panel"]').waitFor();
          await audit('open');
          setScenario('slow');
          await ask(page, 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen');
          await page.locator('[data-state="streaming"] [part="content"]').waitFor();
          await audit('streaming');
          expect(await page.locator('[data-state="streaming"]').count(), `${combo}: still streaming after the audit`).toBe(1);
          await page.locator('[part="stop"]').click();
          expect((await lastAnswer(page)).state).toBe('stopped');
          setScenario(null);
          await ask(page, 'Finished please');
          expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Finished please' });
          const last = page.locator('[part~="assistant"][data-state="done"]').last();
          for (const part of ['[part="copy-answer"]', '[part~="feedback"][part~="up"]', '[part~="feedback"][part~="down"]']) {
            expect(await last.locator(part).isVisible(), part).toBe(true);
          }
          expect(await page.locator('[part="clear"]').isVisible()).toBe(true);
          await audit('finished');
          setScenario('http-500');
          await ask(page, 'Fail now');
          await page.locator('[part="error"]').waitFor({ timeout: 10_000 });
          expect(await page.locator('[part="retry"]').isVisible()).toBe(true);
          await audit('error');
          expectContained(watch);
          await context.close();
        }
      }
      const width = Math.max(...Object.keys(counts).map((k) => k.length));
      console.log(
        [
          `axe-core ${AXE_TAGS.join(',')}: violations per state (rules violated)`,
          `${'theme/accent'.padEnd(width)} | ${STATES.map((s) => s.padStart(9)).join(' | ')}`,
          ...Object.entries(counts).map(([combo, c]) => `${combo.padEnd(width)} | ${STATES.map((s) => String(c[s]).padStart(9)).join(' | ')}`),
          `details: ${[...new Set(Object.values(results).flatMap((r) => r.nodes))].join('; ') || 'none'}`,
        ].join('\n'),
      );
      expect(Object.keys(results)).toHaveLength(30);
      return results;
    })().catch((e: unknown) => {
      axeResults = undefined; // a retry runs the flow again
      throw e;
    });
    return axeResults;
  }

  it('axe-core WCAG 2 A/AA (2.0, 2.1, 2.2): zero violations closed, open, streaming, with a finished answer (copy/👍/👎, Clear) and in the error state, light and dark, three accents', async () => {
    const results = await runAxe();
    expect(Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.rules]))).toEqual(
      Object.fromEntries(Object.keys(results).map((k) => [k, []])),
    );
  });

  it('keyboard only: Tab to the launcher, Enter opens, type + Enter asks, the answer is announced once, Escape closes back to the launcher', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await loadWidget(page, server.url, base('mock-slow'));
    const launcher = page.locator('[part="launcher"]');
    await launcher.waitFor();
    expect(await focusedPart(page)).toBe('outside: <body>');
    await page.keyboard.press('Tab');
    expect(await focusedPart(page)).toBe('launcher');
    expect(await launcher.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await page.locator('[part="panel"]').waitFor();
    expect(await launcher.getAttribute('aria-expanded')).toBe('true');
    const controls = await launcher.getAttribute('aria-controls');
    expect(controls).toMatch(/\S/);
    expect(await page.locator('[part="panel"]').getAttribute('id')).toBe(controls);
    expect(await page.locator('[part="log"]').getAttribute('role')).toBe('log');
    await expect.poll(() => focusedPart(page)).toBe('input');

    // Record every text the live region ever holds, and whether an answer was streaming at the time.
    expect(await page.locator('[role="status"][aria-live="polite"]').count()).toBe(1);
    await page.evaluate(() => {
      const root = document.querySelector('codegpt-chat')!.shadowRoot!;
      const live = root.querySelector('[role="status"][aria-live="polite"]')!;
      const w = window as unknown as { __live: { text: string; streaming: boolean }[] };
      w.__live = [{ text: live.textContent ?? '', streaming: false }];
      new MutationObserver(() => {
        const text = live.textContent ?? '';
        if (text !== w.__live[w.__live.length - 1]!.text) w.__live.push({ text, streaming: !!root.querySelector('[data-state="streaming"]') });
      }).observe(live, { childList: true, subtree: true, characterData: true });
    });

    const question = 'Keyboard only please, no mouse at all today';
    await page.keyboard.type(question);
    await page.keyboard.press('Enter');
    const streaming = page.locator('[data-state="streaming"]');
    await streaming.waitFor();
    expect(await streaming.getAttribute('aria-busy')).toBe('true');
    // Pieces are arriving and the live region is still silent.
    await page.locator('[data-state="streaming"] [part="content"]').waitFor();
    expect(await page.locator('[role="status"][aria-live="polite"]').textContent()).toBe('');
    const answer = await lastAnswer(page);
    expect(answer).toEqual({ state: 'done', text: `You said: ${question}` });
    expect(await page.locator('[part~="assistant"][data-state="done"]').getAttribute('aria-busy')).toBe('false');
    await expect.poll(() => page.locator('[role="status"][aria-live="polite"]').textContent()).toBe(answer.text);
    const live = await page.evaluate(() => (window as unknown as { __live: { text: string; streaming: boolean }[] }).__live);
    expect(live).toEqual([
      { text: '', streaming: false },
      { text: answer.text, streaming: false },
    ]);

    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[part="panel"]').count()).toBe(0);
    expect(await launcher.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => focusedPart(page)).toBe('launcher');
    expectContained(watch);
    await context.close();
  });

  /** Indexes, in the panel's own list of tab stops, of the first/last stop and of the focused element. */
  function stops(page: Page): Promise<{ parts: string[]; active: number }> {
    return page.evaluate(() => {
      const root = document.querySelector('codegpt-chat')!.shadowRoot!;
      const panel = root.querySelector('[part="panel"]')!;
      const list = [...panel.querySelectorAll<HTMLElement>('button:not(:disabled),textarea,a[href],[tabindex="0"]')].filter(
        (el) => el.getClientRects().length > 0,
      );
      return { parts: list.map((el) => el.getAttribute('part') ?? el.localName), active: list.indexOf(root.activeElement as HTMLElement) };
    });
  }
  function focusStop(page: Page, index: 'first' | 'last'): Promise<void> {
    return page.evaluate((which) => {
      const panel = document.querySelector('codegpt-chat')!.shadowRoot!.querySelector('[part="panel"]')!;
      const list = [...panel.querySelectorAll<HTMLElement>('button:not(:disabled),textarea,a[href],[tabindex="0"]')].filter(
        (el) => el.getClientRects().length > 0,
      );
      list[which === 'first' ? 0 : list.length - 1]!.focus();
    }, index);
  }

  for (const size of [
    { width: 375, height: 667 },
    { width: 320, height: 568 },
  ]) {
    it(`mobile ${size.width}×${size.height}: full-viewport panel, 16 px input, page locked and restored, focus trapped, keyboard-sized`, async () => {
      const { page, context, watch } = await newPage(browser, { viewport: size, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      await loadWidget(page, server.url, base('mock-mobile'), '/fixtures/long.html');
      await page.evaluate(() => window.scrollTo(0, 500));
      expect(await page.evaluate(() => window.scrollY)).toBe(500);
      const overflow = () => page.evaluate(() => getComputedStyle(document.documentElement).overflow);
      expect(await overflow()).toBe('visible');
      await page.locator('[part="launcher"]').tap();
      await page.locator('[part="panel"]').waitFor();
      expect(await page.locator('[part="panel"]').boundingBox()).toEqual({ x: 0, y: 0, ...size });
      const vv = await page.evaluate(() => ({
        height: window.visualViewport!.height,
        prop: document.querySelector<HTMLElement>('codegpt-chat')!.style.getPropertyValue('--_vv-height'),
      }));
      expect(vv).toEqual({ height: size.height, prop: `${size.height}px` });
      const fontSize = await page.locator('[part="input"]').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      expect(fontSize).toBeGreaterThanOrEqual(16);
      expect(await overflow()).toBe('hidden');
      const logBox = (await page.locator('[part="log"]').boundingBox())!;
      await page.mouse.move(logBox.x + logBox.width / 2, logBox.y + logBox.height / 2);
      await page.mouse.wheel(0, 400);
      await page.waitForTimeout(150);
      expect(await page.evaluate(() => window.scrollY)).toBe(500);

      await ask(page, 'Phone question');
      expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Phone question' });
      // Empty draft: Send is disabled, so the text box is the last stop.
      let list = await stops(page);
      expect(list.parts[0]).toBe('clear');
      expect(list.parts.at(-1)).toBe('input');
      expect(list.parts).toContain('log');
      await focusStop(page, 'last');
      await page.keyboard.press('Tab');
      list = await stops(page);
      expect(list.active, `Tab from the last stop went to ${list.parts[list.active] ?? 'outside the panel'}`).toBe(0);
      await page.keyboard.press('Shift+Tab');
      list = await stops(page);
      expect(list.active, 'Shift+Tab from the first stop').toBe(list.parts.length - 1);
      // With a draft, Send is the last stop.
      await page.locator('[part="input"]').fill('draft');
      list = await stops(page);
      expect(list.parts.at(-1)).toBe('send');
      await focusStop(page, 'last');
      await page.keyboard.press('Tab');
      expect((await stops(page)).active).toBe(0);
      await page.keyboard.press('Shift+Tab');
      list = await stops(page);
      expect(list.parts[list.active]).toBe('send');

      // On-screen keyboard: the visual viewport shrinks to 400 px; panel and text box stay inside it.
      await page.locator('[part="input"]').focus();
      await page.setViewportSize({ width: size.width, height: 400 });
      await expect
        .poll(() => page.evaluate(() => document.querySelector<HTMLElement>('codegpt-chat')!.style.getPropertyValue('--_vv-height')))
        .toBe('400px');
      const fit = await page.evaluate(() => {
        const root = document.querySelector('codegpt-chat')!.shadowRoot!;
        const rect = (sel: string) => root.querySelector(sel)!.getBoundingClientRect();
        return { vv: window.visualViewport!.height, panelTop: rect('[part="panel"]').top, panelBottom: rect('[part="panel"]').bottom, inputBottom: rect('[part="input"]').bottom, sendBottom: rect('[part="send"]').bottom };
      });
      expect(fit.vv).toBe(400);
      expect(fit.panelTop).toBe(0);
      expect(fit.panelBottom).toBeLessThanOrEqual(fit.vv);
      expect(fit.panelBottom).toBeGreaterThan(fit.vv - 1);
      expect(fit.inputBottom).toBeLessThanOrEqual(fit.vv);
      expect(fit.sendBottom).toBeLessThanOrEqual(fit.vv);
      await page.setViewportSize(size);
      await expect
        .poll(() => page.evaluate(() => document.querySelector<HTMLElement>('codegpt-chat')!.style.getPropertyValue('--_vv-height')))
        .toBe(`${size.height}px`);

      await page.locator('[part="close"]').tap();
      await expect.poll(() => page.locator('[part="panel"]').count()).toBe(0);
      expect(await overflow()).toBe('visible');
      expect(await page.evaluate(() => window.scrollY)).toBe(500);
      expect(await page.evaluate(() => document.querySelector<HTMLElement>('codegpt-chat')!.style.getPropertyValue('--_vv-height'))).toBe('');
      expectContained(watch);
      await context.close();
    });
  }

  it('desktop 1280×800: no scroll lock and no focus trap, Tab from the last panel stop leaves the panel', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await loadWidget(page, server.url, base('mock-desk'), '/fixtures/long.html');
    await page.evaluate(() => window.scrollTo(0, 500));
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="panel"]').waitFor();
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).overflow)).toBe('visible');
    const box = (await page.locator('[part="panel"]').boundingBox())!;
    expect({ width: box.width, height: box.height }).toEqual({ width: 400, height: 600 });
    await ask(page, 'Desk question');
    expect((await lastAnswer(page)).state).toBe('done');
    await page.locator('[part="input"]').fill('draft');
    const list = await stops(page);
    expect(list.parts.at(-1)).toBe('send');
    await focusStop(page, 'last');
    expect((await stops(page)).active).toBe(list.parts.length - 1);
    await page.keyboard.press('Tab');
    expect((await stops(page)).active, 'focus after Tab from Send').toBe(-1);
    await focusStop(page, 'first');
    await page.keyboard.press('Shift+Tab');
    const after = await stops(page);
    expect(after.active, `Shift+Tab from ${list.parts[0]} stayed in the panel`).toBe(-1);
    expectContained(watch);
    await context.close();
  });

  it('top layer: above a fixed inset:0 z-index 2147483647 overlay while open (:popover-open), back in the page when closed', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await loadWidget(page, server.url, base('mock-toplayer'), '/fixtures/visitors-b-overlay.html');
    const launcher = page.locator('[part="launcher"]');
    await launcher.waitFor();
    const popoverOpen = () => page.evaluate(() => document.querySelector('codegpt-chat')!.matches(':popover-open'));
    expect(await popoverOpen()).toBe(false);
    // The overlay really covers the page.
    expect(await page.evaluate(() => document.elementFromPoint(300, 300)?.id)).toBe('overlay');
    // Opened from the keyboard (the overlay takes pointer events on the closed launcher's spot).
    await launcher.press('Enter');
    await page.locator('[part="panel"]').waitFor();
    expect(await popoverOpen()).toBe(true);
    await page.locator('[part="input"]').fill('Above the overlay?');
    const hits = await page.evaluate(() => {
      const host = document.querySelector('codegpt-chat')!;
      return ['[part="panel"]', '[part="send"]', '[part="input"]'].map((sel) => {
        const r = host.shadowRoot!.querySelector(sel)!.getBoundingClientRect();
        const x = r.left + r.width / 2;
        const y = r.top + r.height / 2;
        const outer = document.elementFromPoint(x, y);
        return `${sel}: ${outer === host ? 'host' : `<${outer?.localName}#${outer?.id}>`}`;
      });
    });
    expect(hits).toEqual(['[part="panel"]: host', '[part="send"]: host', '[part="input"]: host']);
    // A real click at the send button's centre reaches it.
    const send = (await page.locator('[part="send"]').boundingBox())!;
    await page.mouse.click(send.x + send.width / 2, send.y + send.height / 2);
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Above the overlay?' });
    const close = (await page.locator('[part="close"]').boundingBox())!;
    await page.mouse.click(close.x + close.width / 2, close.y + close.height / 2);
    await expect.poll(() => page.locator('[part="panel"]').count()).toBe(0);
    expect(await popoverOpen()).toBe(false);
    expect(await launcher.getAttribute('aria-expanded')).toBe('false');
    expectContained(watch);
    await context.close();
  });

  it('theme "auto" follows prefers-color-scheme live, without a reload', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    await loadWidget(page, server.url, base('mock-auto', { open: 'true' }));
    await page.locator('[part="panel"]').waitFor();
    expect(await page.locator('codegpt-chat').getAttribute('data-theme')).toBe('auto');
    const look = () =>
      page.locator('[part="panel"]').evaluate((el) => {
        const cs = getComputedStyle(el);
        return { bg: cs.backgroundColor, fg: cs.color };
      });
    const light = { bg: 'rgb(255, 255, 255)', fg: 'rgb(26, 29, 35)' };
    const dark = { bg: 'rgb(23, 25, 30)', fg: 'rgb(232, 234, 238)' };
    expect(await look()).toEqual(light);
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(look).toEqual(dark);
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(look).toEqual(light);
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(look).toEqual(dark);
    expectContained(watch);
    await context.close();
  });

  it('every CSS custom property of embed.md section 4, set on codegpt-chat by the host page, takes effect', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await loadWidget(page, server.url, base('mock-props', { open: 'true' }));
    await page.locator('[part="panel"]').waitFor();
    // The host page's own stylesheet, as a site would write it.
    await page.addStyleTag({
      content: `codegpt-chat {
        --codegpt-accent: rgb(200, 0, 100);
        --codegpt-bg: rgb(250, 240, 230);
        --codegpt-fg: rgb(10, 20, 30);
        --codegpt-font-family: "Courier New", monospace;
        --codegpt-font-size: 18px;
        --codegpt-radius: 3px;
        --codegpt-z-index: 12345;
        --codegpt-panel-width: 450px;
        --codegpt-panel-height: 500px;
      }`,
    });
    const got = await page.evaluate(() => {
      const root = document.querySelector('codegpt-chat')!.shadowRoot!;
      const cs = (sel: string) => getComputedStyle(root.querySelector(sel)!);
      const panel = root.querySelector('[part="panel"]')!.getBoundingClientRect();
      return {
        launcherBg: cs('[part="launcher"]').backgroundColor,
        launcherZ: cs('[part="launcher"]').zIndex,
        panelBg: cs('[part="panel"]').backgroundColor,
        panelFg: cs('[part="panel"]').color,
        panelRadius: cs('[part="panel"]').borderTopLeftRadius,
        panelZ: cs('[part="panel"]').zIndex,
        panelSize: { width: panel.width, height: panel.height },
        rootFont: cs('.root').fontFamily,
        rootSize: cs('.root').fontSize,
        titleFont: cs('[part="title"]').fontFamily,
        titleSize: cs('[part="title"]').fontSize,
      };
    });
    expect(got).toEqual({
      launcherBg: 'rgb(200, 0, 100)',
      launcherZ: '12345',
      panelBg: 'rgb(250, 240, 230)',
      panelFg: 'rgb(10, 20, 30)',
      panelRadius: '3px',
      panelZ: '12345',
      panelSize: { width: 450, height: 500 },
      rootFont: '"Courier New", monospace',
      rootSize: '18px',
      titleFont: '"Courier New", monospace',
      titleSize: '18.9px',
    });
    expectContained(watch);
    await context.close();
  });

  it('::part() rules of the host page style the launcher and the title', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await loadWidget(page, server.url, base('mock-part', { open: 'true' }));
    await page.locator('[part="panel"]').waitFor();
    const before = await page.evaluate(() => {
      const root = document.querySelector('codegpt-chat')!.shadowRoot!;
      return { launcher: getComputedStyle(root.querySelector('[part="launcher"]')!).backgroundColor, title: getComputedStyle(root.querySelector('[part="title"]')!).color };
    });
    expect(before).toEqual({ launcher: 'rgb(37, 99, 235)', title: 'rgb(26, 29, 35)' });
    await page.addStyleTag({
      content: `codegpt-chat::part(launcher) { background: rgb(1, 2, 3); }
                codegpt-chat::part(title) { color: rgb(4, 5, 6); text-transform: uppercase; letter-spacing: 2px; }`,
    });
    const after = await page.evaluate(() => {
      const root = document.querySelector('codegpt-chat')!.shadowRoot!;
      const t = getComputedStyle(root.querySelector('[part="title"]')!);
      return { launcher: getComputedStyle(root.querySelector('[part="launcher"]')!).backgroundColor, title: t.color, transform: t.textTransform, spacing: t.letterSpacing };
    });
    expect(after).toEqual({ launcher: 'rgb(1, 2, 3)', title: 'rgb(4, 5, 6)', transform: 'uppercase', spacing: '2px' });
    expectContained(watch);
    await context.close();
  });

  it('html { font-size: 40px } on the host page changes none of the widget sizes', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await loadWidget(page, server.url, base('mock-rem', { open: 'true' }));
    await page.locator('[part="panel"]').waitFor();
    await ask(page, 'Sizes');
    expect((await lastAnswer(page)).state).toBe('done');
    const measure = () =>
      page.evaluate(() => {
        const root = document.querySelector('codegpt-chat')!.shadowRoot!;
        const out: Record<string, string> = {};
        for (const sel of ['[part="launcher"]', '[part="panel"]', '[part="header"]', '[part="title"]', '[part="input"]', '[part="send"]', '[part="close"]', '[part~="user"] .bubble', '[part="copy-answer"]']) {
          const el = root.querySelector(sel)!;
          const r = el.getBoundingClientRect();
          const cs = getComputedStyle(el);
          out[sel] = `${r.width}x${r.height} font ${cs.fontSize} pad ${cs.padding}`;
        }
        return out;
      });
    const before = await measure();
    expect(before['[part="launcher"]']).toMatch(/^56x56 /);
    expect(before['[part="panel"]']).toMatch(/^400x600 font 15px/);
    await page.addStyleTag({ content: 'html { font-size: 40px; } body { font-size: 2rem; line-height: 3; }' });
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe('40px');
    expect(await measure()).toEqual(before);
    expectContained(watch);
    await context.close();
  });

  it('text on the accent (launcher, user bubble) keeps a WCAG contrast of at least 4.5:1 for any accent', async () => {
    const accents = ['#ffeb3b', '#00ff00', '#777777', '#1e88e5', 'hsl(50 100% 50%)', 'oklch(0.7 0.2 150)', '#000000', '#ffffff', 'rebeccapurple'];
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    const rows: string[] = [];
    const failures: string[] = [];
    for (const accent of accents) {
      await loadWidget(page, server.url, base('mock-contrast', { accent }));
      const launcher = await colours(page, '[part="launcher"]');
      await page.locator('[part="launcher"]').click();
      await ask(page, 'Contrast');
      expect((await lastAnswer(page)).state).toBe('done');
      const bubble = await colours(page, '[part~="user"] .bubble');
      for (const [what, c] of [
        ['launcher', launcher],
        ['user bubble', bubble],
      ] as const) {
        expect(c.fgRgba[3], `${accent} ${what} text alpha`).toBe(255);
        expect(c.bgRgba[3], `${accent} ${what} background alpha`).toBe(255);
        const ratio = contrast(c.fgRgba, c.bgRgba);
        rows.push(`${accent.padEnd(19)} ${what.padEnd(11)} ${c.fg} on ${c.bg} → ${ratio.toFixed(2)}`);
        if (!(ratio >= 4.5)) failures.push(`${accent} ${what}: ${c.fg} on ${c.bg} = ${ratio.toFixed(2)}:1`);
      }
      // The accent really is the background (the test would otherwise measure the default blue).
      expect(contrast(launcher.bgRgba, await page.evaluate((a) => {
        const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
        ctx.canvas.width = ctx.canvas.height = 1;
        ctx.fillStyle = a;
        ctx.fillRect(0, 0, 1, 1);
        return [...ctx.getImageData(0, 0, 1, 1).data];
      }, accent)), `${accent}: launcher background is the accent`).toBeLessThan(1.02);
    }
    console.log(`accent contrast (text on accent):\n${rows.join('\n')}`);
    expect(failures).toEqual([]);
    expectContained(watch);
    await context.close();
  });
});
