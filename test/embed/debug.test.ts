// @vitest-environment happy-dom
import { batch, computed, signal } from '@preact/signals-core';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import { resolveOptions, type ResolvedOptions } from '../../widget/core/options';
import type { ChatStatus, Message } from '../../widget/core/types';
import { createDebug } from '../../widget/embed/debug';
import type { ChatModel } from '../../widget/model/chat-model';

const TOKEN = 'SECRET-TOKEN-123';
const ENDPOINT = 'https://site.test/api/token';
const API = 'https://api.test/v1/chat/completions';

let info: MockInstance<typeof console.info>;
let warn: MockInstance<typeof console.warn>;

/** Every logged argument, deeply stringified; functions by their source, elements by their HTML. */
function logged(spy: MockInstance<(...args: unknown[]) => void> = info as never): string {
  const replacer = (_key: string, value: unknown) =>
    typeof value === 'function' ? value.toString() : value instanceof Element ? value.outerHTML : value;
  return spy.mock.calls.map((args) => JSON.stringify(args, replacer)).join('\n');
}
const everything = () => logged(info as never) + '\n' + logged(warn as never);
/** The logged lines (arguments after the prefix, joined by spaces). */
const lines = (spy: MockInstance<(...args: unknown[]) => void>) => spy.mock.calls.map((args) => args.slice(1).join(' '));

function makeHost(): HTMLElement {
  const host = document.createElement('codegpt-chat');
  const shadow = host.attachShadow({ mode: 'open' });
  shadow.innerHTML = '<button part="launcher"></button><div part="panel"></div>';
  document.body.appendChild(host);
  return host;
}

function options(extra: Record<string, unknown> = {}): ResolvedOptions {
  return resolveOptions({ agentId: 'agent-1', tokenEndpoint: ENDPOINT, ...extra }, 'https://site.test/page').options;
}

const noFetch = (() => Promise.reject(new Error('unused'))) as unknown as typeof fetch;

beforeEach(() => {
  info = vi.spyOn(console, 'info').mockImplementation(() => {});
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});

afterEach(() => {
  document.body.innerHTML = '';
  document.body.removeAttribute('style');
  vi.restoreAllMocks();
});

describe('createDebug: configuration', () => {
  it('logs every resolved field, with functions, strings, the nonce and the target masked', () => {
    const target = document.createElement('section');
    const o = options({
      mode: 'inline',
      target,
      getToken: async () => ({ token: 'GETTOKEN-BODY-MARKER', expiresIn: 600 }),
      fetch: () => 'FETCH-BODY-MARKER',
      strings: { title: 'CUSTOM-STRING-MARKER' },
      cspNonce: 'NONCE-MARKER',
      suggestions: ['How do I start?'],
    });
    const debug = createDebug(window, makeHost(), o, noFetch);
    const call = info.mock.calls.find((c) => c[1] === 'config');
    expect(call?.[0]).toBe('[codegpt-widget]');
    const config = call![2] as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual(Object.keys(o).sort());
    expect(config).toMatchObject({
      agentId: 'agent-1',
      tokenEndpoint: ENDPOINT,
      mode: 'inline',
      getToken: '(function)',
      fetch: '(function)',
      strings: '(custom)',
      cspNonce: '(set)',
      target: 'SECTION',
      suggestions: ['How do I start?'],
      open: false,
      persist: 'session',
    });
    const text = everything();
    for (const secret of ['GETTOKEN-BODY-MARKER', 'FETCH-BODY-MARKER', 'CUSTOM-STRING-MARKER', 'NONCE-MARKER', '<section']) {
      expect(text).not.toContain(secret);
    }
    debug.dispose();
  });

  it('unset optional fields stay undefined; a selector target is shown as given', () => {
    const o = options({ mode: 'inline', target: '#chat' });
    createDebug(window, makeHost(), o, noFetch).dispose();
    const config = info.mock.calls.find((c) => c[1] === 'config')![2] as Record<string, unknown>;
    expect(config).toMatchObject({ target: '#chat', getToken: undefined, fetch: undefined, strings: undefined, cspNonce: undefined });
  });

  it("logs the host page's root font size", () => {
    document.documentElement.style.fontSize = '10px';
    createDebug(window, makeHost(), options(), noFetch).dispose();
    document.documentElement.removeAttribute('style');
    const line = lines(info as never).find((l) => l.startsWith('root font-size'));
    expect(line).toContain('10px');
    expect(line).toContain('px/em');
  });
});

