/**
 * Hardening suite, section E of reliability.md: hostile host pages, in real Chromium against
 * dist/codegpt-widget.iife.js and, for mount()/SPA cases, the ESM build dist/codegpt-widget.js
 * (imported in the page). Every test also checks E13: no uncaught error and no unhandled rejection
 * reaches the host page.
 *
 * Not here: E10 on real WebKit/iOS (Chromium's mobile emulation stands in: layout, scroll and font
 * size are checked, the iOS focus zoom itself cannot be), firefox/webkit in general (not installable
 * here), and the loader-stub half of E12 (the widget ships no separate loader).
 */
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { en } from '../../widget/core/strings';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage, type PageWatch } from './helpers/browser';
import { installHarness, syntheticRequests } from './helpers/harness';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

const require = createRequire(import.meta.url);

/** E13: nothing reached the host page. */
function expectContained(watch: PageWatch): void {
  expect(watch.errors).toEqual([]);
  expect(watch.console.filter((m) => m.text.includes('UNHANDLED REJECTION'))).toEqual([]);
}

async function ask(page: Page, text: string): Promise<void> {
  await page.locator('[part="input"]').fill(text);
  await page.keyboard.press('Enter');
}

/** Where `document.elementFromPoint` lands at the centre of `selector` (inside the shadow root). */
function hitAtCentre(page: Page, selector: string): Promise<string> {
  return page.evaluate((sel) => {
    const host = document.querySelector('codegpt-chat')!;
    const el = host.shadowRoot!.querySelector(sel)!;
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    const outer = document.elementFromPoint(x, y);
    if (outer !== host) return `covered by <${outer?.localName ?? 'nothing'}>`;
    const inner = host.shadowRoot!.elementFromPoint(x, y);
    return inner && (inner === el || el.contains(inner)) ? 'hit' : `covered inside by <${inner?.localName ?? 'nothing'}>`;
  }, selector);
}

/**
 * Pixel comparison of two PNG screenshots, decoded by the browser (no PNG decoder in node_modules):
 * the number of pixels whose RGBA differ, or -1 when the sizes differ.
 */
function pixelDiff(page: Page, a: Buffer, b: Buffer): Promise<number> {
  return page.evaluate(
    async ([x, y]) => {
      const decode = async (b64: string) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      };
      const [p, q] = await Promise.all([decode(x), decode(y)]);
      if (p.width !== q.width || p.height !== q.height) return -1;
      let differing = 0;
      for (let i = 0; i < p.data.length; i += 4) {
        if (p.data[i] !== q.data[i] || p.data[i + 1] !== q.data[i + 1] || p.data[i + 2] !== q.data[i + 2] || p.data[i + 3] !== q.data[i + 3]) differing++;
      }
      return differing;
    },
    [a.toString('base64'), b.toString('base64')] as const,
  );
}

