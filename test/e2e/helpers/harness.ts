/**
 * In-page probes and a synthetic API for the hardening suite (reliability.md A–E).
 *
 * `installHarness(page)` adds an init script (runs before any page script, and is not subject to the
 * page's CSP) that defines `window.__hx`:
 * - XSS traps: `alert`, `confirm`, `prompt` and `print` are stubbed and record calls; payloads may
 *   also set `window.__xss` (reliability.md "No XSS").
 * - every `securitypolicyviolation` event, and long tasks (PerformanceObserver, reported not asserted);
 * - a synthetic chat API: `__hx.fetch` is given to `mount({ fetch })`; each completion request takes
 *   the next queued response factory (default: a short SSE answer). `__hx.sse()` builds an SSE
 *   `Response` in the page, with timers of the page (so `page.clock` drives it);
 * - `__hx.check()`: the output invariants over every widget shadow root.
 *
 * The harness is plain JavaScript inside a function: Playwright serialises it with toString(), so it
 * must not reference anything outside itself.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';

/** One completion request the synthetic fetch received. */
export interface SyntheticRequest {
  url: string;
  method: string;
  auth: string | null;
  body: { agentId?: string; messages?: { role: string; content: string }[] } | null;
  aborted: boolean;
}

/** How a synthetic SSE body is delivered. */
export interface SseOptions {
  /** ms between chunks (page timers). @defaultValue 0 */
  gapMs?: number;
  /** Chunks are already framed bytes (sent as is), not answer text. @defaultValue false */
  raw?: boolean;
  /**
   * After the chunks: `done` sends `data: [DONE]` and closes; `eof` closes; `stall` never sends
   * another byte; `error` makes the read reject with `error` (a TypeError unless `abortError`).
   * @defaultValue 'done'
   */
  end?: 'done' | 'eof' | 'stall' | 'error';
  /** With `end: 'error'`: reject with this message. @defaultValue 'Load failed' */
  errorMessage?: string;
  /** With `end: 'error'`: reject with an AbortError (not caused by the user) instead of a TypeError. */
  abortError?: boolean;
  /** Deliver the encoded body in slices of this many bytes (cuts multi-byte characters). */
  cutEvery?: number;
}