describe('createDebug: requests', () => {
  const tokenBody = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });

  it('logs token requests (start, status, expiresIn, ms) and never the token; the body stays readable', async () => {
    let now = 1000;
    vi.spyOn(window.performance, 'now').mockImplementation(() => now);
    const inner = vi.fn(async (input: RequestInfo | URL) => {
      now += 42;
      return String(input) === ENDPOINT ? tokenBody({ token: TOKEN, expiresIn: 600, apiBase: 'https://api.test/v1' }) : new Response('data: x', { status: 200 });
    }) as unknown as typeof fetch;
    const debug = createDebug(window, makeHost(), options(), inner);

    const res = await debug.fetch(ENDPOINT, { method: 'POST', credentials: 'same-origin' });
    expect(await res.json()).toEqual({ token: TOKEN, expiresIn: 600, apiBase: 'https://api.test/v1' });
    await vi.waitFor(() => expect(lines(info as never)).toContain('token request #1 200 expiresIn 600 42ms'));
    expect(lines(info as never)).toContain('token request #1 start');

    // A refresh is numbered; the chat request with the token in its Authorization header is logged without it.
    await debug.fetch(ENDPOINT, { method: 'POST' });
    await vi.waitFor(() => expect(lines(info as never)).toContain('token request #2 200 expiresIn 600 42ms'));
    const chat = await debug.fetch(API, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{"messages":[]}' });
    expect(await chat.text()).toBe('data: x');
    expect(lines(info as never)).toContain(`POST ${API} 200 42ms`);
    expect(inner).toHaveBeenCalledTimes(3);
    expect(everything()).not.toContain(TOKEN);
    expect(everything()).not.toContain('Authorization');
    debug.dispose();
  });

  it('never echoes a non-numeric expiresIn or a non-JSON body, and accepts Request and URL inputs', async () => {
    const bodies = [tokenBody({ token: TOKEN, expiresIn: TOKEN }), new Response(`not json ${TOKEN}`, { status: 502 })];
    const inner = vi.fn(async () => bodies.shift() ?? new Response(null, { status: 204 })) as unknown as typeof fetch;
    const debug = createDebug(window, makeHost(), options(), inner);
    await debug.fetch(new Request(ENDPOINT, { method: 'POST' }));
    await debug.fetch(new URL(ENDPOINT));
    await debug.fetch(new Request(API, { method: 'PUT' }));
    await vi.waitFor(() => expect(info.mock.calls.filter((c) => c.includes('expiresIn'))).toHaveLength(2));
    const [a, b] = info.mock.calls.filter((c) => c.includes('expiresIn'));
    expect(a!.slice(1, 5)).toEqual(['token request #1', 200, 'expiresIn', 'string']);
    expect(b!.slice(1, 5)).toEqual(['token request #2', 502, 'expiresIn', 'undefined']);
    expect(lines(info as never).some((l) => l.startsWith(`PUT ${API} 204`))).toBe(true);
    expect(everything()).not.toContain(TOKEN);
    debug.dispose();
  });

  it('a failed request is warned about and its error rethrown unchanged', async () => {
    const failure = new TypeError('Failed to fetch');
    const inner = vi.fn(async () => {
      throw failure;
    }) as unknown as typeof fetch;
    const debug = createDebug(window, makeHost(), options(), inner);
    await expect(debug.fetch(API)).rejects.toBe(failure);
    await expect(debug.fetch(ENDPOINT)).rejects.toBe(failure);
    const warned = lines(warn as never);
    expect(warned[0]).toMatch(new RegExp(`^GET ${API} failed \\d+ms TypeError: Failed to fetch$`));
    expect(warned[1]).toMatch(/^token request #1 failed \d+ms TypeError: Failed to fetch$/);
    debug.dispose();
  });
});

