/**
 * Keeps the host page still behind the full-screen panel on phones (reliability E10): while a
 * bubble panel is open at the small-screen breakpoint, where styles.css makes it cover the whole
 * viewport, the document gets `overflow: hidden` (through the CSSOM, allowed under a strict
 * `style-src`). The page's own inline value is put back exactly on close, so its scroll position is
 * never touched. Several widgets on one page share one lock per document.
 *
 * While locked, the panel is also fitted to the visual viewport (`--_vv-top`, `--_vv-height` on the
 * host, read by styles.css), so the on-screen keyboard never hides the text box.
 */
import { share } from '../core/share';
import type { Shared } from '../core/share';

/** The breakpoint of `.panel-bubble`'s full-screen rule in styles.css; keep the two in step. */
export const FULL_SCREEN_QUERY = '(max-width: 639px)';

/** Per document: the page's own inline `overflow` (value and priority), put back by the last user. */
const locks = new WeakMap<Document, Shared<string[]>>();

/** One widget's claim on the document's scroll. */
export interface ScrollLock {
  /** Lock when `open` and the viewport is at the full-screen breakpoint; otherwise release. */
  update(open: boolean): void;
  /** Releases and stops watching the viewport. */
  dispose(): void;
}

export function createScrollLock(doc: Document, win: Window, host: HTMLElement): ScrollLock {
  const query = typeof win.matchMedia === 'function' ? win.matchMedia(FULL_SCREEN_QUERY) : undefined;
  const viewport = win.visualViewport;
  let held = false;
  let open = false;

  const fit = (): void => {
    if (!viewport) return;
    host.style.setProperty('--_vv-top', `${viewport.offsetTop}px`);
    host.style.setProperty('--_vv-height', `${viewport.height}px`);
  };

  function track(on: boolean): void {
    for (const type of ['resize', 'scroll']) viewport?.[on ? 'addEventListener' : 'removeEventListener'](type, fit);
    if (on) fit();
    else for (const name of ['--_vv-top', '--_vv-height']) host.style.removeProperty(name);
  }

  /** Releases this widget's lock; set while held. */
  let release: (() => void) | undefined;

  function hold(next: boolean): void {
    if (next === held) return;
    held = next;
    track(next);
    const style = doc.documentElement.style;
    if (next) {
      release = share(
        locks,
        doc,
        () => {
          const saved = [style.getPropertyValue('overflow'), style.getPropertyPriority('overflow')];
          style.setProperty('overflow', 'hidden', 'important');
          return saved;
        },
        ([value, priority]) => {
          if (value) style.setProperty('overflow', value, priority);
          else style.removeProperty('overflow');
        },
      )[1];
    } else release?.();
  }

  const onChange = (): void => hold(open && !!query?.matches);

  function update(next: boolean): void {
    if (next === open) return;
    open = next;
    // Watch the breakpoint only while open (a phone rotated to landscape lets go).
    if (open) query?.addEventListener('change', onChange);
    else query?.removeEventListener('change', onChange);
    onChange();
  }

  return { update, dispose: () => update(false) };
}
