/**
 * Visitor-facing features in real Chromium, against the built script-tag bundle
 * (dist/codegpt-widget.iife.js) and the demo server's mock agent (`mock-*` answers "You said: <question>"):
 *
 * 1. Languages: packs loaded on demand from dist/locales/<lang>.js, the browser's language,
 *    right-to-left layout, `strings` overrides, a live `locale` attribute, a strict nonce CSP.
 * 2. Answer controls: copy the answer's markdown, thumbs up/down with `feedback` events, clear.
 * 3. Privacy: no storage before the visitor interacts; conversations scoped by `userId`; reset().
 * 4. Continuity across pages: open state, draft and conversation; an answer cut by a navigation.
 * 5. Embed modes: <codegpt-chat> in HTML with live attributes, defineElement(), inline mode, two
 *    independent instances on one page.
 *
 * Fixtures: test/fixtures/pages/visitors-a-*.html. Every context pins its locale (en-US unless the
 * test is about the browser's language).
 *
 * These tests found three widget bugs, now fixed: a language pack arriving after mount was never
 * shown and the open state/draft were never stored (terser's `pure_getters` dropped the bare signal
 * reads that subscribe a computed/effect), and loading a pack under Trusted Types threw into the page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage } from './helpers/browser';

type Server = Awaited<ReturnType<typeof startDemoServer>>;
type Env = Awaited<ReturnType<typeof newPage>>;

/** The page-side globals the tests use. */
interface W {
  CodeGPTWidget: {
    mount(o: Record<string, unknown>): {
      messages: { id: string; role: string; content: string; state: string }[];
      reset(): void;
      destroy(): void;
      on(event: string, fn: (detail: unknown) => void): () => void;
      element: HTMLElement | null;
    };
    defineElement(tag?: string): void;
  };
  __w: ReturnType<W['CodeGPTWidget']['mount']>;
  __events: { type: string; detail: unknown; bubbles: boolean; composed: boolean; target: string }[];
  __onFeedback: unknown[];
  __violations: string[];
}

const STORAGE_PREFIX = 'codegpt-widget:';
/** How long a language pack may take to arrive and show. */
const PACK_WAIT = { timeout: 5000 };