/** A chat model made of signals, driven by hand. */
function fakeChat() {
  const status = signal<ChatStatus>('idle');
  const messages = signal<Message[]>([]);
  const error = signal<WidgetError | null>(null);
  const chat = { status, messages, error, busy: computed(() => status.value === 'connecting' || status.value === 'streaming') } as unknown as ChatModel;
  const answer = (content: string, state: Message['state'] = 'streaming') => {
    const list = messages.value.slice(0, -1);
    messages.value = [...list, { id: 'a', role: 'assistant', content, state }];
  };
  return { chat, status, messages, error, answer };
}

describe('createDebug: watch', () => {
  it('logs status transitions in order with ms since the question, the first character, and the answer', () => {
    let now = 0;
    vi.spyOn(window.performance, 'now').mockImplementation(() => now);
    const { chat, status, messages, answer } = fakeChat();
    const debug = createDebug(window, makeHost(), options(), noFetch);
    info.mockClear();
    const stop = debug.watch(chat);
    expect(info).not.toHaveBeenCalled();

    now = 1000;
    messages.value = [
      { id: 'q', role: 'user', content: 'Hi?', state: 'done' },
      { id: 'a', role: 'assistant', content: '', state: 'streaming' },
    ];
    status.value = 'connecting';
    now = 1300;
    status.value = 'streaming';
    now = 1350;
    answer('Hel');
    now = 1400;
    answer('Hello');
    now = 1500;
    batch(() => {
      answer('Hello', 'done');
      status.value = 'idle';
    });
    expect(lines(info as never)).toEqual([
      'idle → connecting 0ms',
      'connecting → streaming 300ms',
      'first answer character 350ms',
      'streaming → idle 500ms',
      'answer done 5 chars 500ms',
    ]);
    expect(warn).not.toHaveBeenCalled();

    stop();
    status.value = 'connecting';
    expect(info).toHaveBeenCalledTimes(5);
    debug.dispose();
  });

  it('an error is warned with code, status and message; a retry times its first new character', () => {
    let now = 0;
    vi.spyOn(window.performance, 'now').mockImplementation(() => now);
    const { chat, status, messages, error, answer } = fakeChat();
    const debug = createDebug(window, makeHost(), options(), noFetch);
    info.mockClear();
    debug.watch(chat);

    messages.value = [
      { id: 'q', role: 'user', content: 'Hi?', state: 'done' },
      { id: 'a', role: 'assistant', content: 'Partial', state: 'streaming' },
    ];
    status.value = 'streaming';
    now = 200;
    batch(() => {
      answer('Partial', 'error');
      status.value = 'error';
      error.value = new WidgetError('interrupted', 'The answer was cut off.', { status: 502 });
    });
    expect(warn.mock.calls.map((c) => c.slice(1))).toEqual([['error', 'interrupted', 502, 'The answer was cut off.']]);

    // Retry: the old text stays while connecting; only new text counts as the first character.
    now = 1000;
    batch(() => {
      answer('Partial');
      status.value = 'connecting';
      error.value = null;
    });
    now = 1100;
    answer('Partial');
    now = 1250;
    answer('New');
    expect(lines(info as never)).toEqual([
      'idle → streaming 0ms',
      'streaming → error 200ms',
      'answer error 7 chars 200ms',
      'error → connecting 0ms',
      'first answer character 250ms',
    ]);
    expect(warn).toHaveBeenCalledTimes(1);
    debug.dispose();
  });
});

