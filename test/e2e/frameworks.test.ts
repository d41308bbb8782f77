/**
 * The widget inside framework apps, in Chromium (issue 7):
 * - React: test/fixtures/react-app/ built with Vite's JS API (development React, so StrictMode
 *   really double-runs effects) against the built `dist/react.js` and `dist/codegpt-widget.js`,
 *   served under the demo server's origin through page.route. Covers asking a question, StrictMode,
 *   a route change, prop changes, inline mode and hydrating server-rendered markup.
 * - Vue 3: test/fixtures/pages/vue.html, `<codegpt-chat>` in a runtime-compiled template after the
 *   IIFE defined the element; removed again with v-if.
 *
 * `REACT_DIR=/some/node_modules` builds the React app against another React (e.g. 18) for a one-off
 * run; the server-side markup still comes from the installed React.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { ComponentType } from 'react';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, newPage, type PageWatch } from './helpers/browser';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'test/fixtures/react-app');
const APP_PATH = '/react-app/';

/** Builds the fixture app the way a user's Vite app would import the package. */
async function buildReactApp(outDir: string): Promise<void> {
  const { build } = await import('vite');
  const reactDir = process.env.REACT_DIR;
  const alias: { find: RegExp; replacement: string }[] = [
    { find: /^codegpt-widget\/react$/, replacement: join(root, 'dist/react.js') },
    { find: /^codegpt-widget$/, replacement: join(root, 'dist/codegpt-widget.js') },
  ];
  if (reactDir) alias.push({ find: /^(react|react-dom)(\/.*)?$/, replacement: `${reactDir}/$1$2` });
  await build({
    root: fixture,
    base: APP_PATH,
    configFile: false,
    logLevel: 'silent',
    mode: 'development',
    // Development React: StrictMode double effects and hydration diagnostics only exist there.
    define: { 'process.env.NODE_ENV': JSON.stringify('development') },
    resolve: { alias },
    build: { outDir, emptyOutDir: true, minify: false, target: 'es2022', reportCompressedSize: false },
  });
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };

describeBrowser('framework integrations in Chromium (React component, Vue template)', () => {
  let server: Server;
  let browser: Browser;
  let outDir: string;
  let App: ComponentType<{ mode?: string }>;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'codegpt-react-app-'));
    [server, browser] = await Promise.all([startDemoServer({ port: 0 }), launchChromium(), buildReactApp(outDir)]);
    // The same App the browser runs, for server rendering (imports `codegpt-widget/react` → dist).
    ({ App } = (await import(/* @vite-ignore */ pathToFileURL(join(fixture, 'app.js')).href)) as { App: typeof App });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  /**
   * A page on the demo server's origin (so `/dev/token` is same-origin) whose `/react-app/` files
   * come from the build. `?hydrate` pages get the server-rendered App in #root, as an SSR framework
   * would send it; `ssr` replaces that markup (a deliberately wrong one for the control test).
   */
  async function openReactApp(query: string, ssr?: string): Promise<{ page: Page; watch: PageWatch; close: () => Promise<void> }> {
    const { context, page, watch } = await newPage(browser);
    await page.route(`${server.url}${APP_PATH}**`, async (route) => {
      const url = new URL(route.request().url());
      const rel = url.pathname.slice(APP_PATH.length) || 'index.html';
      let body = readFileSync(join(outDir, rel));
      if (rel === 'index.html') {
        const mode = url.searchParams.get('mode') ?? 'bubble';
        const markup = url.searchParams.has('hydrate') ? (ssr ?? renderToString(createElement(App, { mode }))) : '';
        body = Buffer.from(body.toString('utf8').replace('<!--app-html-->', markup));
      }
      await route.fulfill({ status: 200, body, headers: { 'Content-Type': MIME[extname(rel)] ?? 'application/octet-stream' } });
    });
    await page.goto(`${server.url}${APP_PATH}index.html${query}`);
    return { page, watch, close: () => context.close() };
  }

  const events = (page: Page) => page.evaluate(() => (window as unknown as { __events?: string[] }).__events ?? []);
  const widgetCount = (page: Page) => page.evaluate(() => document.querySelectorAll('codegpt-chat').length);
  /** Console errors and warnings, plus uncaught errors: what an integrator would see. */
  const problems = (watch: PageWatch) => [
    ...watch.errors,
    ...watch.console.filter((m) => m.type === 'error' || m.type === 'warning').map((m) => `${m.type}: ${m.text}`),
  ];

  async function ask(page: Page, question: string) {
    await page.locator('[part="input"]').fill(question);
    await page.keyboard.press('Enter');
    return lastAnswer(page);
  }

  it('React: mounts one widget, answers a question, and calls the event props', async () => {
    const { page, watch, close } = await openReactApp('');
    const reactPkg = join(process.env.REACT_DIR ?? join(root, 'node_modules'), 'react/package.json');
    expect(await page.evaluate(() => (window as unknown as { __reactVersion: string }).__reactVersion)).toBe(
      (JSON.parse(readFileSync(reactPkg, 'utf8')) as { version: string }).version,
    );
    await expect.poll(() => events(page)).toContain('ready');
    expect(await widgetCount(page)).toBe(1);
    // Bubble mode renders nothing in the React tree: the widget's element is the last child of body.
    expect(await page.evaluate(() => document.body.lastElementChild?.tagName)).toBe('CODEGPT-CHAT');
    expect(await page.locator('#root codegpt-chat').count()).toBe(0);
    await page.locator('[part="launcher"]').click();
    expect(await ask(page, 'Hello from React')).toEqual({ state: 'done', text: 'You said: Hello from React' });
    await expect.poll(() => events(page)).toEqual(['ready', 'open', 'send: Hello from React', 'answer@0: You said: Hello from React']);
    // The ref is a ChatWidget over the mounted instance.
    const viaRef = await page.evaluate(() => {
      const chat = (window as unknown as { __app: { chat: { current: { element: Element; messages: { content: string }[]; isOpen: boolean } } } }).__app.chat.current;
      return { same: chat.element === document.querySelector('codegpt-chat'), messages: chat.messages.map((m) => m.content), isOpen: chat.isOpen };
    });
    expect(viaRef).toEqual({ same: true, messages: ['Hello from React', 'You said: Hello from React'], isOpen: true });
    expect(problems(watch)).toEqual([]);
    await close();
  });

  it('React StrictMode: the double effect leaves exactly one working widget', async () => {
    const { page, watch, close } = await openReactApp('?strict');
    await expect.poll(() => events(page)).toContain('ready');
    // Let any second mount or late destroy land before counting.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
    expect(await widgetCount(page)).toBe(1);
    // The first instance was destroyed before its ready event: one ready, from the survivor.
    expect(await events(page)).toEqual(['ready']);
    await page.locator('[part="launcher"]').click();
    expect(await ask(page, 'strict')).toEqual({ state: 'done', text: 'You said: strict' });
    expect(await page.locator('[part="message user"]').count()).toBe(1);
    expect(problems(watch)).toEqual([]);
    await close();
  });

  it('React route change: unmounting mid-answer destroys the widget, with no error, and coming back mounts one again', async () => {
    const { page, watch, close } = await openReactApp('?strict&agent=mock-slow');
    // Leave while an answer streams: the request is aborted, nothing is left behind.
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill('one two three four five six seven eight nine ten');
    await page.keyboard.press('Enter');
    await page.locator('[data-state="streaming"]').waitFor();
    const held = await page.evaluateHandle(() => document.querySelector('codegpt-chat')!);
    await page.locator('#to-other').click();
    await page.locator('#other').waitFor();
    expect(await widgetCount(page)).toBe(0);
    expect(await held.evaluate((el) => el.isConnected)).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { __app: { chat: { current: unknown } } }).__app.chat.current)).toBeNull();
    // Late stream pieces or timers of the destroyed widget would surface now.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 400)));
    expect(await events(page)).not.toContainEqual(expect.stringMatching(/^error/));
    await page.locator('#to-chat').click();
    await expect.poll(() => widgetCount(page)).toBe(1);
    expect(problems(watch)).toEqual([]);
    await close();
  });

  it('React props: new handlers and equal options do not remount; a new agentId does, and the ref follows', async () => {
    const { page, watch, close } = await openReactApp('');
    await expect.poll(() => events(page)).toContain('ready');
    await page.evaluate(() => {
      (document.querySelector('codegpt-chat') as unknown as { __first: boolean }).__first = true;
      (window as unknown as { __app: { rerender(): void } }).__app.rerender();
    });
    await page.locator('[part="launcher"]').click();
    // The widget survived the re-render (same element), and the newest onAnswer closure was called.
    expect(await ask(page, 'after rerender')).toEqual({ state: 'done', text: 'You said: after rerender' });
    expect(await page.evaluate(() => (document.querySelector('codegpt-chat') as unknown as { __first?: boolean }).__first)).toBe(true);
    await expect.poll(() => events(page)).toContain('answer@1: You said: after rerender');
    // The token and completion requests went through the `fetch` prop of the latest render.
    const fetches = await page.evaluate(() => (window as unknown as { __fetches: string[] }).__fetches);
    expect(fetches.length).toBeGreaterThanOrEqual(2);
    expect(new Set(fetches)).toEqual(new Set(['fetch@1']));
    expect((await events(page)).filter((e) => e === 'ready')).toHaveLength(1);

    await page.evaluate(() => (window as unknown as { __app: { setAgent(a: string): void } }).__app.setAgent('mock-other'));
    await expect.poll(async () => (await events(page)).filter((e) => e === 'ready')).toHaveLength(2);
    const after = await page.evaluate(() => {
      const el = document.querySelectorAll('codegpt-chat');
      const ref = (window as unknown as { __app: { chat: { current: { element: Element } } } }).__app.chat.current;
      return { count: el.length, agent: el[0]?.getAttribute('data-codegpt-agent'), fresh: !(el[0] as unknown as { __first?: boolean }).__first, refFollows: ref.element === el[0] };
    });
    expect(after).toEqual({ count: 1, agent: 'mock-other', fresh: true, refFollows: true });
    expect(problems(watch)).toEqual([]);
    await close();
  });

  it('React inline mode: the widget fills the container div the component renders', async () => {
    const { page, watch, close } = await openReactApp('?mode=inline&strict');
    await page.locator('#root .chat-box > codegpt-chat [part="panel"]').waitFor();
    expect(await widgetCount(page)).toBe(1);
    expect(await page.locator('#root .chat-box').evaluate((el) => getComputedStyle(el).height)).toBe('420px');
    expect(await page.locator('[part="launcher"]').count()).toBe(0);
    expect(await ask(page, 'inline')).toEqual({ state: 'done', text: 'You said: inline' });
    expect(problems(watch)).toEqual([]);
    await close();
  });

  for (const mode of ['bubble', 'inline'] as const) {
    it(`React hydration (${mode}): the server-rendered markup hydrates without a mismatch`, async () => {
      const ssr = renderToString(createElement(App, { mode }));
      expect(ssr).toContain('<nav>');
      expect(ssr).not.toContain('codegpt-chat');
      const { page, watch, close } = await openReactApp(`?hydrate&strict&mode=${mode}`);
      await expect.poll(() => events(page)).toContain('ready');
      expect(await widgetCount(page)).toBe(1);
      if (mode === 'inline') expect(await page.locator('#root .chat-box > codegpt-chat').count()).toBe(1);
      // Hydration kept the server's nodes (no client re-render of the root).
      expect(await page.evaluate(() => document.querySelector('#root > .app') !== null)).toBe(true);
      expect(problems(watch)).toEqual([]);
      await close();
    });
  }

  it('control: markup that does not match the App is reported, so the hydration checks above can fail', async () => {
    const { page, watch, close } = await openReactApp('?hydrate', '<div class="app"><p>not what the client renders</p></div>');
    await expect.poll(() => events(page)).toContain('ready');
    expect(problems(watch).join('\n')).toMatch(/hydrat/i);
    await close();
  });

  it('Vue 3: <codegpt-chat> in a template renders, answers, updates its title, and is destroyed by v-if', async () => {
    const { context, page, watch } = await newPage(browser);
    await page.route(`${server.url}/vendor/vue.global.js`, (route) =>
      route.fulfill({ path: join(root, 'node_modules/vue/dist/vue.global.js'), headers: { 'Content-Type': 'text/javascript' } }),
    );
    await page.goto(`${server.url}/fixtures/vue.html`);
    await page.locator('codegpt-chat [part="panel"]').waitFor();
    expect(await ask(page, 'Hello from Vue')).toEqual({ state: 'done', text: 'You said: Hello from Vue' });
    // The DOM event reached the Vue listener (`@codegpt:answer`).
    await expect.poll(() => page.locator('#answers li').allTextContents()).toEqual(['You said: Hello from Vue']);
    // A reactive attribute updates the live element without remounting it.
    await page.evaluate(() => ((window as unknown as { __vue: { title: string } }).__vue.title = 'Renamed'));
    await expect.poll(() => page.locator('[part="title"]').textContent()).toBe('Renamed');
    expect(await page.locator('[part="message user"]').count()).toBe(1);

    const held = await page.evaluateHandle(() => document.querySelector('codegpt-chat')!);
    await page.locator('#toggle').click();
    await expect.poll(() => page.evaluate(() => document.querySelectorAll('codegpt-chat').length)).toBe(0);
    // Destroyed, not just detached: the instance is gone and its shadow tree is empty.
    await expect
      .poll(() => held.evaluate((el) => ({ element: (el as unknown as { element: unknown }).element, parts: el.shadowRoot!.querySelectorAll('[part]').length })))
      .toEqual({ element: null, parts: 0 });
    await page.locator('#toggle').click();
    await page.locator('codegpt-chat [part="panel"]').waitFor();
    expect(await page.evaluate(() => document.querySelectorAll('codegpt-chat').length)).toBe(1);
    // Vue's development build warns about unresolved components and bad props: none expected.
    expect(problems(watch)).toEqual([]);
    await context.close();
  });
});
