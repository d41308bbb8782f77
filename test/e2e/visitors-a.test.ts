/**
 * Visitor-facing features in real Chromium, against the built script-tag bundle
 * (dist/codegpt-widget.iife.js) and the demo server's mock agent (`mock-*` answers "You said: <question>"):
 *
 * 1. Languages: packs loaded on demand from dist/locales/<lang>.js, browser language, right-to-left
 *    layout, `strings` overrides, live `locale` on <codegpt-chat>, a strict nonce CSP.
 * 2. Answer controls: copy the answer's markdown, thumbs up/down with `feedback` events, clear.
 * 3. Privacy: no storage before the visitor interacts; conversations scoped by `userId`; reset().
 * 4. Continuity across pages: open state, draft and conversation; an answer cut by a navigation.
 * 5. Embed modes: <codegpt-chat> in HTML with live attributes, defineElement(), inline mode, two
 *    independent instances on one page.
 *
 * Fixtures: test/fixtures/pages/visitors-a-*.html. Every browser context pins its locale (en-US
 * unless the test is about the browser's language).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, loadWidget, newPage } from './helpers/browser';

type Server = Awaited<ReturnType<typeof startDemoServer>>;
type Env = Awaited<ReturnType<typeof newPage>>;

/** Shapes of the page-side globals the tests use. */
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
}