/** The script passed to addInitScript. */
function harness(): void {
  const w = window as unknown as Record<string, unknown>;
  const calls: string[] = [];
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    w[name] = (...args: unknown[]) => {
      calls.push(`${name}(${args.map(String).join(',')})`);
      return null;
    };
  }
  const violations: { directive: string; blocked: string; sample: string }[] = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample });
  });
  const longTasks: number[] = [];
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push(Math.round(entry.duration));
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // No long-task API: figures are reported as empty.
  }

  const encoder = new TextEncoder();
  /** Body pieces handed to readers so far, over every synthetic response (D7: reading stops early). */
  const pulls = { count: 0, cancelled: 0 };
  const frame = (text: string) => `data: ${JSON.stringify({ choices: [{ delta: { content: text } }] })}\n\n`;

  function sse(chunks: string[], options: Record<string, unknown> = {}): Response {
    const parts = chunks.map((c) => (options.raw ? c : frame(c)));
    const end = (options.end as string) ?? 'done';
    if (end === 'done') parts.push('data: [DONE]\n\n');
    const gap = Number(options.gapMs ?? 0);
    let pieces = parts.map((p) => encoder.encode(p));
    const cut = Number(options.cutEvery ?? 0);
    if (cut > 0) {
      const all = encoder.encode(parts.join(''));
      pieces = [];
      for (let at = 0; at < all.length; at += cut) pieces.push(all.slice(at, at + cut));
    }
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i > 0 && gap > 0) await new Promise((r) => setTimeout(r, gap));
        if (i < pieces.length) {
          pulls.count++;
          controller.enqueue(pieces[i++] as Uint8Array);
          return;
        }
        if (end === 'stall') return new Promise<void>(() => {});
        if (end === 'error') {
          const message = (options.errorMessage as string) ?? 'Load failed';
          controller.error(options.abortError ? new DOMException(message, 'AbortError') : new TypeError(message));
          return;
        }
        controller.close();
      },
      cancel() {
        pulls.cancelled++;
      },
    });
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  }

  type Factory = (request: Record<string, unknown>) => Response | Promise<Response>;
  const queue: Factory[] = [];
  const requests: Record<string, unknown>[] = [];

  async function syntheticFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    const url = String(input instanceof Request ? input.url : input);
    let body: unknown = null;
    try {
      body = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    } catch {
      body = init.body;
    }
    const headers = new Headers(init.headers);
    const record: Record<string, unknown> = { url, method: init.method ?? 'GET', auth: headers.get('authorization'), body, signal: init.signal };
    requests.push(record);
    const next = queue.shift();
    const response = next ? await next(record) : sse(['ok']);
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return response;
  }

  const XHTML = 'http://www.w3.org/1999/xhtml';
  const FORBIDDEN = ['script', 'iframe', 'object', 'embed', 'style', 'form', 'base', 'meta', 'svg', 'math', 'link', 'frame', 'frameset', 'applet', 'template', 'noscript'];
  /** What rendered markdown may contain. Generous on purpose: the parser may change, the invariants may not. */
  const CONTENT_TAGS = ['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'em', 'strong', 's', 'del', 'code', 'pre', 'ul', 'ol', 'li', 'br', 'hr', 'input', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'span', 'img', 'div', 'button', 'sup', 'sub', 'kbd', 'b', 'i'];
  const CONTENT_ATTRS = ['href', 'target', 'rel', 'part', 'type', 'disabled', 'checked', 'data-lang', 'start', 'alt', 'referrerpolicy', 'loading', 'decoding', 'src', 'aria-label', 'data-truncated', 'class', 'title', 'align', 'colspan', 'rowspan', 'width', 'height'];
  const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'xlink:href', 'srcset', 'poster', 'background', 'data', 'ping', 'cite', 'longdesc', 'manifest', 'codebase'];
  const SAFE_PROTOCOLS = ['http:', 'https:', 'mailto:'];

  /** The output invariants (reliability.md, "No XSS"); returns what is violated, [] when clean. */
  function check(): string[] {
    const bad: string[] = [];
    if (calls.length > 0) bad.push(`dialog stub called: ${calls.join('; ')}`);
    if (w.__xss !== undefined) bad.push(`window.__xss set to ${String(w.__xss)}`);
    for (const host of Array.from(document.querySelectorAll('codegpt-chat'))) {
      const root = host.shadowRoot;
      if (!root) continue;
      if (root.querySelectorAll('style').length > 0) bad.push('<style> in the shadow root');
      for (const el of Array.from(root.querySelectorAll('*'))) {
        const tag = el.localName;
        const inContent = !!el.closest('[part="content"]') && el.getAttribute('part') !== 'content';
        if (el.namespaceURI !== XHTML) bad.push(`non-HTML element <${tag}> (${String(el.namespaceURI)})`);
        if (FORBIDDEN.includes(tag)) bad.push(`forbidden element <${tag}>`);
        if (inContent && !CONTENT_TAGS.includes(tag)) bad.push(`unexpected element <${tag}> in content`);
        for (const attr of Array.from(el.attributes)) {
          const name = attr.name.toLowerCase();
          if (name.startsWith('on')) bad.push(`<${tag} ${name}>`);
          if (name === 'style') bad.push(`<${tag} style>`);
          if (inContent && !CONTENT_ATTRS.includes(name)) bad.push(`unexpected attribute <${tag} ${name}> in content`);
          if (URL_ATTRS.includes(name)) {
            let protocol = 'unparseable:';
            try {
              protocol = new URL(attr.value, document.baseURI).protocol;
            } catch {
              // stays unparseable
            }
            if (!SAFE_PROTOCOLS.includes(protocol)) bad.push(`<${tag} ${name}="${attr.value.slice(0, 60)}">`);
            if (name === 'src' && protocol === 'mailto:') bad.push(`<${tag} src=mailto:>`);
          }
          if (tag === 'a' && name === 'href') {
            const rel = (el.getAttribute('rel') ?? '').split(/\s+/);
            if (!rel.includes('noopener') || !rel.includes('noreferrer')) bad.push(`<a> without rel noopener noreferrer`);
            if (el.getAttribute('target') !== '_blank') bad.push(`<a> without target _blank`);
          }
        }
      }
    }
    return bad;
  }

  w.__hx = {
    calls,
    pulls,
    violations,
    longTasks,
    queue,
    requests,
    sse,
    fetch: syntheticFetch,
    check,
    token: 'sk-synthetic-0123456789abcdef',
    getToken: () => Promise.resolve({ token: 'sk-synthetic-0123456789abcdef', expiresIn: 600 }),
  };
}

