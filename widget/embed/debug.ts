/**
 * `data-debug` / `debug: true` (issue 7): logs to the console what integrators otherwise guess at:
 * the resolved configuration, token and API requests, stream timings, CSP violations, the host's
 * root font size and stacking problems. Never a token, a response body or an Authorization header.
 */
import type { ResolvedOptions } from '../core/options';
import type { ChatModel } from '../model/chat-model';

export interface Debug {
  /** Wraps the fetch it was given. */
  fetch: typeof fetch;
  /** Logs the chat's status transitions and timings; returns the unsubscribe. */
  watch(chat: ChatModel): () => void;
  /** Stacking check (call after the panel opens). */
  check(): void;
  /** Removes the CSP listener. */
  dispose(): void;
}

/** The one logging helper: console.info, or console.warn for problems when `warn` is true. */
const log = (warn: boolean, ...args: unknown[]) => console[warn ? 'warn' : 'info']('[codegpt-widget]', ...args);
const CSP = 'securitypolicyviolation';
/** Options shown only as set: they may hold secrets or are too long to be useful. */
const MASKED: Record<string, string> = { strings: '(custom)', cspNonce: '(set)' };

export function createDebug(
  win: Window,
  host: HTMLElement,
  options: ResolvedOptions,
  fetchFn: typeof fetch,
): Debug {
  const doc = win.document;
  const now = () => win.performance.now();
  const ms = (since: number) => Math.round(now() - since) + 'ms';
  const style = (el: Element) => win.getComputedStyle(el);

  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    // Functions by kind only; `target`, when an Element, by its tag name.
    config[key] = typeof value == 'function' ? '(function)' : (value != null && (MASKED[key] ?? (value as Element).tagName)) || value;
  }
  log(false, 'config', config);
  log(false, 'root font-size', style(doc.documentElement).fontSize, '(widget sizes are px/em: unaffected)');

  const onCsp = (e: Event) => {
    const v = e as SecurityPolicyViolationEvent;
    log(true, 'CSP blocked', v.effectiveDirective, v.blockedURI);
  };
  doc.addEventListener(CSP, onCsp);

  let tokens = 0;
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String((input as Request).url ?? input);
    const token = url == options.tokenEndpoint;
    const what = token ? 'token request #' + ++tokens : (init?.method ?? (input as Request).method ?? 'GET') + ' ' + url;
    const t0 = now();
    if (token) log(false, what, 'start');
    let res: Response;
    try {
      res = await fetchFn(input, init);
    } catch (e) {
      log(true, what, 'failed', ms(t0), String(e));
      throw e;
    }
    const took = ms(t0);
    if (!token) log(false, what, res.status, took);
    else
      void (async () => {
        let exp: unknown;
        try {
          exp = (await res.clone().json()).expiresIn;
        } catch {}
        // The number, else only its type: nothing else of the body is ever logged.
        log(false, what, res.status, 'expiresIn', typeof exp == 'number' ? exp : typeof exp, took);
      })();
    return res;
  }) as typeof fetch;

  return {
    fetch: wrapped,
    watch(chat) {
      let prev = chat.status.peek();
      let wasBusy = false;
      let t0 = 0;
      let base: string | undefined;
      let first = false;
      // Subscriptions, not an effect: the script-tag build loads this file separately, with no
      // signals runtime of its own, and the chat's signals come from the widget's.
      const step = () => {
        const status = chat.status.peek();
        const busy = chat.busy.peek();
        const list = chat.messages.peek();
        const last = list[list.length - 1];
        if (status != prev) {
          // A new question; a retry keeps the old text (`base`) until new text arrives.
          if (!wasBusy) (t0 = now()), (base = last?.content), (first = false);
          log(false, prev + ' → ' + status, ms(t0));
          const e = chat.error.peek();
          if (e) log(true, 'error', e.code, e.status, e.message);
          if (wasBusy && !busy) log(false, 'answer', last?.state, last?.content.length, 'chars', ms(t0));
          prev = status;
          wasBusy = busy;
        }
        if (busy && !first && last?.content && last.content != base) {
          first = true;
          log(false, 'first answer character', ms(t0));
        }
      };
      const offs = [chat.status.subscribe(step), chat.messages.subscribe(step)];
      return () => offs.forEach((off) => off());
    },
    check() {
      for (const part of ['launcher', 'panel']) {
        const r = host.shadowRoot?.querySelector(`[part=${part}]`)?.getBoundingClientRect();
        // elementFromPoint answers the host for anything in its shadow tree.
        const top = r?.width ? doc.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) : host;
        if (top && top != host) {
          const name = top.localName + (top.id && '#' + top.id) + [...top.classList].map((c) => '.' + c).join('');
          log(true, `${part} covered by ${name} (z-index ${style(top).zIndex}): raise --codegpt-z-index`);
        }
      }
      for (const el of [doc.documentElement, doc.body]) {
        for (const prop of ['transform', 'filter', 'perspective', 'contain', 'will-change']) {
          const v = style(el).getPropertyValue(prop);
          // Values that make `position: fixed` relative to the element; a filter on the root does not.
          if (/\(|^\d|paint|layout|strict|content\b|transform|filter|perspective/.test(v) && (prop != 'filter' || el != doc.documentElement)) {
            log(true, `<${el.localName}> has ${prop}: ${v}; position: fixed is relative to it`);
          }
        }
      }
    },
    dispose: () => doc.removeEventListener(CSP, onCsp),
  };
}