const STORAGE_PREFIX = 'codegpt-widget:';

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

  /** Opens the panel (if there is a launcher and it is closed), types the question and presses Enter. */
  async function ask(page: Page, question: string, scope = ''): Promise<void> {
    const launcher = page.locator(`${scope} [part="launcher"]`.trim());
    if ((await launcher.count()) > 0 && (await launcher.getAttribute('aria-expanded')) === 'false') await launcher.click();
    await page.locator(`${scope} [part="input"]`.trim()).fill(question);
    await page.locator(`${scope} [part="input"]`.trim()).press('Enter');
  }

  const launcherLabel = (page: Page) => page.locator('[part="launcher"]').getAttribute('aria-label');
  const titleText = (page: Page) => page.locator('[part="title"]').textContent();

  /** `dir` and `lang` of the `.root` element inside the (first) widget's shadow root. */
  const rootAttrs = (page: Page) =>
    page.evaluate(() => {
      const root = document.querySelector('codegpt-chat')?.shadowRoot?.querySelector('.root');
      return { dir: root?.getAttribute('dir') ?? null, lang: root?.getAttribute('lang') ?? null };
    });

  /** Every key and value the page could have stored, plus cookies. */
  const storage = (page: Page) =>
    page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage }, cookie: document.cookie }));

  const widgetKeys = (store: Record<string, string>) => Object.keys(store).filter((k) => k.startsWith(STORAGE_PREFIX)).sort();

  const tokenCalls = async (key: string) =>
    ((await (await fetch(`${server.url}/dev/token/stats?key=${encodeURIComponent(key)}`)).json()) as { calls: number }).calls;

  /** Records every `codegpt:*` DOM event that reaches `document` into `window.__events`. */
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

  const viewportWidth = (page: Page) => page.evaluate(() => window.innerWidth);
  const launcherX = async (page: Page) => (await page.locator('[part="launcher"]').boundingBox())!.x;

  // ---------------------------------------------------------------------------------------------
  // 1. Languages

  it('data-locale="es" loads dist/locales/es.js on demand: launcher, title and placeholder in Spanish', async () => {
    const { page, context, watch } = await open();
    const localeFiles: string[] = [];
    page.on('request', (r) => r.url().includes('/dist/locales/') && localeFiles.push(new URL(r.url()).pathname));
    await loadWidget(page, server.url, { 'agent-id': 'mock-es', 'token-endpoint': '/dev/token', locale: 'es' });
    await expect.poll(() => launcherLabel(page)).toBe('Abrir chat');
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe('Pregunta a la IA');
    expect(await launcherLabel(page)).toBe('Cerrar chat');
    expect(await page.locator('[part="input"]').getAttribute('placeholder')).toBe('Haz una pregunta…');
    expect(await page.locator('[part="close"]').getAttribute('aria-label')).toBe('Cerrar');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'es' });
    // Only the visitor's language is downloaded.
    expect(localeFiles).toEqual(['/dist/locales/es.js']);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('with no data-locale the browser language picks the pack (de-DE → German), and only that pack loads', async () => {
    const { page, context, watch } = await open({ locale: 'de-DE' });
    const localeFiles: string[] = [];
    page.on('request', (r) => r.url().includes('/dist/locales/') && localeFiles.push(new URL(r.url()).pathname));
    await loadWidget(page, server.url, { 'agent-id': 'mock-de', 'token-endpoint': '/dev/token' });
    expect(await page.evaluate(() => navigator.language)).toBe('de-DE');
    await expect.poll(() => launcherLabel(page)).toBe('Chat öffnen');
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe('KI fragen');
    expect(await page.locator('[part="input"]').getAttribute('placeholder')).toBe('Frage eingeben…');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'de' });
    expect(localeFiles).toEqual(['/dist/locales/de.js']);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('an English visitor downloads no language pack at all', async () => {
    const { page, context, watch } = await open();
    const localeFiles: string[] = [];
    page.on('request', (r) => r.url().includes('/dist/locales/') && localeFiles.push(r.url()));
    await loadWidget(page, server.url, { 'agent-id': 'mock-en', 'token-endpoint': '/dev/token' });
    await page.locator('[part="launcher"]').waitFor();
    await page.waitForTimeout(300);
    expect(await launcherLabel(page)).toBe('Open chat');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'en' });
    expect(localeFiles).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it.each([
    { lang: 'ar', label: 'فتح المحادثة', title: 'اسأل الذكاء الاصطناعي' },
    { lang: 'he', label: "פתיחת הצ'אט", title: 'שאלו את ה-AI' },
  ])('data-locale="$lang": the widget is right-to-left (dir, lang) and the launcher sits on the left', async ({ lang, label, title }) => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': `mock-${lang}`, 'token-endpoint': '/dev/token', locale: lang });
    await expect.poll(() => launcherLabel(page)).toBe(label);
    expect(await rootAttrs(page)).toEqual({ dir: 'rtl', lang });
    const width = await viewportWidth(page);
    expect(await launcherX(page)).toBeLessThan(width / 2);
    // The panel opens on the same side.
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe(title);
    const panel = (await page.locator('[part="panel"]').boundingBox())!;
    expect(panel.x).toBeLessThan(width / 2);
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
    expect(await page.locator('[part="launcher"]').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
    const width = await viewportWidth(page);
    expect(await launcherX(page)).toBeGreaterThan(width / 2);
    expect(await launcherLabel(page)).toBe('Open chat');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('mount({ locale: "fr", strings: { title } }): the override wins, every other string is French', async () => {
    const { page, context, watch } = await open();
    await loadBundle(page);
    await mountVia(page, { agentId: 'mock-fr', tokenEndpoint: '/dev/token', locale: 'fr', strings: { title: 'Mon titre' }, open: true });
    await expect.poll(() => launcherLabel(page)).toBe('Fermer le chat');
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
    await expect.poll(() => launcherLabel(page)).toBe('チャットを開く');
    expect(await rootAttrs(page)).toEqual({ dir: 'ltr', lang: 'ja' });
    // And back: English is built in.
    await page.evaluate(() => document.querySelector('codegpt-chat')!.setAttribute('locale', 'en'));
    await expect.poll(() => launcherLabel(page)).toBe('Open chat');
    expect(await page.locator('[part="launcher"]').count()).toBe(1);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('under a strict nonce CSP with Trusted Types the Spanish pack loads with zero CSP violations', async () => {
    const { page, context, watch } = await open();
    await page.addInitScript(() => {
      const w = window as unknown as { __violations: string[] };
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sample}`));
    });
    const localeResponses: number[] = [];
    page.on('response', (r) => r.url().includes('/dist/locales/es.js') && localeResponses.push(r.status()));
    const response = await page.goto(`${server.url}/fixtures/visitors-a-csp-es.html`);
    expect(response!.headers()['content-security-policy']).toContain("require-trusted-types-for 'script'");
    await expect.poll(() => launcherLabel(page)).toBe('Abrir chat');
    await page.locator('[part="launcher"]').click();
    expect(await titleText(page)).toBe('Pregunta a la IA');
    await page.locator('[part="input"]').fill('Hola');
    await page.locator('[part="input"]').press('Enter');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: Hola' });
    expect(localeResponses).toEqual([200]);
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
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
    const answer = await lastAnswer(page);
    expect(answer).toEqual({ state: 'done', text: 'You said: Use bold and npm i please' });
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
    expect(await up.getAttribute('aria-label')).toBe('Helpful');
    expect(await down.getAttribute('aria-label')).toBe('Not helpful');
    expect([await up.getAttribute('aria-pressed'), await down.getAttribute('aria-pressed')]).toEqual(['false', 'false']);

    await up.click();
    expect([await up.getAttribute('aria-pressed'), await down.getAttribute('aria-pressed')]).toEqual(['true', 'false']);
    await down.click(); // switch the rating
    expect([await up.getAttribute('aria-pressed'), await down.getAttribute('aria-pressed')]).toEqual(['false', 'true']);
    await down.click(); // take it back
    expect([await up.getAttribute('aria-pressed'), await down.getAttribute('aria-pressed')]).toEqual(['false', 'false']);

    const events = await page.evaluate(() => (window as unknown as W).__events);
    expect(events).toHaveLength(3);
    const messageId = (events[0]!.detail as { messageId: string }).messageId;
    expect(messageId).toEqual(expect.any(String));
    expect(messageId.length).toBeGreaterThan(0);
    expect(events).toEqual([
      { type: 'codegpt:feedback', detail: { messageId, value: 'up' }, bubbles: true, composed: true, target: 'CODEGPT-CHAT' },
      { type: 'codegpt:feedback', detail: { messageId, value: 'down' }, bubbles: true, composed: true, target: 'CODEGPT-CHAT' },
      { type: 'codegpt:feedback', detail: { messageId, value: null }, bubbles: true, composed: true, target: 'CODEGPT-CHAT' },
    ]);
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
    const answerId = await page.evaluate(() => (window as unknown as W).__w.messages.at(-1)!.id);
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
      { messageId: answerId, value: 'up' },
      { messageId: answerId, value: null },
    ]);
    expect(seen.dom).toEqual(seen.on);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('the header\'s clear button (only with messages) empties the log, forgets the stored conversation and focuses the input', async () => {
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
    expect(widgetKeys(before.session)).toContain('codegpt-widget:v1:mock-clear');
    expect(before.session['codegpt-widget:v1:mock-clear']).toContain('Forget me');

    await clear.click();
    await expect.poll(() => page.locator('[part~="message"]').count()).toBe(0);
    expect(await page.locator('[part="clear"]').count()).toBe(0);
    const after = await storage(page);
    expect(widgetKeys(after.session).filter((k) => !k.endsWith(':ui'))).toEqual([]);
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

  it.each([
    { how: 'a key in the input', expected: { open: true, draft: 'h' } },
    { how: 'a click on the launcher', expected: { open: false, draft: '' } },
  ])('nothing is stored before the visitor interacts; $how then writes the :ui key', async ({ how, expected }) => {
    const { page, context, watch } = await open();
    await loadWidget(page, server.url, { 'agent-id': 'mock-privacy', 'token-endpoint': '/dev/token', open: 'true' });
    await page.locator('[part="panel"]').waitFor();
    await page.waitForTimeout(500);
    expect(await storage(page)).toEqual({ session: {}, local: {}, cookie: '' });
    if (how === 'a key in the input') {
      await page.locator('[part="input"]').click();
      await page.keyboard.press('h');
    } else {
      await page.locator('[part="launcher"]').click();
    }
    await expect.poll(async () => widgetKeys((await storage(page)).session)).toEqual(['codegpt-widget:v1:mock-privacy:ui']);
    const after = await storage(page);
    expect(JSON.parse(after.session['codegpt-widget:v1:mock-privacy:ui']!)).toEqual(expected);
    expect(after.local).toEqual({});
    expect(after.cookie).toBe('');
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('userId scopes the stored conversation: alice asks, bob sees nothing, alice gets hers back; reset() removes only alice\'s keys', async () => {
    const { page, context, watch } = await open();
    const base = { agentId: 'mock-a', tokenEndpoint: '/dev/token', persist: 'local' };
    await loadBundle(page);
    await mountVia(page, { ...base, userId: 'alice' });
    await ask(page, 'Alice secret question');
    expect((await lastAnswer(page)).text).toBe('You said: Alice secret question');
    expect(widgetKeys((await storage(page)).local)).toEqual(['codegpt-widget:v1:mock-a:user:alice', 'codegpt-widget:v1:mock-a:user:alice:ui']);

    // Bob, on the reloaded page: nothing of Alice's.
    await loadBundle(page);
    await mountVia(page, { ...base, userId: 'bob' });
    await page.locator('[part="launcher"]').click();
    await page.locator('[part="input"]').fill('bob draft');
    expect(await page.evaluate(() => (window as unknown as W).__w.messages)).toEqual([]);
    expect(await page.locator('[part~="message"]').count()).toBe(0);
    expect(await page.locator('[part="panel"]').textContent()).not.toContain('Alice');

    // Alice again: her conversation is back.
    await loadBundle(page);
    await mountVia(page, { ...base, userId: 'alice', open: true });
    await page.locator('[part~="user"]').waitFor();
    expect(await page.evaluate(() => (window as unknown as W).__w.messages.map((m) => [m.role, m.content, m.state]))).toEqual([
      ['user', 'Alice secret question', 'done'],
      ['assistant', 'You said: Alice secret question', 'done'],
    ]);
    expect(await page.locator('[part~="user"]').textContent()).toContain('Alice secret question');

    await page.evaluate(() => (window as unknown as W).__w.reset());
    const left = widgetKeys((await storage(page)).local);
    expect(left.filter((k) => k.includes(':user:alice'))).toEqual([]);
    expect(left).toEqual(['codegpt-widget:v1:mock-a:user:bob:ui']);
    expect(await page.locator('[part~="message"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  // ---------------------------------------------------------------------------------------------
  // 4. Continuity across pages

  it('the open panel, the unsent draft and the conversation follow the visitor to the next page', async () => {
    const { page, context, watch } = await open();
    const attrs = { 'agent-id': 'mock-continuity', 'token-endpoint': '/dev/token' };
    await loadWidget(page, server.url, attrs, '/fixtures/blank.html?p=1');
    await ask(page, 'First page question');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: First page question' });
    await page.locator('[part="input"]').fill('Half-typed draft');

    await loadWidget(page, server.url, attrs, '/fixtures/blank.html?p=2');
    expect(new URL(page.url()).search).toBe('?p=2');
    await page.locator('[part="panel"]').waitFor();
    expect(await page.locator('[part="launcher"]').getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('[part="input"]').inputValue()).toBe('Half-typed draft');
    expect(await page.locator('[part~="user"]').count()).toBe(1);
    expect(await page.locator('[part~="user"]').textContent()).toContain('First page question');
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: 'You said: First page question' });
    expect(await page.locator('[part="error"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('navigating mid-stream keeps the partial answer on the next page, marked interrupted with Retry; Retry finishes it', async () => {
    const { page, context, watch } = await open();
    const attrs = { 'agent-id': 'mock-slow', 'token-endpoint': '/dev/token' };
    const question = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen';
    await loadWidget(page, server.url, attrs, '/fixtures/blank.html?p=1');
    await ask(page, question);
    await page.waitForFunction(() => {
      const c = document.querySelector('codegpt-chat')?.shadowRoot?.querySelector('[data-state="streaming"] [part="content"]');
      return !!c && (c.textContent ?? '').length > 0;
    });
    const partialBefore = (await page.locator('[data-state="streaming"] [part="content"]').textContent()) ?? '';
    expect(partialBefore.length).toBeGreaterThan(0);

    await loadWidget(page, server.url, attrs, '/fixtures/blank.html?p=2');
    const assistant = page.locator('[part~="message"][part~="assistant"]');
    await assistant.waitFor();
    expect(await assistant.getAttribute('data-state')).toBe('error');
    const partial = (await assistant.locator('[part="content"]').textContent()) ?? '';
    expect(partial.startsWith(partialBefore)).toBe(true);
    expect(partial.length).toBeLessThan(`You said: ${question}`.length);
    expect(`You said: ${question}`.startsWith(partial)).toBe(true);
    expect(await page.locator('[part="error"]').textContent()).toContain('The answer was interrupted.');
    expect(await page.locator('[part="retry"]').count()).toBe(1);

    await page.locator('[part="retry"]').click();
    await page.locator('[part~="assistant"][data-state="done"]').waitFor({ timeout: 30_000 });
    expect(await lastAnswer(page)).toEqual({ state: 'done', text: `You said: ${question}` });
    expect(await page.locator('[part~="user"]').count()).toBe(1);
    expect(await page.locator('[part~="assistant"][data-state]').count()).toBe(1);
    expect(await page.locator('[part="error"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  // ---------------------------------------------------------------------------------------------
  // 5. Embed modes

  it('<codegpt-chat> written in HTML mounts; title, theme, accent and locale update live; removing it destroys it', async () => {
    const { page, context, watch } = await open();
    await page.goto(`${server.url}/fixtures/visitors-a-element.html`);
    const launcher = page.locator('[part="launcher"]');
    await launcher.waitFor();
    const host = page.locator('#chat');
    const background = () => launcher.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await host.getAttribute('data-theme')).toBe('light');
    expect(await background()).toBe('rgb(10, 127, 63)');
    expect(await page.evaluate(() => (document.getElementById('chat') as unknown as { isOpen: boolean }).isOpen)).toBe(false);
    await page.evaluate(() => (document.getElementById('chat') as unknown as { open(): void }).open());
    expect(await titleText(page)).toBe('Help desk');
    expect(await page.evaluate(() => (document.getElementById('chat') as unknown as { isOpen: boolean }).isOpen)).toBe(true);

    await page.evaluate(() => {
      const el = document.getElementById('chat')!;
      el.setAttribute('title', 'Support');
      el.setAttribute('theme', 'dark');
      el.setAttribute('accent', '#ff0000');
      el.setAttribute('locale', 'es');
    });
    await expect.poll(() => titleText(page)).toBe('Support');
    expect(await host.getAttribute('data-theme')).toBe('dark');
    await expect.poll(background).toBe('rgb(255, 0, 0)');
    await expect.poll(() => launcherLabel(page)).toBe('Cerrar chat');
    // The custom title stays over the Spanish default.
    expect(await titleText(page)).toBe('Support');

    await page.evaluate(() => document.getElementById('chat')!.remove());
    await page.waitForTimeout(100);
    const gone = await page.evaluate(() => {
      const el = document.querySelector('#chat') as unknown as null;
      return el;
    });
    expect(gone).toBeNull();
    expect(await page.locator('[part="launcher"]').count()).toBe(0);
    expect(await page.locator('[part="panel"]').count()).toBe(0);
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it('a removed <codegpt-chat> is dead: its shadow root is empty and isOpen is false (kept reference)', async () => {
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

  it('defineElement() is idempotent: calling it twice (and with a custom tag twice) does not throw', async () => {
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
      return {
        threw: null,
        same: customElements.get('codegpt-chat') === before && !!before,
        custom: typeof customElements.get('visitors-a-chat'),
      };
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
    const completions: { agentId: string; auth: string }[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/chat/completions') && r.method() === 'POST') {
        completions.push({ agentId: (r.postDataJSON() as { agentId: string }).agentId, auth: r.headers()['authorization'] ?? '' });
      }
    });
    await loadBundle(page);
    await page.evaluate(() => {
      const api = (window as unknown as W).CodeGPTWidget;
      api.mount({ agentId: 'mock-one', tokenEndpoint: '/dev/token?key=visitors-a-one' });
      api.mount({ agentId: 'mock-two', tokenEndpoint: '/dev/token?key=visitors-a-two', position: 'left' });
    });
    expect(await page.locator('codegpt-chat').count()).toBe(2);
    const one = 'codegpt-chat[data-codegpt-agent="mock-one"]';
    const two = 'codegpt-chat[data-codegpt-agent="mock-two"]';
    expect([await tokenCalls('visitors-a-one'), await tokenCalls('visitors-a-two')]).toEqual([0, 0]);

    await ask(page, 'Question for one', one);
    await page.locator(`${one} [part~="assistant"][data-state="done"]`).waitFor();
    await page.locator(`${one} [part="close"]`).click();
    await ask(page, 'Question for two', two);
    await page.locator(`${two} [part~="assistant"][data-state="done"]`).waitFor();
    expect(await page.locator(`${one} [part~="assistant"] [part="content"]`).textContent()).toBe('You said: Question for one');
    expect(await page.locator(`${two} [part~="assistant"] [part="content"]`).textContent()).toBe('You said: Question for two');

    const { session } = await storage(page);
    expect(widgetKeys(session).filter((k) => !k.endsWith(':ui'))).toEqual(['codegpt-widget:v1:mock-one', 'codegpt-widget:v1:mock-two']);
    expect(session['codegpt-widget:v1:mock-one']).toContain('Question for one');
    expect(session['codegpt-widget:v1:mock-one']).not.toContain('Question for two');
    expect(session['codegpt-widget:v1:mock-two']).toContain('Question for two');
    expect(session['codegpt-widget:v1:mock-two']).not.toContain('Question for one');

    expect([await tokenCalls('visitors-a-one'), await tokenCalls('visitors-a-two')]).toEqual([1, 1]);
    expect(completions.map((c) => c.agentId)).toEqual(['mock-one', 'mock-two']);
    expect(completions[0]!.auth).toMatch(/^Bearer \S+/);
    expect(completions[0]!.auth).not.toBe(completions[1]!.auth);
    expect(watch.errors).toEqual([]);
    await context.close();
  });
});
