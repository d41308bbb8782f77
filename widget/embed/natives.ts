/**
 * The browser functions the widget calls, as they were when the script-tag bundle loaded
 * (reliability E4). Host pages wrap `fetch` and the timers (zone.js, analytics, "retry" helpers),
 * sometimes badly: a wrapper that calls itself, or timers replaced by a throwing stub. The IIFE entry
 * captures them while it loads, before the page's later scripts run. The ESM entry has no
 * import-time side effects (embed.md section 1) and an SPA owns its environment (and may mock
 * `fetch` in its tests), so there they are read at each mount; `mount({ fetch })` routes requests
 * through a chosen fetch either way. A host that replaced them before the bundle loaded keeps its
 * wrapper: the widget cannot tell it from the native.
 */
import type { Timers } from '../io/http';

/** What the embedding layer passes down instead of reading `window` at call time. */
export interface Natives {
  fetch: typeof fetch;
  timers: Timers;
  /** `setTimeout` as a promise, for short waits. */
  wait(ms: number): Promise<void>;
}

const captured = new WeakMap<Window, Natives>();

/** Captures the natives of `win` now (the IIFE entry, at load); later calls keep the first capture. */
export function captureNatives(win: Window): void {
  if (!captured.has(win)) captured.set(win, read(win));
}

/** The natives captured for `win`, or its current functions when nothing was captured (ESM). */
export function natives(win: Window): Natives {
  return captured.get(win) ?? read(win);
}

function read(win: Window): Natives {
  // Unbound calls throw "Illegal invocation" in browsers: keep the window as `this`.
  const fetchFn = win.fetch;
  const set = win.setTimeout;
  const clear = win.clearTimeout;
  const timers: Timers = {
    set: (callback, ms) => set.call(win, callback, ms),
    clear: (id) => clear.call(win, id as number),
  };
  return {
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => fetchFn.call(win, input, init)) as typeof fetch,
    timers,
    wait: (ms) => new Promise((done) => void timers.set(done, ms)),
  };
}
