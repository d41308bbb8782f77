import { computed, effect, signal } from '@preact/signals-core';
import { h, render } from 'preact';
import { WidgetError } from '../core/errors';
import { createIdFactory } from '../core/ids';
import { configError, resolveOptions, type ResolvedOptions, type WidgetOptions } from '../core/options';
import { isRtl, pickLocale, unpack } from '../core/locales';
import { localePack } from './locale-source';
import { en } from '../core/strings';
import type { Messages } from '../core/conversation';
import type { Message } from '../core/types';
import { acquireTokenProvider } from '../io/token-provider';
import { createHttpTransport } from '../io/transport';
import { createChatModel } from '../model/chat-model';
import { createUiModel } from '../model/ui-model';
import { App } from '../view/App';
import type { ViewContext } from '../view/context';
import cssText from '../view/styles.css?inline';
import { createEmitter, type Listener, type WidgetEvents } from './events';
import { createCspGuard, isCspBlock } from './csp-guard';
import { loadDebug } from './debug-source';
import { natives } from './natives';
import { createScrollLock } from './scroll-lock';
import { createConversationStore } from './storage';
import { adoptStyles } from './styles';

/** One mounted widget (embed.md section 3). Every instance is independent of every other. */
export interface ChatWidget {
  /** Show the panel (bubble mode). */
  open(): void;
  /** Hide the panel (bubble mode). */
  close(): void;
  toggle(): void;
  /** Ask a question as if typed; resolves when the answer ends (done, stopped or failed). */
  send(text: string): Promise<void>;
  /** Stop the answer being streamed; the text received so far is kept. */
  stop(): void;
  /** Clear the conversation and what was stored for it. */
  reset(): void;
  /** Abort requests, remove DOM, listeners and timers; the instance is dead afterwards. */
  destroy(): void;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<K extends keyof WidgetEvents>(event: K, fn: Listener<K>): () => void;
  readonly isOpen: boolean;
  readonly messages: readonly Message[];
  /** The `<codegpt-chat>` host element, or null once destroyed or when mounting failed. */
  readonly element: HTMLElement | null;
}

/** Options that update a live widget without remounting it (the custom element's observed attributes). */
export const LIVE = ['title', 'theme', 'accent', 'locale', 'placeholder'] as const;
export type LiveOptions = Pick<WidgetOptions, (typeof LIVE)[number]>;

/** Internal: a ChatWidget the custom element can update in place. */
export interface MountedWidget extends ChatWidget {
  update(options: LiveOptions): void;
}

/**
 * Hosts created by mount(), with their widget: the custom element must not mount into them a second
 * time, and its methods (`el.open()`…) reach the widget mount() made.
 */
export const managedHosts = new WeakMap<Element, MountedWidget | null>();

let mountCount = 0;

/**
 * Mount a widget. Never throws into the host page: a configuration problem is reported with one
 * `console.error` that names the option and its attribute, and an inert instance is returned.
 */
export function mount(options: WidgetOptions): ChatWidget {
  return mountInto(undefined, options);
}

/** Mount into `host` (the custom element) or into a new `<codegpt-chat>`. */
export function mountInto(host: HTMLElement | undefined, options: WidgetOptions): MountedWidget {
  try {
    if (typeof document === 'undefined') throw new WidgetError('config', 'codegpt-widget: mount() needs a browser document.');
    const { options: resolved, warnings } = resolveOptions(options, document.location?.href);
    for (const w of warnings) console.warn(w);
    return create(host, resolved);
  } catch (error) {
    console.error(error instanceof WidgetError ? error.message : error);
    return inert();
  }
}