describeBrowser('visitors A: languages, answer controls, privacy, continuity, embed modes (Chromium)', () => {
  let server: Server;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDemoServer({ port: 0 }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  // ---------------------------------------------------------------------------------------------
  // helpers

  /** A fresh context in en-US unless told otherwise. */
  const open = (options: Parameters<typeof newPage>[1] = {}): Promise<Env> => newPage(browser, { locale: 'en-US', ...options });

  /** Loads the bundle with no data attributes: defines the element and the global, mounts nothing. */
  const loadBundle = (page: Page, path = '/fixtures/blank.html') => loadWidget(page, server.url, {}, path);

  /** `window.__w = CodeGPTWidget.mount(options)`. */
  const mountVia = (page: Page, options: Record<string, unknown>) =>
    page.evaluate((o) => {
      const w = window as unknown as W;
      w.__w = w.CodeGPTWidget.mount(o);
    }, options);

  /** Opens the panel (when there is a closed launcher), types the question and presses Enter. */
  async function ask(page: Page, question: string, scope = ''): Promise<void> {
    const at = (part: string) => page.locator(`${scope} [part="${part}"]`.trim());
    if ((await at('launcher').count()) > 0 && (await at('launcher').getAttribute('aria-expanded')) === 'false') await at('launcher').click();
    await at('input').fill(question);
    await at('input').press('Enter');
  }

  /** The launcher's accessible name; null while there is no launcher (short timeout, for polling). */
  const launcherLabel = (page: Page) => page.locator('[part="launcher"]').getAttribute('aria-label', { timeout: 1000 }).catch(() => null);
  const titleText = (page: Page) => page.locator('[part="title"]').textContent();

  /** `dir` and `lang` of the `.root` element in the (first) widget's shadow root. */
  const rootAttrs = (page: Page) =>
    page.evaluate(() => {
      const root = document.querySelector('codegpt-chat')?.shadowRoot?.querySelector('.root');
      return { dir: root?.getAttribute('dir') ?? null, lang: root?.getAttribute('lang') ?? null };
    });

  /** Everything the page could have stored: both storages and the cookies. */
  const storage = (page: Page) =>
    page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage }, cookie: document.cookie }));

  const widgetKeys = (store: Record<string, string>) => Object.keys(store).filter((k) => k.startsWith(STORAGE_PREFIX)).sort();

  const tokenCalls = async (key: string) =>
    ((await (await fetch(`${server.url}/dev/token/stats?key=${encodeURIComponent(key)}`)).json()) as { calls: number }).calls;

  /** Records the given DOM events reaching `document` into `window.__events`. */
  const recordEvents = (page: Page, types: string[]) =>
    page.evaluate((names) => {
      const w = window as unknown as W;
      w.__events = [];
      for (const type of names) {
        document.addEventListener(type, (e) => {
          const ce = e as CustomEvent;
          w.__events.push({ type, detail: ce.detail, bubbles: ce.bubbles, composed: ce.composed, target: (ce.target as Element).tagName });
        });
      }
    }, types);

  /** Paths of the language packs the page requested. */
  const packRequests = (page: Page) => {
    const paths: string[] = [];
    page.on('request', (r) => r.url().includes('/dist/locales/') && paths.push(new URL(r.url()).pathname));
    return paths;
  };

  const viewportWidth = (page: Page) => page.evaluate(() => window.innerWidth);
  const boxX = async (page: Page, part: string) => (await page.locator(`[part="${part}"]`).boundingBox())!.x;

  // ---------------------------------------------------------------------------------------------
  // 1. Languages

  it.each<{ name: string; attrs: Record<string, string>; browserLocale: string; files: string[] }>([
    { name: 'data-locale="es"', attrs: { locale: 'es' }, browserLocale: 'en-US', files: ['/dist/locales/es.js'] },
    { name: 'browser de-DE, no data-locale', attrs: {}, browserLocale: 'de-DE', files: ['/dist/locales/de.js'] },
    { name: 'data-locale="pt-BR"', attrs: { locale: 'pt-BR' }, browserLocale: 'en-US', files: ['/dist/locales/pt.js'] },
    { name: 'unsupported data-locale="ko", browser ja-JP', attrs: { locale: 'ko' }, browserLocale: 'ja-JP', files: ['/dist/locales/ja.js'] },
    { name: 'English', attrs: {}, browserLocale: 'en-US', files: [] },
  ])('$name downloads only the one language pack it needs, and it loads', async ({ attrs, browserLocale, files }) => {
    const { page, context, watch } = await open({ locale: browserLocale });
    const requested = packRequests(page);
    const statuses: number[] = [];
    page.on('response', (r) => r.url().includes('/dist/locales/') && statuses.push(r.status()));
    await loadWidget(page, server.url, { 'agent-id': 'mock-packs', 'token-endpoint': '/dev/token', ...attrs });
    await page.locator('[part="launcher"]').waitFor();
    await expect.poll(() => statuses.length, PACK_WAIT).toBe(files.length);
    await page.waitForTimeout(200);
    expect(requested).toEqual(files);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('data-locale="es": launcher, title and placeholder switch to Spanish once the pack arrives', async () => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': 'mock-es', 'token-endpoint': '/dev/token', locale: 'es' });
    await expect.poll(() => launcherLabel(page), PACK_WAIT).toBe('Abrir chat');
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe('Pregunta a la IA');
    expect(await launcherLabel(page)).toBe('Cerrar chat');
    expect(await page.locator('[part="input"]').getAttribute('placeholder')).toBe('Haz una pregunta…');
    expect(await page.locator('[part="close"]').getAttribute('aria-label')).toBe('Cerrar');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'es' });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('with no data-locale the browser language (de-DE) picks German', async () => {
    const { page, context, watch } = await open({ locale: 'de-DE' });
    await loadWidget(page, server.url, { 'agent-id': 'mock-de', 'token-endpoint': '/dev/token' });
    expect(await page.evaluate(() => navigator.language)).toBe('de-DE');
    await expect.poll(() => launcherLabel(page), PACK_WAIT).toBe('Chat öffnen');
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe('KI fragen');
    expect(await page.locator('[part="input"]').getAttribute('placeholder')).toBe('Frage eingeben…');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'de' });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it.each(['ar', 'he'])('data-locale="%s" mirrors the bubble: launcher and panel on the left (position defaults to right)', async (lang) => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': `mock-${lang}`, 'token-endpoint': '/dev/token', locale: lang });
    await page.locator('[part="launcher"]').waitFor();
    const width = await viewportWidth(page);
    expect(await boxX(page, 'launcher')).toBeLessThan(width / 2);
    expect(await page.locator(`codegpt-chat`).getAttribute('data-position')).toBe('left');
    await page.locator('[part="launcher"]').click();
    expect(await boxX(page, 'panel')).toBeLessThan(width / 2);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it.each([
    ['ar', 'فتح المحادثة', 'اسأل الذكاء الاصطناعي'],
    ['he', "פתיחת הצ'אט", 'שאלו את ה-AI'],
  ])('data-locale="%s": the widget is right-to-left (dir="rtl", lang) with its own strings', async (lang, label, title) => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': `mock-${lang}`, 'token-endpoint': '/dev/token', locale: lang });
    await expect.poll(() => launcherLabel(page), PACK_WAIT).toBe(label);
    expect(await rootAttrs(page)).toEqual({ dir: 'rtl', lang });
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe(title);
    expect(await page.locator('[part="panel"]').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('a right-to-left host page (<html dir="rtl">) does not flip an English widget: dir="ltr", launcher on the right', async () => {
    const { page, context, watch } = await open();
    await page.goto(`${server.url}/fixtures/blank.html`);
    await page.evaluate(() => {
      document.documentElement.setAttribute('dir', 'rtl');
      const s = document.createElement('script');
      s.src = '/dist/codegpt-widget.iife.js';
      s.setAttribute('data-agent-id', 'mock-rtl-host');
      s.setAttribute('data-token-endpoint', '/dev/token');
      document.head.appendChild(s);
    });
    await page.locator('[part="launcher"]').waitFor();
    expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe('rtl');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'en' });
    expect(await launcherLabel(page)).toBe('Open chat');
    const width = await viewportWidth(page);
    expect(await boxX(page, 'launcher')).toBeGreaterThan(width / 2);
    await page.locator('[part="launcher"]').click();
    expect(await page.locator('[part="panel"]').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
    expect(await boxX(page, 'panel')).toBeGreaterThan(width / 2);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('mount({ locale: "fr", strings: { title } }): the override wins, every other string is French', async () => {
    const { page, context, watch } = await open();
    await loadBundle(page);
    await mountVia(page, { agentId: 'mock-fr', tokenEndpoint: '/dev/token', locale: 'fr', strings: { title: 'Mon titre' }, open: true });
    await expect.poll(() => launcherLabel(page), PACK_WAIT).toBe('Fermer le chat');
    expect(await titleText(page)).toBe('Mon titre');
    expect(await page.locator('[part="input"]').getAttribute('placeholder')).toBe('Posez une question…');
    expect(await page.locator('[part="input"]').getAttribute('aria-label')).toBe('Votre question');
    expect(await page.locator('[part="close"]').getAttribute('aria-label')).toBe('Fermer');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'fr' });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('<codegpt-chat locale="en"> switched to locale="ja" relabels the launcher live', async () => {
    const { page, context, watch } = await open();
    await loadBundle(page);
    await page.evaluate(() =>
      document.body.insertAdjacentHTML('beforeend', '<codegpt-chat agent-id="mock-ja" token-endpoint="/dev/token" locale="en"></codegpt-chat>'),
    );
    await expect.poll(() => launcherLabel(page)).toBe('Open chat');
    await page.evaluate(() => document.querySelector('codegpt-chat')!.setAttribute('locale', 'ja'));
    await expect.poll(() => launcherLabel(page), PACK_WAIT).toBe('チャットを開く');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'ja' });
    // And back: English is built in.
    await page.evaluate(() => document.querySelector('codegpt-chat')!.setAttribute('locale', 'en'));
    await expect.poll(() => launcherLabel(page)).toBe('Open chat');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('under a strict nonce CSP the Spanish pack loads (with the bundle\'s nonce) with zero CSP violations', async () => {
    const { page, context, watch } = await open();
    await page.addInitScript(() => {
      const w = window as unknown as W;
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
    });
    const statuses: number[] = [];
    page.on('response', (r) => r.url().includes('/dist/locales/es.js') && statuses.push(r.status()));
    const response = await page.goto(`${server.url}/fixtures/visitors-a-csp-es.html`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'nonce-visitors-a-nonce-7d21c0'");
    await expect.poll(() => launcherLabel(page), PACK_WAIT).toBe('Abrir chat');
    expect(statuses).toEqual([200]);
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe('Pregunta a la IA');
    await page.locator('[part="input"]').fill('Hola');
    await page.locator('[part="input"]').press('Enter');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Hola' });
    expect(await page.evaluate(() => (window as unknown as W).__violations)).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  // ---------------------------------------------------------------------------------------------
  // 2. Answer controls

  it('copy-answer puts the markdown source on the clipboard and reads "Copied" for a moment', async () => {
    const { page, context, watch } = await open({ permissions: ['clipboard-read', 'clipboard-write'] });
    await loadWidget(page, server.url, { 'agent-id': 'mock-copy', 'token-endpoint': '/dev/token' });
    const question = 'Use **bold** and `npm i` please';
    await ask(page, question);
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Use bold and npm i please' });
    const copy = page.locator('[part="copy-answer"]');
    expect(await copy.textContent()).toBe('Copy answer');
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`You said: ${question}`);
    // Briefly: it reads "Copy answer" again after a moment.
    await expect.poll(() => copy.textContent(), { timeout: 5000 }).toBe('Copy answer');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('thumbs up/down are aria-pressed toggles that dispatch codegpt:feedback (bubbles, composed) on the host', async () => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': 'mock-feedback', 'token-endpoint': '/dev/token' });
    await recordEvents(page, ['codegpt:feedback']);
    await ask(page, 'Rate me');
    expect((await lastAnswer(page)).state).toBe('done');
    const up = page.locator('[part~="feedback"][part~="up"]');
    const down = page.locator('[part~="feedback"][part~="down"]');
    const pressed = async () => [await up.getAttribute('aria-pressed'), await down.getAttribute('aria-pressed')];
    expect(await up.getAttribute('aria-label')).toBe('Helpful');
    expect(await down.getAttribute('aria-label')).toBe('Not helpful');
    expect(await pressed()).toEqual(['false', 'false']);

    await up.click();
    expect(await pressed()).toEqual(['true', 'false']);
    await down.click(); // switch the rating
    expect(await pressed()).toEqual(['false', 'true']);
    await down.click(); // take it back
    expect(await pressed()).toEqual(['false', 'false']);

    const events = await page.evaluate(() => (window as unknown as W).__events);
    expect(events).toHaveLength(3);
    const messageId = (events[0]!.detail as { messageId: unknown }).messageId;
    expect(typeof messageId === 'string' && messageId.length > 0).toBe(true);
    const event = (value: string | null) => ({ type: 'codegpt:feedback', detail: { messageId, value }, bubbles: true, composed: true, target: 'CODEGPT-CHAT' });
    expect(events).toEqual([event('up'), event('down'), event(null)]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('mount(): widget.on("feedback") receives { messageId, value } with the answer\'s id, up then null', async () => {
    const { page, context, watch } = await open();
    await loadBundle(page);
    await mountVia(page, { agentId: 'mock-feedback-api', tokenEndpoint: '/dev/token' });
    await page.evaluate(() => {
      const w = window as unknown as W;
      w.__onFeedback = [];
      w.__w.on('feedback', (d) => w.__onFeedback.push(d));
    });
    await recordEvents(page, ['codegpt:feedback']);
    await ask(page, 'Rate me through the API');
    expect((await lastAnswer(page)).state).toBe('done');
    const answer = await page.evaluate(() => (window as unknown as W).__w.messages.at(-1)!);
    expect(answer.role).toBe('assistant');
    const up = page.locator('[part~="feedback"][part~="up"]');
    await up.click();
    expect(await up.getAttribute('aria-pressed')).toBe('true');
    await up.click();
    expect(await up.getAttribute('aria-pressed')).toBe('false');
    const seen = await page.evaluate(() => {
      const w = window as unknown as W;
      return { on: w.__onFeedback, dom: w.__events.map((e) => e.detail) };
    });
    expect(seen.on).toEqual([
      { messageId: answer.id, value: 'up' },
      { messageId: answer.id, value: null },
    ]);
    expect(seen.dom).toEqual(seen.on);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it("the header's clear button (only with messages) empties the log, forgets the stored conversation and focuses the input", async () => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': 'mock-clear', 'token-endpoint': '/dev/token' });
    await page.locator('[part="launcher"]').click();
    expect(await page.locator('[part="clear"]').count()).toBe(0);
    await ask(page, 'Forget me');
    expect((await lastAnswer(page)).text).toBe('You said: Forget me');
    const clear = page.locator('[part="clear"]');
    expect(await clear.count()).toBe(1);
    expect(await clear.getAttribute('aria-label')).toBe('Clear conversation');
    const before = await storage(page);
    expect(before.session['codegpt-widget:v1:mock-clear']).toContain('Forget me');

    await clear.click();
    await expect.poll(() => page.locator('[part~="message"]').count()).toBe(0);
    expect(await page.locator('[part="clear"]').count()).toBe(0);
    const after = await storage(page);
    expect(widgetKeys(after.session)).toEqual([]);
    expect(JSON.stringify(after)).not.toContain('Forget me');
    await expect
      .poll(() => page.evaluate(() => document.querySelector('codegpt-chat')?.shadowRoot?.activeElement?.getAttribute('part')))
      .toBe('input');
    // Nothing comes back on the next page load.
    await loadWidget(page, server.url, { 'agent-id': 'mock-clear', 'token-endpoint': '/dev/token', open: 'true' });
    await page.locator('[part="panel"]').waitFor();
    await page.waitForTimeout(200);
    expect(await page.locator('[part~="message"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  // ---------------------------------------------------------------------------------------------
  // 3. Privacy

  it('nothing is written to storage or cookies before the visitor interacts, even with the panel open at load', async () => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': 'mock-privacy', 'token-endpoint': '/dev/token', open: 'true' });
    await page.locator('[part="panel"]').waitFor();
    await page.locator('[part="launcher"]').hover(); // interest (fetches a token), not an interaction
    await page.waitForTimeout(500);
    expect(await storage(page)).toEqual({ session: {}, local: {}, cookie: '' });
    // The first question is an interaction: the conversation is stored from then on.
    await ask(page, 'Now you may remember');
    expect((await lastAnswer(page)).state).toBe('done');
    const after = await storage(page);
    expect(after.session['codegpt-widget:v1:mock-privacy']).toContain('Now you may remember');
    expect(after.local).toEqual({});
    expect(after.cookie).toBe('');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it.each([
    ['a key in the input', { open: true, draft: 'h' }],
    ['a click on the launcher', { open: false, draft: '' }],
  ])('after %s, the panel state is stored under codegpt-widget:v1:<agent>:ui', async (how, expected) => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': 'mock-privacy-ui', 'token-endpoint': '/dev/token', open: 'true' });
    await page.locator('[part="panel"]').waitFor();
    await page.waitForTimeout(300);
    expect(await storage(page)).toEqual({ session: {}, local: {}, cookie: '' });
    if (how === 'a key in the input') {
      await page.locator('[part="input"]').click();
      await page.keyboard.press('h');
    } else {
      await page.locator('[part="launcher"]').click();
    }
    await expect.poll(async () => widgetKeys((await storage(page)).session)).toEqual(['codegpt-widget:v1:mock-privacy-ui:ui']);
    const after = await storage(page);
    expect(JSON.parse(after.session['codegpt-widget:v1:mock-privacy-ui:ui']!)).toEqual(expected);
    expect(after.local).toEqual({});
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it("userId scopes the stored conversation: alice asks, bob sees nothing, alice gets hers back; reset() removes only alice's keys", async () => {
    const { page, context, watch } = await open();
    const base = { agentId: 'mock-a', tokenEndpoint: '/dev/token', persist: 'local' };
    const messagesOf = () => page.evaluate(() => (window as unknown as W).__w.messages.map((m) => [m.role, m.content, m.state]));
    await loadBundle(page);
    await mountVia(page, { ...base, userId: 'alice' });
    await ask(page, 'Alice secret question');
    expect((await lastAnswer(page)).text).toBe('You said: Alice secret question');
    const aliceKeys = widgetKeys((await storage(page)).local);
    expect(aliceKeys).toContain('codegpt-widget:v1:mock-a:user:alice');
    expect(aliceKeys.every((k) => k.startsWith('codegpt-widget:v1:mock-a:user:alice'))).toBe(true);
    expect((await storage(page)).session).toEqual({});

    // Bob, after a reload: nothing of Alice's. He asks his own question.
    await loadBundle(page);
    await mountVia(page, { ...base, userId: 'bob', open: true });
    await page.locator('[part="panel"]').waitFor();
    expect(await messagesOf()).toEqual([]);
    expect(await page.locator('[part~="message"]').count()).toBe(0);
    await ask(page, 'Bob question');
    expect((await lastAnswer(page)).text).toBe('You said: Bob question');
    expect(await page.locator('[part="log"]').textContent()).not.toContain('Alice');

    // Alice again: her conversation is back, without Bob's.
    await loadBundle(page);
    await mountVia(page, { ...base, userId: 'alice', open: true });
    await page.locator('[part~="user"]').waitFor();
    expect(await messagesOf()).toEqual([
      ['user', 'Alice secret question', 'done'],
      ['assistant', 'You said: Alice secret question', 'done'],
    ]);
    expect(await page.locator('[part~="user"]').textContent()).toContain('Alice secret question');

    await page.evaluate(() => (window as unknown as W).__w.reset());
    const left = widgetKeys((await storage(page)).local);
    expect(left.filter((k) => k.includes(':user:alice'))).toEqual([]);
    expect(left).toContain('codegpt-widget:v1:mock-a:user:bob');
    expect(await messagesOf()).toEqual([]);
    expect(await page.locator('[part~="message"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  // ---------------------------------------------------------------------------------------------
  // 4. Continuity across pages

  const PAGE_1 = '/fixtures/blank.html?p=1';
  const PAGE_2 = '/fixtures/blank.html?p=2';

  it('the conversation follows the visitor to the next page of the site', async () => {
    const { page, context, watch } = await open();
    const attrs = { 'agent-id': 'mock-continuity', 'token-endpoint': '/dev/token' };
    await loadWidget(page, server.url, attrs, PAGE_1);
    await ask(page, 'First page question');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: First page question' });

    // (data-open: whether the open state itself was carried over is the next test.)
    await loadWidget(page, server.url, { ...attrs, open: 'true' }, PAGE_2);
    expect(new URL(page.url()).search).toBe('?p=2');
    await page.locator('[part="panel"]').waitFor();
    expect(await page.locator('[part~="user"]').count()).toBe(1);
    expect(await page.locator('[part~="user"]').textContent()).toContain('First page question');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: First page question' });
    expect(await page.locator('[part="error"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('the open panel and the unsent draft follow the visitor to the next page', async () => {
    const { page, context, watch } = await open();
    const attrs = { 'agent-id': 'mock-continuity-ui', 'token-endpoint': '/dev/token' };
    await loadWidget(page, server.url, attrs, PAGE_1);
    await ask(page, 'First page question');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: First page question' });
    await page.locator('[part="input"]').fill('Half-typed draft');

    await loadWidget(page, server.url, attrs, PAGE_2);
    await page.locator('[part="launcher"]').waitFor();
    await page.waitForTimeout(200);
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('[part="panel"]').count()).toBe(1);
    expect(await page.locator('[part="input"]').inputValue()).toBe('Half-typed draft');
    expect(await page.locator('[part~="user"]').textContent()).toContain('First page question');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: First page question' });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('navigating mid-stream keeps the partial answer on the next page, marked interrupted with Retry; Retry finishes it', async () => {
    const { page, context, watch } = await open();
    const attrs = { 'agent-id': 'mock-slow', 'token-endpoint': '/dev/token' };
    const question = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen';
    const full = `You said: ${question}`;
    await loadWidget(page, server.url, attrs, PAGE_1);
    await ask(page, question);
    await page.waitForFunction(() => {
      const c = document.querySelector('codegpt-chat')?.shadowRoot?.querySelector('[data-state="streaming"] [part="content"]');
      return !!c && (c.textContent ?? '').length > 0;
    });
    const partialBefore = (await page.locator('[data-state="streaming"] [part="content"]').textContent()) ?? '';
    expect(partialBefore.length).toBeGreaterThan(0);

    // (data-open: page 2 would show the panel even if the open state were not carried over.)
    await loadWidget(page, server.url, { ...attrs, open: 'true' }, PAGE_2);
    const assistant = page.locator('[part~="message"][part~="assistant"]');
    await assistant.waitFor();
    expect(await assistant.getAttribute('data-state')).toBe('error');
    const partial = (await assistant.locator('[part="content"]').textContent()) ?? '';
    expect(partial.startsWith(partialBefore)).toBe(true);
    expect(partial.length).toBeLessThan(full.length);
    expect(full.startsWith(partial)).toBe(true);
    expect(await page.locator('[part="error"]').textContent()).toContain('The answer was interrupted.');
    expect(await page.locator('[part="retry"]').count()).toBe(1);

    await page.locator('[part="retry"]').click();
    await page.locator('[part~="assistant"][data-state="done"]').waitFor({ timeout: 30_000 });
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: full });
    expect(await page.locator('[part~="user"]').count()).toBe(1);
    expect(await page.locator('[part~="assistant"][data-state]').count()).toBe(1);
    expect(await page.locator('[part="error"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  // ---------------------------------------------------------------------------------------------
  // 5. Embed modes

  it('<codegpt-chat> written in HTML mounts; title, theme and accent update live; removing it destroys it', async () => {
    const { page, context, watch } = await open();
    await page.goto(`${server.url}/fixtures/visitors-a-element.html`);
    const launcher = page.locator('[part="launcher"]');
    await launcher.waitFor();
    const host = page.locator('#chat');
    const background = () => launcher.evaluate((el) => getComputedStyle(el).backgroundColor);
    const isOpen = () => page.evaluate(() => (document.getElementById('chat') as unknown as { isOpen: boolean }).isOpen);
    expect(await host.getAttribute('data-theme')).toBe('light');
    expect(await background()).toBe('rgb(10, 127, 63)');
    expect(await launcherLabel(page)).toBe('Open chat');
    expect(await isOpen()).toBe(false);
    await page.evaluate(() => (document.getElementById('chat') as unknown as { open(): void }).open());
    expect(await titleText(page)).toBe('Help desk');
    expect(await isOpen()).toBe(true);

    await page.evaluate(() => {
      const el = document.getElementById('chat')!;
      el.setAttribute('title', 'Support');
      el.setAttribute('theme', 'dark');
      el.setAttribute('accent', '#ff0000');
    });
    await expect.poll(() => titleText(page)).toBe('Support');
    expect(await host.getAttribute('data-theme')).toBe('dark');
    await expect.poll(background).toBe('rgb(255, 0, 0)');
    // Still the same instance: the panel stayed open.
    expect(await isOpen()).toBe(true);

    await page.evaluate(() => document.getElementById('chat')!.remove());
    await page.waitForTimeout(100);
    expect(await page.locator('[part="launcher"]').count()).toBe(0);
    expect(await page.locator('[part="panel"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('a removed <codegpt-chat> is dead: its shadow root is emptied, isOpen is false and element is null', async () => {
    const { page, context, watch } = await open();
    await page.goto(`${server.url}/fixtures/visitors-a-element.html`);
    await page.locator('[part="launcher"]').waitFor();
    const state = await page.evaluate(async () => {
      const el = document.getElementById('chat') as HTMLElement & { isOpen: boolean; open(): void; element: HTMLElement | null };
      el.open();
      const before = { isOpen: el.isOpen, children: el.shadowRoot!.childElementCount, element: el.element === el };
      el.remove();
      await new Promise((r) => setTimeout(r, 50));
      return { before, after: { isOpen: el.isOpen, children: el.shadowRoot!.childElementCount, element: el.element } };
    });
    expect(state.before).toEqual({ isOpen: true, children: 1, element: true });
    expect(state.after).toEqual({ isOpen: false, children: 0, element: null });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('defineElement() is idempotent: calling it twice (and twice with a custom tag) does not throw', async () => {
    const { page, context, watch } = await open();
    await loadBundle(page);
    const result = await page.evaluate(() => {
      const api = (window as unknown as W).CodeGPTWidget;
      const before = customElements.get('codegpt-chat');
      try {
        api.defineElement();
        api.defineElement();
        api.defineElement('visitors-a-chat');
        api.defineElement('visitors-a-chat');
      } catch (e) {
        return { threw: String(e) };
      }
      return { threw: null, same: !!before && customElements.get('codegpt-chat') === before, custom: typeof customElements.get('visitors-a-chat') };
    });
    expect(result).toEqual({ threw: null, same: true, custom: 'function' });
    // The custom tag works as an element too.
    await page.evaluate(() =>
      document.body.insertAdjacentHTML('beforeend', '<visitors-a-chat agent-id="mock-tag" token-endpoint="/dev/token"></visitors-a-chat>'),
    );
    await expect.poll(() => page.locator('visitors-a-chat [part="launcher"]').count()).toBe(1);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('inline mode (data-mode="inline" data-target="#box") renders the panel inside #box, with no launcher, and answers', async () => {
    const { page, context, watch } = await open();
    await page.goto(`${server.url}/fixtures/blank.html`);
    await page.evaluate(() => {
      const box = document.createElement('div');
      box.id = 'box';
      box.style.cssText = 'width: 420px; height: 520px; margin: 40px;';
      document.querySelector('main')!.appendChild(box);
      const s = document.createElement('script');
      s.src = '/dist/codegpt-widget.iife.js';
      s.setAttribute('data-agent-id', 'mock-inline');
      s.setAttribute('data-token-endpoint', '/dev/token');
      s.setAttribute('data-mode', 'inline');
      s.setAttribute('data-target', '#box');
      document.head.appendChild(s);
    });
    await page.locator('[part="panel"]').waitFor();
    const placement = await page.evaluate(() => {
      const host = document.querySelector('codegpt-chat')!;
      return {
        parent: host.parentElement?.id,
        inBox: !!document.querySelector('#box > codegpt-chat')?.shadowRoot?.querySelector('[part="panel"]'),
        role: host.shadowRoot?.querySelector('[part="panel"]')?.getAttribute('role'),
      };
    });
    expect(placement).toEqual({ parent: 'box', inBox: true, role: 'region' });
    expect(await page.locator('[part="launcher"]').count()).toBe(0);
    expect(await page.locator('[part="close"]').count()).toBe(0);
    const box = (await page.locator('#box').boundingBox())!;
    const panel = (await page.locator('[part="panel"]').boundingBox())!;
    expect(panel.x).toBeGreaterThanOrEqual(box.x - 1);
    expect(panel.y).toBeGreaterThanOrEqual(box.y - 1);
    expect(panel.x + panel.width).toBeLessThanOrEqual(box.x + box.width + 1);
    await ask(page, 'Inline hello');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Inline hello' });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('two instances with different agents keep separate storage keys and separate token requests', async () => {
    const { page, context, watch } = await open();
    // Token counters live on the server for the whole file: fresh keys per attempt (retry-safe).
    const run = Math.random().toString(36).slice(2, 8);
    const [keyOne, keyTwo] = [`visitors-a-one-${run}`, `visitors-a-two-${run}`];
    const completions: { agentId: string; auth: string }[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/chat/completions') && r.method() === 'POST') {
        completions.push({ agentId: (r.postDataJSON() as { agentId: string }).agentId, auth: r.headers()['authorization'] ?? '' });
      }
    });
    await loadBundle(page);
    await page.evaluate(
      ([k1, k2]) => {
        const api = (window as unknown as W).CodeGPTWidget;
        api.mount({ agentId: 'mock-one', tokenEndpoint: `/dev/token?key=${k1}` });
        api.mount({ agentId: 'mock-two', tokenEndpoint: `/dev/token?key=${k2}`, position: 'left' });
      },
      [keyOne, keyTwo],
    );
    expect(await page.locator('codegpt-chat').count()).toBe(2);
    const one = 'codegpt-chat[data-codegpt-agent="mock-one"]';
    const two = 'codegpt-chat[data-codegpt-agent="mock-two"]';
    expect([await tokenCalls(keyOne), await tokenCalls(keyTwo)]).toEqual([0, 0]);

    await ask(page, 'Question for one', one);
    await page.locator(`${one} [part~="assistant"][data-state="done"]`).waitFor();
    expect(await page.locator(`${one} [part~="assistant"] [part="content"]`).textContent()).toBe('You said: Question for one');
    await page.locator(`${one} [part="close"]`).click();
    await ask(page, 'Question for two', two);
    await page.locator(`${two} [part~="assistant"][data-state="done"]`).waitFor();
    expect(await page.locator(`${two} [part~="assistant"] [part="content"]`).textContent()).toBe('You said: Question for two');
    expect(await page.locator(`${two} [part~="message"]`).count()).toBe(2);

    const { session } = await storage(page);
    expect(widgetKeys(session).filter((k) => !k.endsWith(':ui'))).toEqual(['codegpt-widget:v1:mock-one', 'codegpt-widget:v1:mock-two']);
    expect(session['codegpt-widget:v1:mock-one']).toContain('Question for one');
    expect(session['codegpt-widget:v1:mock-one']).not.toContain('Question for two');
    expect(session['codegpt-widget:v1:mock-two']).toContain('Question for two');
    expect(session['codegpt-widget:v1:mock-two']).not.toContain('Question for one');

    expect([await tokenCalls(keyOne), await tokenCalls(keyTwo)]).toEqual([1, 1]);
    expect(completions.map((c) => c.agentId)).toEqual(['mock-one', 'mock-two']);
    expect(completions[0]!.auth).toMatch(/^Bearer \S+/);
    expect(completions[1]!.auth).toMatch(/^Bearer \S+/);
    expect(completions[0]!.auth).not.toBe(completions[1]!.auth);
    expect(watch.errors).toEqual([]);
    await context.close();
  });
});