/** Adds the harness to every document the page loads from now on. */
export async function installHarness(page: Page): Promise<void> {
  await page.addInitScript(harness);
}

/** Requests the synthetic fetch has seen so far (signals reduced to `aborted`). */
export async function syntheticRequests(page: Page): Promise<SyntheticRequest[]> {
  return page.evaluate(() => {
    const hx = (window as unknown as { __hx: { requests: Record<string, unknown>[] } }).__hx;
    return hx.requests.map((r) => ({
      url: String(r.url),
      method: String(r.method),
      auth: (r.auth as string | null) ?? null,
      body: (r.body as SyntheticRequest['body']) ?? null,
      aborted: !!(r.signal as AbortSignal | undefined)?.aborted,
    }));
  });
}

/** The output invariants of the harness, evaluated now. */
export function checkInvariants(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __hx: { check(): string[] } }).__hx.check());
}

/** `securitypolicyviolation` events seen so far. */
export function cspViolations(page: Page): Promise<{ directive: string; blocked: string; sample: string }[]> {
  return page.evaluate(() => (window as unknown as { __hx: { violations: { directive: string; blocked: string; sample: string }[] } }).__hx.violations.slice());
}

/** Long tasks (ms) observed so far: reported by the suite, never asserted (no wall-clock assertions). */
export function longTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { __hx: { longTasks: number[] } }).__hx.longTasks.slice());
}

/** The shadow root's assistant messages: state and text content, oldest first. */
export function assistantMessages(page: Page): Promise<{ state: string; text: string }[]> {
  return page.evaluate(() => {
    const out: { state: string; text: string }[] = [];
    for (const host of Array.from(document.querySelectorAll('codegpt-chat'))) {
      for (const el of Array.from(host.shadowRoot?.querySelectorAll('[part~="assistant"][data-state]') ?? [])) {
        out.push({ state: el.getAttribute('data-state') ?? '', text: el.querySelector('[part="content"]')?.textContent ?? '' });
      }
    }
    return out;
  });
}

/**
 * Records, from now on, every `part` and `data-state` that appears anywhere in the first widget's
 * shadow root (a MutationObserver), so a test can assert that e.g. no error notice was ever shown.
 */
export async function recordParts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = document.querySelector('codegpt-chat')?.shadowRoot;
    if (!root) throw new Error('recordParts: no widget');
    const seen = new Set<string>();
    const scan = () => {
      for (const el of Array.from(root.querySelectorAll('[part],[data-state],[role="status"],[aria-label]'))) {
        for (const p of (el.getAttribute('part') ?? '').split(/\s+/)) if (p) seen.add(`part:${p}`);
        const state = el.getAttribute('data-state');
        if (state) seen.add(`state:${state}`);
        const label = el.getAttribute('aria-label');
        if (label) seen.add(`label:${label}`);
      }
    };
    scan();
    new MutationObserver(scan).observe(root, { subtree: true, childList: true, attributes: true });
    (window as unknown as { __seen: Set<string> }).__seen = seen;
  });
}

/** What {@link recordParts} saw. */
export function seenParts(page: Page): Promise<string[]> {
  return page.evaluate(() => [...(window as unknown as { __seen: Set<string> }).__seen]);
}