function create(existingHost: HTMLElement | undefined, o: ResolvedOptions): MountedWidget {
  const doc = existingHost?.ownerDocument ?? document;
  const win = doc.defaultView ?? window;
  const fail = (problem: string) => configError('target', problem);
  let container: Element | null = null;
  if (o.mode === 'inline' && !existingHost) {
    const target = o.target;
    if (typeof target === 'string') {
      try {
        container = doc.querySelector(target);
      } catch {
        throw fail(`"${target}" is not a valid CSS selector.`);
      }
      if (!container) throw fail(`"${target}" matches no element on this page.`);
    } else if (typeof (target as Element | undefined)?.appendChild === 'function') {
      container = target as Element;
    } else {
      throw fail('must be an Element or a CSS selector.');
    }
  }

  const host = existingHost ?? doc.createElement('codegpt-chat');
  if (!existingHost) {
    // Marked before it is connected: the element's connectedCallback must not mount a second widget.
    managedHosts.set(host, null);
    host.setAttribute('data-codegpt-agent', o.agentId);
  }
  const shadow = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  adoptStyles(shadow, cssText, o.cspNonce);
  const focusPart = (part: string) => shadow.querySelector<HTMLElement>(`[part="${part}"]`)?.focus();

  const live = signal<LiveOptions>(Object.fromEntries(LIVE.map((name) => [name, o[name]])));

  /** What destroy() undoes, in order. */
  const cleanups: (() => void)[] = [];
  const listen = (target: EventTarget, type: string, fn: () => void) => {
    target.addEventListener(type, fn);
    cleanups.push(() => target.removeEventListener(type, fn));
  };
  const emitter = createEmitter(host, (e) => console.error('codegpt-widget: an event listener threw:', e));
  // Captured natives, not whatever the host page has put on `window` since (reliability E4).
  const { timers, fetch: nativeFetch, wait } = natives(win);
  // Every request goes through the CSP guard, so a connect-src block reads as one (reliability B4).
  const guard = createCspGuard(doc, o.fetch ?? nativeFetch, wait);
  // Debug mode (data-debug): requests wait for the logger so it sees the first token fetch.
  let debugCheck: (() => void) | undefined;
  let send = guard.fetch;
  if (o.debug) {
    const debug = loadDebug().then((create) => {
      const d = dead ? undefined : create?.(win, host, o, guard.fetch);
      if (d) {
        cleanups.push(d.watch(chat), d.dispose);
        debugCheck = d.check;
      }
      return d;
    });
    send = async (input, init) => ((await debug)?.fetch ?? guard.fetch)(input, init);
  }
  const { provider: tokens, release } = acquireTokenProvider({
    ...o,
    endpoint: o.tokenEndpoint,
    credentials: o.tokenCredentials,
    fetch: send,
    timers,
  });
  const transport = createHttpTransport({ ...o, tokens, fetch: send, timers });
  const store = createConversationStore(win, o.persist, o.agentId, o.userId);
  const stored = store.loadUi();
  const initial = store.load();
  // Privacy: nothing is written to storage before the visitor's first interaction (a click, a key,
  // a send), unless an earlier page of this visit already did.
  let interacted = initial.length > 0 || stored.open !== undefined;
  const save = (messages: Messages) => void (interacted && store.save(messages));
  const chat = createChatModel({
    transport,
    createId: createIdFactory(),
    // One view update per frame; timers when the tab is hidden (no frames there).
    schedule: (cb) => {
      if (win.requestAnimationFrame && doc.visibilityState !== 'hidden') {
        const id = win.requestAnimationFrame(cb);
        return () => win.cancelAnimationFrame(id);
      }
      const id = timers.set(cb, 16);
      return () => timers.clear(id);
    },
    initial,
    save,
    emit: (event, detail) => emitter.emit(event, detail as WidgetEvents[typeof event]),
  });
  // The view names an error by its code; a CSP block is a `config` error with its own words (B4).
  // Strings in the visitor's language; a pack still loading shows English until it arrives.
  const strings = computed(() => {
    const l = live.value;
    const nav = win.navigator;
    const code = pickLocale(l.locale, nav.languages ?? [nav.language]);
    const pack = code === 'en' ? undefined : localePack(code);
    const base = pack ? unpack(pack) : en;
    const custom = o.strings;
    const s = {
      ...base,
      ...custom,
      errors: { ...base.errors, ...custom?.errors },
      title: l.title ?? custom?.title ?? base.title,
      placeholder: l.placeholder ?? custom?.placeholder ?? base.placeholder,
      lang: pack ? code : 'en',
      rtl: !!pack && isRtl(code),
    };
    return isCspBlock(chat.error.value) ? { ...s, errors: { ...s.errors, config: s.cspBlocked } } : s;
  });
  // Host attributes follow the live options (and the language shown: right-to-left mirrors the
  // launcher's side). CSSOM, not a style attribute: allowed under a strict style-src.
  cleanups.push(
    effect(() => {
      const l = live.value;
      host.setAttribute('data-theme', l.theme ?? 'auto');
      host.setAttribute('data-position', (o.position === 'left') !== strings.value.rtl ? 'left' : 'right');
      if (l.accent) host.style.setProperty('--codegpt-accent', l.accent);
      else host.style.removeProperty('--codegpt-accent');
    }),
  );
  const bubble = o.mode === 'bubble';
  const ui = createUiModel({ open: bubble && (stored.open ?? o.open), draft: stored.draft });
  ui.online.value = win.navigator.onLine !== false;
  const scrollLock = createScrollLock(doc, win, host);
  // The open panel goes to the browser's top layer, above any z-index of the page (Popover API).
  if (bubble && 'showPopover' in host) host.setAttribute('popover', 'manual');
  const layer = (open: boolean) => {
    try {
      if (host.hasAttribute('popover')) host[open ? 'showPopover' : 'hidePopover']();
    } catch {
      // Not connected yet, or already in that state: the fixed z-index still applies.
    }
  };
  let dead = false;
  const setOpen = (open: boolean) => {
    if (dead || !bubble || ui.isOpen.value === open) return;
    ui.isOpen.value = open;
    scrollLock.update(open);
    layer(open);
    if (open) tokens.prefetch();
    if (open && debugCheck) timers.set(debugCheck, 300);
    emitter.emit(open ? 'open' : 'close', {});
    // Focus follows the panel: into the input on open, back to the launcher on close.
    timers.set(() => !dead && focusPart(open ? 'input' : 'launcher'), 0);
  };

  const reset = () => {
    if (dead) return;
    chat.reset();
    store.clear();
    ui.feedback.value = {};
  };
  const ctx: ViewContext = {
    chat,
    ui,
    strings,
    setOpen,
    rate(messageId, value) {
      const next = { ...ui.feedback.value };
      if (value) next[messageId] = value;
      else delete next[messageId];
      ui.feedback.value = next;
      emitter.emit('feedback', { messageId, value });
    },
    clear() {
      reset();
      focusPart('input');
    },
    async copyAnswer(message) {
      try {
        await win.navigator.clipboard.writeText(message.content);
        ui.copied.value = message.id;
        timers.set(() => ui.copied.value === message.id && (ui.copied.value = null), 1500);
      } catch {
        // No clipboard (insecure context, permission refused): the button stays as it was.
      }
    },
    // The resolved options hold the rest of the view's config (mode, welcome, suggestions, imageHosts).
    config: { ...o, pageUrl: doc.location?.href, idPrefix: `cgw${(++mountCount).toString(36)}` },
  };

  // Rule 1 of embed.md section 5: the token is fetched lazily, on the first sign of interest.
  const warm = () => tokens.prefetch();
  listen(shadow, 'pointerover', warm);
  listen(shadow, 'focusin', warm);
  const touched = () => (interacted = true);
  listen(shadow, 'pointerdown', touched);
  listen(shadow, 'keydown', touched);
  // Multi-page continuity: the open state and the draft follow the visitor; an answer still
  // streaming when the page goes away is kept (restored as interrupted, with Retry).
  cleanups.push(effect(() => {
    const state = { open: ui.isOpen.value, draft: ui.draft.value };
    if (interacted && bubble) store.saveUi(state);
  }));
  listen(win, 'pagehide', () => chat.busy.value && save(chat.messages.value));
  listen(win, 'online', () => (ui.online.value = true));
  listen(win, 'offline', () => (ui.online.value = false));
  render(h(App, { ctx }), shadow);
  if (!existingHost) (container ?? doc.body).appendChild(host);
  if (ui.isOpen.value) {
    tokens.prefetch();
    scrollLock.update(true);
    layer(true);
  }
  queueMicrotask(() => !dead && emitter.emit('ready', {}));
  cleanups.push(chat.dispose, emitter.clear, () => render(null, shadow), release, guard.dispose, scrollLock.dispose);
  if (!existingHost) cleanups.push(() => host.remove());

  const widget: MountedWidget = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!ui.isOpen.value),
    send: (text) => (dead ? Promise.resolve() : chat.send(text)),
    stop: () => chat.stop(),
    reset,
    destroy() {
      if (dead) return;
      dead = true;
      for (const undo of cleanups) undo();
    },
    on: (event, fn) => (dead ? () => {} : emitter.on(event, fn)),
    update(next) {
      if (dead) return;
      live.value = { ...live.value, ...next };
    },
    get isOpen() {
      return bubble ? ui.isOpen.value : !dead;
    },
    get messages() {
      return chat.messages.value;
    },
    get element() {
      return dead ? null : host;
    },
  };
  if (!existingHost) managedHosts.set(host, widget);
  return widget;
}

/** What a failed mount returns: every method is a harmless no-op. */
function inert(): MountedWidget {
  const noop = () => {};
  return {
    open: noop,
    close: noop,
    toggle: noop,
    send: () => Promise.resolve(),
    stop: noop,
    reset: noop,
    destroy: noop,
    on: () => noop,
    update: noop,
    isOpen: false,
    messages: [],
    element: null,
  };
}
