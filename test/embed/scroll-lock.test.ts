// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createScrollLock, FULL_SCREEN_QUERY } from '../../widget/embed/scroll-lock';

/** A matchMedia whose answer the test sets, with working change listeners. */
function fakeMedia(matches: boolean) {
  const listeners = new Set<() => void>();
  const mql = {
    matches,
    media: FULL_SCREEN_QUERY,
    addEventListener: vi.fn((_: string, fn: () => void) => listeners.add(fn)),
    removeEventListener: vi.fn((_: string, fn: () => void) => listeners.delete(fn)),
  };
  const win = { matchMedia: vi.fn(() => mql) } as unknown as Window;
  return {
    win,
    mql,
    listeners,
    set(next: boolean) {
      mql.matches = next;
      for (const fn of [...listeners]) fn();
    },
  };
}

const overflow = () => [document.documentElement.style.getPropertyValue('overflow'), document.documentElement.style.getPropertyPriority('overflow')];

afterEach(() => {
  document.documentElement.removeAttribute('style');
});

describe('createScrollLock (reliability E10)', () => {
  it('locks the document while open at the full-screen breakpoint and puts the page value back exactly', () => {
    document.documentElement.style.setProperty('overflow', 'scroll');
    const media = fakeMedia(true);
    const lock = createScrollLock(document, media.win, document.createElement('div'));
    lock.update(true);
    expect(overflow()).toEqual(['hidden', 'important']);
    lock.update(false);
    expect(overflow()).toEqual(['scroll', '']);
    expect(media.listeners.size).toBe(0);
  });

  it('does nothing on a wide viewport, and follows the breakpoint while open', () => {
    const media = fakeMedia(false);
    const lock = createScrollLock(document, media.win, document.createElement('div'));
    lock.update(true);
    expect(overflow()).toEqual(['', '']);
    media.set(true); // rotated to portrait
    expect(overflow()).toEqual(['hidden', 'important']);
    media.set(false);
    expect(overflow()).toEqual(['', '']);
    lock.dispose();
    expect(media.listeners.size).toBe(0);
  });

  it('two open widgets share one lock: released when the last one closes', () => {
    const media = fakeMedia(true);
    const a = createScrollLock(document, media.win, document.createElement('div'));
    const b = createScrollLock(document, media.win, document.createElement('div'));
    a.update(true);
    b.update(true);
    a.dispose();
    a.dispose();
    expect(overflow()).toEqual(['hidden', 'important']);
    b.update(false);
    expect(overflow()).toEqual(['', '']);
  });

  it('works without matchMedia (never locks)', () => {
    const lock = createScrollLock(document, {} as Window, document.createElement('div'));
    lock.update(true);
    expect(overflow()).toEqual(['', '']);
    lock.dispose();
  });

  it('fits the panel to the visual viewport while locked (on-screen keyboard), and stops after', () => {
    const media = fakeMedia(true);
    const viewport = Object.assign(new EventTarget(), { offsetTop: 0, height: 667 });
    (media.win as unknown as { visualViewport: typeof viewport }).visualViewport = viewport;
    const host = document.createElement('div');
    const lock = createScrollLock(document, media.win, host);
    const vars = () => [host.style.getPropertyValue('--_vv-top'), host.style.getPropertyValue('--_vv-height')];
    lock.update(true);
    expect(vars()).toEqual(['0px', '667px']);
    viewport.offsetTop = 40;
    viewport.height = 330; // the keyboard opened
    viewport.dispatchEvent(new Event('resize'));
    expect(vars()).toEqual(['40px', '330px']);
    lock.update(false);
    expect(vars()).toEqual(['', '']);
    viewport.height = 600;
    viewport.dispatchEvent(new Event('resize'));
    expect(vars()).toEqual(['', '']);
  });
});