describe('createDebug: CSP violations', () => {
  function violation(): Event {
    const event = new Event('securitypolicyviolation');
    Object.assign(event, { effectiveDirective: 'connect-src', blockedURI: 'https://blocked.test/api' });
    return event;
  }

  it('warns with the directive and blocked URI until disposed, then removes its listener', () => {
    const remove = vi.spyOn(document, 'removeEventListener');
    const debug = createDebug(window, makeHost(), options(), noFetch);
    document.dispatchEvent(violation());
    expect(warn.mock.calls.map((c) => c.slice(1))).toEqual([['CSP blocked', 'connect-src', 'https://blocked.test/api']]);
    debug.dispose();
    expect(remove.mock.calls.filter((c) => c[0] === 'securitypolicyviolation')).toHaveLength(1);
    document.dispatchEvent(violation());
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('createDebug: check', () => {
  /** Lays the launcher out at x 0–40 and the panel at x 100–140 (happy-dom has no layout). */
  function placed(host: HTMLElement, width = 40) {
    for (const [part, x] of [['launcher', 0], ['panel', 100]] as const) {
      const el = host.shadowRoot!.querySelector(`[part=${part}]`)!;
      const rect = { left: x, top: 10, width, height: width && 20, right: x + width, bottom: 30, x, y: 10, toJSON() {} };
      vi.spyOn(el, 'getBoundingClientRect').mockReturnValue(rect as DOMRect);
    }
  }
  const topmost = (fn: (x: number, y: number) => Element | null) => vi.spyOn(document, 'elementFromPoint').mockImplementation(fn);

  it('warns naming the element covering the launcher, with its z-index and the custom property', () => {
    const host = makeHost();
    placed(host);
    const cover = document.createElement('div');
    cover.id = 'cookie-banner';
    cover.className = 'overlay  sticky';
    cover.style.zIndex = '99999';
    document.body.appendChild(cover);
    const at = topmost((x) => (x < 50 ? cover : host));
    const debug = createDebug(window, host, options(), noFetch);
    debug.check();
    expect(at.mock.calls).toEqual([
      [20, 20],
      [120, 20],
    ]);
    const warned = lines(warn as never);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('launcher covered by div#cookie-banner.overlay.sticky');
    expect(warned[0]).toContain('z-index 99999');
    expect(warned[0]).toContain('--codegpt-z-index');
    debug.dispose();
  });

  it('stays quiet when the host is on top', () => {
    const host = makeHost();
    placed(host);
    const at = topmost(() => host);
    const debug = createDebug(window, host, options(), noFetch);
    debug.check();
    expect(at).toHaveBeenCalledTimes(2);
    expect(warn).not.toHaveBeenCalled();
    debug.dispose();
  });

  it('does not probe parts that are not laid out (display: none): elementFromPoint(0, 0) would blame the page', () => {
    const host = makeHost();
    placed(host, 0);
    const at = topmost(() => document.body);
    const debug = createDebug(window, host, options(), noFetch);
    debug.check();
    expect(at).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
    debug.dispose();
  });

  it('warns when body makes position: fixed relative to itself', () => {
    const host = makeHost();
    topmost(() => host);
    const debug = createDebug(window, host, options(), noFetch);
    document.body.style.setProperty('will-change', 'opacity');
    document.body.style.setProperty('contain', 'style');
    debug.check();
    expect(warn).not.toHaveBeenCalled();

    document.body.style.transform = 'scale(1)';
    document.body.style.setProperty('contain', 'paint');
    debug.check();
    const warned = lines(warn as never);
    expect(warned).toHaveLength(2);
    expect(warned[0]).toMatch(/^<body> has transform: (scale|matrix)\(1.*position: fixed is relative to it/);
    expect(warned[1]).toMatch(/^<body> has contain: paint/);
    debug.dispose();
  });

  it('a filter counts on body but not on the root element (Filter Effects spec)', () => {
    const host = makeHost();
    topmost(() => host);
    const debug = createDebug(window, host, options(), noFetch);
    document.documentElement.style.filter = 'grayscale(1)';
    debug.check();
    expect(warn).not.toHaveBeenCalled();
    document.documentElement.removeAttribute('style');
    document.body.style.filter = 'grayscale(1)';
    debug.check();
    expect(lines(warn as never)).toEqual([expect.stringMatching(/^<body> has filter: grayscale\(1\)/)]);
    debug.dispose();
  });
});