/** One answer of {@link runCorpus}: its final state, text and the invariants violated after it. */
export interface CorpusResult {
  i: number;
  state: string | null;
  text: string;
  bad: string[];
}

/**
 * Mounts a bubble widget, open, on the synthetic API; it is `window.__widget`. `esm` mounts through
 * the ESM build (`dist/codegpt-widget.js`, imported by a module script) instead of the IIFE global.
 */
export async function mountSynthetic(page: Page, extra: Record<string, unknown> = {}, esm = false): Promise<void> {
  if (esm) {
    await page.addScriptTag({ type: 'module', content: "import * as widget from '/dist/codegpt-widget.js'; window.__esm = widget;" });
    await page.waitForFunction(() => !!(window as { __esm?: unknown }).__esm);
  }
  await page.evaluate(
    ({ options, useEsm }) => {
      const g = window as unknown as {
        CodeGPTWidget: { mount(o: unknown): unknown };
        __esm: { mount(o: unknown): unknown };
        __hx: { fetch: unknown; getToken: unknown };
        __widget: unknown;
      };
      const api = useEsm ? g.__esm : g.CodeGPTWidget;
      g.__widget = api.mount({ agentId: 'synthetic', getToken: g.__hx.getToken, fetch: g.__hx.fetch, persist: 'none', open: true, ...options });
    },
    { options: extra, useEsm: esm },
  );
  await page.locator('[part="panel"]').waitFor();
}

/**
 * Streams each payload as one answer (cut in three chunks, so the parser sees partial syntax) and
 * checks the invariants after each. The conversation is reset every 20 answers to keep it small.
 */
export function runCorpus(page: Page, payloads: readonly string[]): Promise<CorpusResult[]> {
  return page.evaluate(async (list) => {
    const g = window as unknown as {
      __hx: { queue: (() => Response)[]; sse(chunks: string[]): Response; check(): string[] };
      __widget: { send(t: string): Promise<void>; reset(): void; element: HTMLElement };
    };
    const results: { i: number; state: string | null; text: string; bad: string[] }[] = [];
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as string;
      const a = Math.floor(p.length / 3);
      const b = Math.floor((2 * p.length) / 3);
      const chunks = [p.slice(0, a), p.slice(a, b), p.slice(b)].filter((c) => c !== '');
      g.__hx.queue.push(() => g.__hx.sse(chunks));
      await g.__widget.send(`payload ${i}`);
      await new Promise((r) => setTimeout(r, 0));
      const all = g.__widget.element.shadowRoot!.querySelectorAll('[part~="assistant"][data-state]');
      const last = all[all.length - 1];
      results.push({
        i,
        state: last?.getAttribute('data-state') ?? null,
        text: last?.querySelector('[part="content"]')?.textContent ?? '',
        bad: g.__hx.check(),
      });
      if (i % 20 === 19) g.__widget.reset();
    }
    // Late handlers (an image error, a lazy load) would fire now.
    await new Promise((r) => setTimeout(r, 300));
    const late = g.__hx.check();
    if (late.length > 0) results.push({ i: -1, state: null, text: '', bad: late });
    return results;
  }, payloads as string[]);
}

/** Only failures, readable in an assertion diff. */
export function corpusFailures(results: CorpusResult[], payloads: readonly string[]): { payload: string; state: string | null; bad: string[] }[] {
  return results
    .filter((r) => r.bad.length > 0 || r.state !== 'done')
    .map((r) => ({ payload: r.i < 0 ? '(after the run)' : (payloads[r.i] ?? '').slice(0, 120), state: r.state, bad: r.bad }));
}


/** DOMPurify's 223 vectors; CI has shared/ beside the clone. */
export async function loadDomPurifyPayloads(): Promise<string[]> {
  const file = path.resolve(process.cwd(), '../shared/data/xss/dompurify-expect.mjs');
  const mod = (await import(pathToFileURL(file).href)) as { default: { payload: string }[] };
  return mod.default.map((entry) => entry.payload);
}