describeBrowser('hardening E: hostile host pages in Chromium', () => {
  let server: Server;
  let browser: Browser;
  let keys = 0;
  const newKey = () => `host-${++keys}`;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDemoServer({ port: 0 }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('E1: under aggressive host CSS the launcher, the open panel and a rendered answer are pixel-identical to a clean page', async () => {
    const attrs = {
      'agent-id': 'mock-e1',
      'token-endpoint': `/dev/token?key=${newKey()}`,
      persist: 'none',
      title: 'Help centre',
      welcome: 'Welcome! Ask me anything about the product.',
      suggestions: 'How do I install it?|Is it safe under CSP?',
    };
    const shots: Record<string, Buffer[]> = { launcher: [], panel: [], answer: [] };
    let diffPage: Page | undefined;
    const envs: { context: BrowserContext; watch: PageWatch }[] = [];
    for (const fixture of ['/fixtures/blank.html', '/fixtures/hostile.html']) {
      const { page, context, watch } = await newPage(browser, { viewport: { width: 1000, height: 800 } });
      envs.push({ context, watch });
      diffPage = page;
      await loadWidget(page, server.url, attrs, fixture);
      // The hostile stylesheet really applies to the page.
      if (fixture.includes('hostile')) expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe('rtl');
      const options = { animations: 'disabled', caret: 'hide' } as const;
      shots.launcher!.push(await page.locator('[part="launcher"]').screenshot(options));
      await page.locator('[part="launcher"]').click();
      await page.locator('[part="panel"]').waitFor();
      await page.mouse.move(0, 0);
      shots.panel!.push(await page.locator('[part="panel"]').screenshot(options));
      await ask(page, 'Styles?\n\n# Heading\n\n**Bold**, `code` and a [link](https://example.com)\n\n- one\n- two\n\n```js\nconst x = 1;\n```');
      expect((await lastAnswer(page)).state).toBe('done');
      await page.mouse.move(0, 0);
      shots.answer!.push(await page.locator('[part="panel"]').screenshot(options));
    }
    // The host element itself is still there and visible on the hostile page.
    for (const [stage, [clean, hostile]] of Object.entries(shots)) {
      expect(clean!.length, stage).toBeGreaterThan(500);
      if (!clean!.equals(hostile!)) expect(await pixelDiff(diffPage!, clean!, hostile!), `${stage}: differing pixels`).toBe(0);
    }
    for (const { context, watch } of envs) {
      expectContained(watch);
      await context.close();
    }
  });

  it('E2: with a transformed app root and a fixed z-index 2147483647 header, the launcher and the panel are on top and clickable', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await loadWidget(page, server.url, { 'agent-id': 'mock-e2', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none' }, '/fixtures/overlay-host.html');
    // The hostile layout is really there: the header is on top of the page, the app root is transformed.
    expect(await page.evaluate(() => document.elementFromPoint(640, 30)?.localName)).toBe('header');
    expect(await page.evaluate(() => getComputedStyle(document.getElementById('app')!).transform)).not.toBe('none');
    expect(await hitAtCentre(page, '[part="launcher"]')).toBe('hit');
    // Mounted at the end of body, outside the transformed root (inside it, `fixed` would follow the root).
    expect(await page.evaluate(() => document.body.lastElementChild?.localName)).toBe('codegpt-chat');
    await page.locator('[part="launcher"]').click();
    for (const part of ['[part="close"]', '[part="input"]', '[part="log"]']) expect(await hitAtCentre(page, part), part).toBe('hit');
    await ask(page, 'On top?');
    expect((await lastAnswer(page)).text).toBe('You said: On top?');
    await page.locator('[part="close"]').click();
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('false');
    expectContained(watch);
    await context.close();
  });

  it('E2: on a short viewport the open panel is above the max z-index header (Popover top layer); closed, it leaves the top layer', async () => {
    const { page, context, watch } = await newPage(browser, { viewport: { width: 1280, height: 600 } });
    await loadWidget(page, server.url, { 'agent-id': 'mock-e2', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none', open: 'true' }, '/fixtures/overlay-host.html');
    await page.locator('[part="panel"]').waitFor();
    // Issue 5: the open panel sits above any host z-index, through the browser's top layer.
    expect(await page.evaluate(() => document.querySelector('codegpt-chat')!.matches(':popover-open'))).toBe(true);
    for (const part of ['[part="close"]', '[part="launcher"]', '[part="input"]']) expect(await hitAtCentre(page, part), part).toBe('hit');
    await page.locator('[part="close"]').click();
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('false');
    expect(await page.evaluate(() => document.querySelector('codegpt-chat')!.matches(':popover-open'))).toBe(false);
    expectContained(watch);
    await context.close();
  });

  it('E3: a modal <dialog> opened by the host makes the open widget inert without errors; it recovers when the dialog closes', async () => {
    const { page, context, watch } = await newPage(browser);
    await loadWidget(page, server.url, { 'agent-id': 'mock-e3', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none', open: 'true' });
    await page.locator('[part="panel"]').waitFor();
    await page.evaluate(() => {
      const d = document.createElement('dialog');
      d.innerHTML = '<p>Cookie consent</p><button id="ok">OK</button>';
      document.body.appendChild(d);
      d.showModal();
    });
    const box = (await page.locator('[part="close"]').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('true');
    const focusable = await page.evaluate(() => {
      const input = document.querySelector('codegpt-chat')!.shadowRoot!.querySelector<HTMLTextAreaElement>('[part="input"]')!;
      input.focus();
      return document.activeElement?.localName;
    });
    expect(focusable).not.toBe('codegpt-chat');
    await page.evaluate(() => document.querySelector('dialog')!.close());
    await ask(page, 'After the dialog');
    expect((await lastAnswer(page)).text).toBe('You said: After the dialog');
    await page.locator('[part="close"]').click();
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('false');
    expectContained(watch);
    await context.close();
  });

  it('E4: a host fetch wrapper that buffers, and zone-like wrappers of setTimeout and Promise, installed before load: the widget still answers', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.addInitScript(() => {
      const w = window as unknown as Record<string, unknown> & { __calls: Record<string, number> };
      w.__calls = { fetch: 0, setTimeout: 0, then: 0 };
      const nativeFetch = window.fetch;
      window.fetch = async function buffering(...args: Parameters<typeof fetch>) {
        w.__calls.fetch!++;
        const r = await nativeFetch.apply(window, args);
        const body = await r.arrayBuffer(); // a wrapper that reads everything first (like a logging proxy)
        return new Response(body, { status: r.status, statusText: r.statusText, headers: r.headers });
      };
      const nativeSetTimeout = window.setTimeout;
      window.setTimeout = function wrapped(this: unknown, ...args: Parameters<typeof setTimeout>) {
        w.__calls.setTimeout!++;
        return nativeSetTimeout.apply(window, args);
      } as typeof setTimeout;
      const NativePromise = window.Promise;
      class ZonePromise<T> extends NativePromise<T> {
        override then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, ko?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
          w.__calls.then!++;
          return super.then(ok, ko);
        }
      }
      window.Promise = ZonePromise as unknown as PromiseConstructor;
    });
    await loadWidget(page, server.url, { 'agent-id': 'mock-slow', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none' });
    await page.locator('[part="launcher"]').click();
    await ask(page, 'Through the wrappers');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Through the wrappers' });
    const calls = await page.evaluate(() => (window as unknown as { __calls: Record<string, number> }).__calls);
    expect(calls.fetch).toBe(2); // token + completion went through the host's wrapper (it was there first)
    console.info(`[E4] host wrapper calls during one answer: ${JSON.stringify(calls)}`);
    expectContained(watch);
    await context.close();
  });

  it('E4: a looping fetch wrapper and a broken setTimeout installed after load do not reach the widget (natives captured at load)', async () => {
    const { page, context, watch } = await newPage(browser);
    await loadWidget(page, server.url, {});
    await page.evaluate(() => {
      // A wrapper that calls itself (a classic double-patching bug): every call recurses until the stack overflows.
      window.fetch = function looping(...args: Parameters<typeof fetch>) {
        return window.fetch(...args);
      };
      window.setTimeout = (() => {
        throw new Error('host timers are broken');
      }) as unknown as typeof setTimeout;
      const g = window as unknown as { CodeGPTWidget: { mount(o: unknown): unknown } };
      g.CodeGPTWidget.mount({ agentId: 'mock-e4', tokenEndpoint: '/dev/token?key=e4-late', persist: 'none', open: true });
    });
    await ask(page, 'Natives please');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Natives please' });
    await page.locator('[part="close"]').click();
    await page.locator('[part="launcher"]').click();
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('true');
    expectContained(watch);
    await context.close();
  });

  it('E7: exactly one new global, no change to built-in prototypes, and a pre-existing global is merged, not clobbered', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.addInitScript(() => {
      const names = ['Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'Function', 'Promise', 'RegExp', 'Date', 'Map', 'Set', 'WeakMap', 'Error', 'JSON', 'Math', 'Reflect',
        'EventTarget', 'Node', 'Element', 'HTMLElement', 'Document', 'ShadowRoot', 'CSSStyleSheet', 'CustomElementRegistry', 'Response', 'Request', 'Headers', 'ReadableStream', 'TextDecoder', 'AbortController', 'AbortSignal', 'URL'];
      const snapshot = new Map<string, Map<string | symbol, PropertyDescriptor>>();
      const own = (o: object) => new Map(Reflect.ownKeys(o).map((k) => [k, Object.getOwnPropertyDescriptor(o, k)!]));
      for (const name of names) {
        const ctor = (window as unknown as Record<string, object>)[name]!;
        snapshot.set(name, own(ctor));
        const proto = (ctor as { prototype?: object }).prototype;
        if (proto) snapshot.set(`${name}.prototype`, own(proto));
      }
      const w = window as unknown as Record<string, unknown>;
      w.__protoSnapshot = snapshot;
      w.CodeGPTWidget = { custom: 'kept', q: [['mount', { agentId: 'mock-e7', tokenEndpoint: '/dev/token?key=e7', persist: 'none' }]] };
      w.__existing = w.CodeGPTWidget;
      w.__globalsBefore = Object.getOwnPropertyNames(window);
    });
    await loadWidget(page, server.url, {});
    await page.locator('[part="launcher"]').click();
    await ask(page, 'Globals?');
    expect((await lastAnswer(page)).state).toBe('done');
    const changes = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      const snapshot = w.__protoSnapshot as Map<string, Map<string | symbol, PropertyDescriptor>>;
      const out: string[] = [];
      for (const [name, before] of snapshot) {
        const target = name.endsWith('.prototype') ? (w[name.slice(0, -10)] as { prototype: object }).prototype : (w[name] as object);
        const after = Reflect.ownKeys(target);
        if (after.length !== before.size) out.push(`${name}: ${before.size} → ${after.length} own properties`);
        for (const key of after) {
          const was = before.get(key);
          const now = Object.getOwnPropertyDescriptor(target, key)!;
          if (!was) out.push(`${name}.${String(key)} added`);
          else if (!Object.is(was.value, now.value) || was.get !== now.get || was.set !== now.set || was.writable !== now.writable || was.enumerable !== now.enumerable || was.configurable !== now.configurable) {
            out.push(`${name}.${String(key)} changed`);
          }
        }
      }
      const before = w.__globalsBefore as string[];
      const api = w.CodeGPTWidget as Record<string, unknown>;
      return {
        out,
        newGlobals: Object.getOwnPropertyNames(window).filter((n) => !before.includes(n) && !n.startsWith('__')),
        same: api === w.__existing,
        custom: api.custom,
        mount: typeof api.mount,
        queueDrained: Array.isArray(api.q) ? api.q.length : 'none',
      };
    });
    expect(changes).toEqual({ out: [], newGlobals: [], same: true, custom: 'kept', mount: 'function', queueDrained: 0 });
    expectContained(watch);
    await context.close();
  });

  it('E7: without a pre-existing global, loading adds exactly one: CodeGPTWidget', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.goto(`${server.url}/fixtures/blank.html`);
    const before = await page.evaluate(() => Object.getOwnPropertyNames(window));
    await loadWidget(page, server.url, { 'agent-id': 'mock-e7b', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none' });
    await page.locator('[part="launcher"]').click();
    await ask(page, 'One global?');
    expect((await lastAnswer(page)).state).toBe('done');
    const after = await page.evaluate(() => Object.getOwnPropertyNames(window));
    expect(after.filter((n) => !before.includes(n))).toEqual(['CodeGPTWidget']);
    expectContained(watch);
    await context.close();
  });

  it('E7: the script included twice mounts one launcher and does not break', async () => {
    const { page, context, watch } = await newPage(browser);
    const attrs = { 'agent-id': 'mock-twice', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none' };
    await loadWidget(page, server.url, attrs);
    await page.locator('[part="launcher"]').waitFor();
    await page.evaluate((a) => {
      const s = document.createElement('script');
      s.src = '/dist/codegpt-widget.iife.js';
      for (const [k, v] of Object.entries(a)) s.setAttribute(`data-${k}`, v);
      document.head.appendChild(s);
      return new Promise((resolve) => (s.onload = resolve));
    }, attrs);
    expect(await page.locator('codegpt-chat').count()).toBe(1);
    await page.locator('[part="launcher"]').click();
    await ask(page, 'Twice?');
    expect((await lastAnswer(page)).text).toBe('You said: Twice?');
    expectContained(watch);
    await context.close();
  });

  it('E8: SPA (ESM build): mount, chat and destroy 100 times leaks no listeners, timers, observers, nodes or fetches', async () => {
    const { page, context, watch } = await newPage(browser);
    await installHarness(page);
    await page.addInitScript(() => {
      const w = window as unknown as Record<string, unknown>;
      const longLived = () => [window, document, document.documentElement, document.body, document.head];
      const listeners = new Set<string>();
      const ids = new WeakMap<object, number>();
      let next = 0;
      const id = (o: object) => (ids.has(o) ? ids.get(o)! : (ids.set(o, ++next), next));
      const key = (t: object, type: string, fn: unknown, opts: unknown) =>
        `${id(t)}|${type}|${fn && typeof fn === 'object' ? id(fn) : typeof fn === 'function' ? id(fn) : 0}|${typeof opts === 'boolean' ? opts : !!(opts as { capture?: boolean } | undefined)?.capture}`;
      const add = EventTarget.prototype.addEventListener;
      const remove = EventTarget.prototype.removeEventListener;
      EventTarget.prototype.addEventListener = function (this: EventTarget, type: string, fn: unknown, opts?: unknown) {
        if (longLived().includes(this as never) && fn) listeners.add(key(this, type, fn, opts));
        return add.call(this, type, fn as EventListener, opts as AddEventListenerOptions);
      };
      EventTarget.prototype.removeEventListener = function (this: EventTarget, type: string, fn: unknown, opts?: unknown) {
        if (fn) listeners.delete(key(this, type, fn, opts));
        return remove.call(this, type, fn as EventListener, opts as EventListenerOptions);
      };
      const timers = new Set<number>();
      const intervals = new Set<number>();
      const frames = new Set<number>();
      const st = window.setTimeout;
      const ct = window.clearTimeout;
      window.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
        const t = st(() => {
          timers.delete(t);
          (fn as (...a: unknown[]) => void)(...rest);
        }, ms);
        timers.add(t);
        return t;
      }) as typeof setTimeout;
      window.clearTimeout = ((t: number) => {
        timers.delete(t);
        ct(t);
      }) as typeof clearTimeout;
      const si = window.setInterval;
      const ci = window.clearInterval;
      window.setInterval = ((fn: () => void, ms?: number) => {
        const t = si(fn, ms);
        intervals.add(t);
        return t;
      }) as typeof setInterval;
      window.clearInterval = ((t: number) => {
        intervals.delete(t);
        ci(t);
      }) as typeof clearInterval;
      const raf = window.requestAnimationFrame;
      const caf = window.cancelAnimationFrame;
      window.requestAnimationFrame = (fn) => {
        const f = raf((t) => {
          frames.delete(f);
          fn(t);
        });
        frames.add(f);
        return f;
      };
      window.cancelAnimationFrame = (f) => {
        frames.delete(f);
        caf(f);
      };
      const observing = new Set<object>();
      for (const name of ['MutationObserver', 'ResizeObserver', 'IntersectionObserver'] as const) {
        const proto = (window as unknown as Record<string, { prototype: { observe(...a: unknown[]): void; disconnect(): void } }>)[name]!.prototype;
        const observe = proto.observe;
        const disconnect = proto.disconnect;
        proto.observe = function (this: object, ...a: unknown[]) {
          observing.add(this);
          return observe.apply(this, a);
        };
        proto.disconnect = function (this: object) {
          observing.delete(this);
          return disconnect.call(this);
        };
      }
      w.__leaks = () => ({
        listeners: listeners.size,
        timers: timers.size,
        intervals: intervals.size,
        frames: frames.size,
        observers: observing.size,
        nodes: document.getElementsByTagName('*').length,
        hosts: document.querySelectorAll('codegpt-chat').length,
      });
    });
    await page.goto(`${server.url}/fixtures/blank.html`);
    // The ESM build, imported as an SPA would (a module script; page.evaluate cannot import()).
    await page.addScriptTag({ type: 'module', content: "import * as widget from '/dist/codegpt-widget.js'; window.__esm = widget;" });
    await page.waitForFunction(() => !!(window as { __esm?: unknown }).__esm);
    expect(await page.evaluate(() => typeof (window as { CodeGPTWidget?: unknown }).CodeGPTWidget)).toBe('undefined');
    const result = await page.evaluate(async () => {
      type Widget = { open(): void; send(t: string): Promise<void>; destroy(): void; on(e: string, f: () => void): () => void };
      const mod = (window as unknown as { __esm: { mount(o: unknown): Widget } }).__esm;
      const w = window as unknown as {
        __leaks(): Record<string, number>;
        __hx: { fetch: unknown; getToken: unknown; queue: (() => Response)[]; sse(c: string[], o?: unknown): Response };
      };
      const settle = () => new Promise((r) => setTimeout(r, 50));
      await settle();
      const baseline = w.__leaks();
      let afterTen: Record<string, number> = {};
      let whileMounted: Record<string, number> = {};
      const main = document.querySelector('main')!;
      for (let i = 0; i < 100; i++) {
        const inline = i % 2 === 1;
        const widget = mod.mount({
          agentId: `spa-${i % 3}`,
          getToken: w.__hx.getToken,
          fetch: w.__hx.fetch,
          persist: i % 4 === 0 ? 'session' : 'none',
          ...(inline ? { mode: 'inline', target: main } : {}),
        });
        widget.on('answer', () => {});
        widget.open();
        if (i === 0) whileMounted = w.__leaks();
        // Every third chat is cut by the router mid-stream; the others finish first.
        const midStream = i % 3 === 0;
        w.__hx.queue.push(() => w.__hx.sse(['route ', `${i}`], midStream ? { end: 'stall' } : {}));
        const sent = widget.send(`question ${i}`);
        if (midStream) await new Promise((r) => setTimeout(r, 5));
        else await sent;
        widget.destroy();
        await sent;
        if (i === 9) {
          await settle();
          afterTen = w.__leaks();
        }
      }
      await settle();
      return { baseline, whileMounted, afterTen, afterHundred: w.__leaks() };
    });
    // The counters do see the widget: a mounted widget has listeners on window/document and nodes.
    expect(result.whileMounted.listeners).toBeGreaterThan(result.baseline.listeners!);
    expect(result.whileMounted.hosts).toBe(1);
    expect(result.afterHundred).toEqual(result.baseline);
    expect(result.afterTen).toEqual(result.baseline);
    const requests = await syntheticRequests(page);
    expect(requests).toHaveLength(100);
    // Every chat cut mid-stream was aborted: no orphaned fetch.
    const cut = requests.filter((_, i) => i % 3 === 0);
    expect(cut.every((r) => r.aborted)).toBe(true);
    expectContained(watch);
    await context.close();
  });

  it('E9: two instances with different agents keep separate conversations, storage and tokens', async () => {
    const { page, context, watch } = await newPage(browser);
    const tokenRequests: string[] = [];
    const authOf = new Map<string, string[]>();
    page.on('request', (r) => {
      if (r.method() !== 'POST') return;
      const agent = (JSON.parse(r.postData() ?? '{}') as { agentId: string }).agentId;
      if (r.url().includes('/dev/token')) tokenRequests.push(agent);
      if (r.url().includes('/chat/completions')) authOf.set(agent, [...(authOf.get(agent) ?? []), r.headers().authorization ?? '']);
    });
    await loadWidget(page, server.url, {});
    const key = newKey();
    await page.evaluate((endpoint) => {
      const g = (window as unknown as { CodeGPTWidget: { mount(o: unknown): unknown } }).CodeGPTWidget;
      const w = window as unknown as Record<string, unknown>;
      for (const name of ['a', 'b']) {
        const box = document.body.appendChild(document.createElement('section'));
        box.id = `box-${name}`;
        w[`__w${name}`] = g.mount({ agentId: `mock-e9${name}`, tokenEndpoint: endpoint, mode: 'inline', target: box, persist: 'session' });
      }
    }, `/dev/token?key=${key}`);
    const inBox = (name: string, selector: string) => page.locator(`#box-${name} ${selector}`);
    for (const [name, question] of [['a', 'Question for A'], ['b', 'Question for B'], ['a', 'Second for A']] as const) {
      await inBox(name, '[part="input"]').fill(question);
      await inBox(name, '[part="input"]').press('Enter');
      await expect.poll(() => inBox(name, `[part~="assistant"][data-state="done"]`).filter({ hasText: question }).count()).toBe(1);
    }
    expect(await inBox('a', '[part~="user"]').allTextContents()).toEqual([expect.stringContaining('Question for A'), expect.stringContaining('Second for A')]);
    expect(await inBox('b', '[part~="user"]').allTextContents()).toEqual([expect.stringContaining('Question for B')]);
    // One token request per agent, each agent always using its own token.
    expect(server.devToken.calls(key)).toBe(2);
    expect(tokenRequests.sort()).toEqual(['mock-e9a', 'mock-e9b']);
    const [a1, a2] = authOf.get('mock-e9a')!;
    const [b1] = authOf.get('mock-e9b')!;
    expect(a1).toMatch(/^Bearer sk-dev-/);
    expect(b1).toMatch(/^Bearer sk-dev-/);
    expect(a2).toBe(a1);
    expect(b1).not.toBe(a1);
    const stored = await page.evaluate(() => Object.keys(sessionStorage).sort());
    expect(stored).toEqual(['codegpt-widget:v1:mock-e9a', 'codegpt-widget:v1:mock-e9b']);
    expectContained(watch);
    await context.close();
  });

  /** A 320×568 touch phone (WebKit cannot be installed here; Chromium's mobile emulation stands in). */
  async function phone(extra: Record<string, string> = {}) {
    const env = await newPage(browser, { viewport: { width: 320, height: 568 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await loadWidget(env.page, server.url, { 'agent-id': 'mock-e10', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none', ...extra }, '/fixtures/long.html');
    await env.page.evaluate(() => window.scrollTo(0, 700));
    return env;
  }

  it('E10: mobile 320×568: the panel opens full-screen, the page behind does not scroll, and its scroll position is restored exactly on close', async () => {
    const { page, context, watch } = await phone();
    await page.locator('[part="launcher"]').tap();
    expect(await page.locator('[part="panel"]').boundingBox()).toEqual({ x: 0, y: 0, width: 320, height: 568 });
    await ask(page, 'Small screen');
    expect((await lastAnswer(page)).state).toBe('done');
    // A wheel over the panel (header and log) does not scroll the page behind it.
    for (const part of ['header', 'log']) {
      const box = (await page.locator(`[part="${part}"]`).boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.wheel(0, 400);
      await page.waitForTimeout(150);
      expect(await page.evaluate(() => window.scrollY), `scrollY after a wheel over the ${part}`).toBe(700);
    }
    await page.locator('[part="close"]').tap();
    expect(await page.evaluate(() => window.scrollY)).toBe(700);
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('false');
    expectContained(watch);
    await context.close();
  });

  // styles.css: below 640 px the text box uses max(16px, 1em), so iOS Safari does not zoom in on focus.
  it('E10: mobile 320×568: the text box is at least 16 px, so iOS does not zoom in on focus', async () => {
    const { page, context, watch } = await phone({ open: 'true' });
    const fontSize = await page.locator('[part="input"]').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(fontSize, 'input font size on a phone (iOS zooms below 16 px)').toBeGreaterThanOrEqual(16);
    expectContained(watch);
    await context.close();
  });

  it('E11: with <base href="https://evil.test/"> every request goes to the configured URLs and links resolve against the page', async () => {
    const { page, context, watch } = await newPage(browser);
    const evil: string[] = [];
    await context.route(/evil\.test/, (route) => {
      evil.push(route.request().url());
      return route.abort();
    });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${server.url}/fixtures/base-evil.html`);
    await page.evaluate((key) => {
      const s = document.createElement('script');
      s.src = `${location.origin}/dist/codegpt-widget.iife.js`;
      s.setAttribute('data-agent-id', 'mock-e11');
      s.setAttribute('data-token-endpoint', `/dev/token?key=${key}`);
      s.setAttribute('data-persist', 'none');
      document.head.appendChild(s);
    }, newKey());
    await page.locator('[part="launcher"]').click();
    await ask(page, 'See [the docs](/docs/page) and ![a picture](/pic.png)');
    expect((await lastAnswer(page)).state).toBe('done');
    expect(await page.locator('[part="content"] a').first().getAttribute('href')).toBe(`${server.url}/docs/page`);
    expect(evil).toEqual([]);
    expect(requests.filter((u) => u.includes('evil.test'))).toEqual([]);
    expect(requests.filter((u) => /dev\/token|chat\/completions/.test(u)).every((u) => u.startsWith(server.url))).toBe(true);
    expectContained(watch);
    await context.close();
  });

  it('E12: an ad blocker blocking the token request: a readable error, the host page unaffected, no console loop', async () => {
    const { page, context, watch } = await newPage(browser);
    let blocked = 0;
    await page.route('**/dev/token**', (route) => {
      blocked++;
      return route.abort('blockedbyclient');
    });
    await loadWidget(page, server.url, { 'agent-id': 'mock-e12', 'token-endpoint': '/dev/token?key=e12', persist: 'none' });
    await page.locator('[part="launcher"]').click();
    await ask(page, 'Blocked?');
    await page.locator('[part="error"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[part="error"]').textContent()).toContain(en.errors.network);
    const logged = watch.console.length;
    await page.waitForTimeout(2_000);
    expect(watch.console.length).toBe(logged); // nothing more once the error is shown
    expect(blocked).toBeLessThanOrEqual(3);
    expect(await page.locator('main h1').textContent()).toBe('Host page');
    expectContained(watch);
    await context.close();
  });

  it('E12: an ad blocker blocking the widget script: no global, no error, the host page unaffected', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.route('**/dist/codegpt-widget.iife.js', (route) => route.abort('blockedbyclient'));
    await page.goto(`${server.url}/fixtures/blank.html`);
    const before = await page.evaluate(() => document.body.innerHTML);
    const outcome = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const s = document.createElement('script');
          s.src = '/dist/codegpt-widget.iife.js';
          s.setAttribute('data-agent-id', 'mock-e12');
          s.onload = () => resolve('load');
          s.onerror = () => resolve('error');
          document.head.appendChild(s);
        }),
    );
    expect(outcome).toBe('error');
    expect(await page.evaluate(() => typeof (window as { CodeGPTWidget?: unknown }).CodeGPTWidget)).toBe('undefined');
    expect(await page.evaluate(() => document.body.innerHTML)).toBe(before);
    expectContained(watch);
    await context.close();
  });

  it('E14: axe-core (WCAG 2.x A/AA) finds no violations on the launcher, open panel, streaming and error states, light and dark', async () => {
    const axeSource = require.resolve('axe-core/axe.min.js');
    const results: Record<string, string[]> = {};
    for (const theme of ['light', 'dark']) {
      const { page, context, watch } = await newPage(browser, { colorScheme: theme as 'light' | 'dark' });
      let fail = false;
      await page.route('**/chat/completions', (route) =>
        fail ? route.fulfill({ status: 500, contentType: 'application/json', body: '{"detail":"boom"}' }) : route.continue(),
      );
      await loadWidget(page, server.url, { 'agent-id': 'mock-slow', 'token-endpoint': `/dev/token?key=${newKey()}`, persist: 'none', theme, welcome: 'Hello!', suggestions: 'First question|Second question' });
      await page.addScriptTag({ path: axeSource });
      const audit = async (state: string) => {
        const found = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }).axe;
          const r = await axe.run({ include: [['codegpt-chat']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return r.violations.map((v) => `${v.id} (${v.nodes.length})`);
        });
        results[`${theme}/${state}`] = found;
      };
      await audit('launcher');
      await page.locator('[part="launcher"]').click();
      await audit('open');
      await ask(page, 'one two three four five six seven eight');
      await page.locator('[data-state="streaming"] [part="content"]').waitFor();
      expect(await page.locator('[data-state="streaming"]').getAttribute('aria-busy')).toBe('true');
      // The live region stays empty while streaming: the answer is announced once, when complete.
      expect(await page.locator('[role="status"][aria-live="polite"]').textContent()).toBe('');
      await audit('streaming');
      await lastAnswer(page);
      expect(await page.locator('[role="status"][aria-live="polite"]').textContent()).toBe('You said: one two three four five six seven eight');
      fail = true;
      await ask(page, 'Fail now');
      await page.locator('[part="error"]').waitFor({ timeout: 10_000 });
      await audit('error');
      expectContained(watch);
      await context.close();
    }
    expect(results).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, []])));
    expect(Object.keys(results)).toHaveLength(8);
  });
});
