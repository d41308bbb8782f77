// Chromium helpers for the bench: launch, fresh pages with a CDP session, metrics, GC, tracing.
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Loopback only: a peer bundle that reaches for a font, a CDN or its vendor's API must not leave
      // this machine. Every non-loopback request goes to a closed local port and fails; no name but
      // 127.0.0.1/localhost resolves. Blocked requests are counted per page (see freshPage).
      '--proxy-server=http://127.0.0.1:9',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
}

/**
 * A fresh context (own cache, own code cache, own storage) with one page at `url`, a CDP session and
 * the Performance domain on. Page errors are collected, never thrown.
 */
export async function freshPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  const external = new Set();
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (/^(https?|wss?):$/.test(u.protocol) && u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && !external.has(u.origin)) {
      external.add(u.origin);
      errors.push(`blocked a request to ${u.origin} (loopback only)`);
    }
  });
  page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()} ${r.url().replace(/^https?:\/\/127\.0\.0\.1:\d+/, '')}`));
  page.on('pageerror', (e) => errors.push(String(e).slice(0, 300)));
  page.on('console', (m) => m.type() === 'error' && errors.push('console.error: ' + m.text().slice(0, 300)));
  await page.goto(url);
  const cdp = await context.newCDPSession(page);
  // Thread ticks: durations are the main thread's CPU time, so other processes competing for this
  // machine's cores do not inflate them (wall-clock figures, like long tasks, still are).
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  return { context, page, cdp, errors, external, close: () => context.close() };
}

/** `Performance.getMetrics` as a plain object (seconds of main-thread CPU for durations, bytes for heap). */
export async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

/** Full GC (twice: the second pass collects what finalizers of the first released), then heap and DOM counters. */
export async function heapAfterGc(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = await cdp.send('Runtime.getHeapUsage');
  const m = await metrics(cdp);
  const counters = await cdp.send('Memory.getDOMCounters');
  return { usedBytes: usage.usedSize, jsHeapUsed: m.JSHeapUsedSize, nodes: counters.nodes, jsEventListeners: counters.jsEventListeners, documents: counters.documents };
}

/** Event listeners registered on `window` and on `document` (DOMDebugger). */
export async function globalListeners(cdp) {
  const count = async (expression) => {
    const { result } = await cdp.send('Runtime.evaluate', { expression });
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
    await cdp.send('Runtime.releaseObject', { objectId: result.objectId });
    return listeners.length;
  };
  return { window: await count('window'), document: await count('document') };
}

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export const quantile = (xs, q) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
};

const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'blink.user_timing', 'v8'];

/** Where main-thread time goes, by trace event name (self time, so nested events are not counted twice). */
const BUCKETS = [
  ['script', /^(FunctionCall|EvaluateScript|v8\.compile|v8\.compileModule|v8\.evaluateModule|v8\.produceCache|v8\.produceModuleCache|TimerFire|FireAnimationFrame|EventDispatch|V8\.Execute|v8\.run|v8\.callFunction|v8\.newInstance|RunMicrotasks|BlinkScheduler_PerformMicrotaskCheckpoint|XHRReadyStateChange|CompileScript|CompileCode|ScheduleStyleInvalidationTracking)$/],
  ['gc', /GC|Scavenge|MarkCompact|BlinkGC|CppGC|MajorGC|MinorGC/i],
  ['style', /^(UpdateLayoutTree|RecalculateStyles|ParseAuthorStyleSheet|StyleInvalidatorInvalidationTracking)$/],
  ['layout', /^(Layout|UpdateLayout|InvalidateLayout|IntersectionObserverController::computeIntersections)$/],
  ['paint', /^(Paint|PrePaint|Layerize|UpdateLayer|UpdateLayerTree|CompositeLayers|Commit|PaintImage|RasterTask|Decode.*|ProxyMain::BeginMainFrame.*)$/],
  ['html', /^(ParseHTML)$/],
];
const bucketOf = (name) => BUCKETS.find(([, re]) => re.test(name))?.[0] ?? 'other';

/** Trace a page while `fn` runs, between `performance.mark('bench:start'|'bench:end')` the page sets. */
export async function traced(browser, page, fn) {
  await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  let result;
  try {
    result = await fn();
  } finally {
    const buffer = await browser.stopTracing();
    result = { result, trace: summariseTrace(JSON.parse(buffer.toString('utf8'))) };
  }
  return result;
}

/**
 * From a Chromium trace: the renderer main thread that did the most work between the page's
 * `bench:start` and `bench:end` marks; its longest task, its busy time, and self time by bucket.
 */
export function summariseTrace(trace) {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const mainThreads = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const marks = events.filter((e) => e.cat?.includes('blink.user_timing') && (e.name === 'bench:start' || e.name === 'bench:end'));
  const start = marks.find((e) => e.name === 'bench:start')?.ts ?? -Infinity;
  const end = marks.find((e) => e.name === 'bench:end')?.ts ?? Infinity;
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || typeof e.dur !== 'number') continue;
    const key = `${e.pid}:${e.tid}`;
    if (!mainThreads.has(key) || e.ts + e.dur < start || e.ts > end) continue;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push(e);
  }
  let best = [];
  let bestBusy = -1;
  for (const list of byThread.values()) {
    const busy = list.filter((e) => e.name === 'RunTask').reduce((s, e) => s + e.dur, 0);
    if (busy > bestBusy) (best = list), (bestBusy = busy);
  }
  const tasks = best.filter((e) => e.name === 'RunTask');
  const longest = tasks.reduce((m, e) => Math.max(m, e.dur), 0);
  // Self time: sort by start (longer first on ties), keep a stack of open events; each event's self
  // time is charged to its bucket, its name, and the task (RunTask) it ran in.
  best.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = {};
  const byName = {};
  const perTask = new Map();
  const stack = [];
  const charge = (e, us) => {
    self[bucketOf(e.name)] = (self[bucketOf(e.name)] ?? 0) + us;
    byName[e.name] = (byName[e.name] ?? 0) + us;
    const task = stack.find((x) => x.name === 'RunTask') ?? (e.name === 'RunTask' ? e : null);
    if (task) {
      const m = perTask.get(task) ?? {};
      m[e.name] = (m[e.name] ?? 0) + us;
      perTask.set(task, m);
    }
  };
  for (const e of best) {
    while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= e.ts) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent && e.ts + e.dur > parent.ts + parent.dur + 1) continue; // overlapping, not nested: skip rather than double count
    if (parent) charge(parent, -e.dur);
    stack.push(e);
    charge(e, e.dur);
  }
  const ms = (us) => Math.round(us / 10) / 100;
  const top = (obj, n) => Object.entries(obj).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, ms(v)]);
  return {
    windowMs: Number.isFinite(end - start) ? ms(end - start) : null,
    busyMs: ms(bestBusy < 0 ? 0 : bestBusy),
    tasks: tasks.length,
    longestTaskMs: ms(longest),
    tasksOver50ms: tasks.filter((e) => e.dur > 50_000).length,
    selfMs: Object.fromEntries(top(self, 10)),
    selfByName: top(byName, 12),
    longestTasks: [...tasks]
      .sort((a, b) => b.dur - a.dur)
      .slice(0, 5)
      .map((t) => ({ atMs: Number.isFinite(start) ? ms(t.ts - start) : null, durMs: ms(t.dur), self: top(perTask.get(t) ?? {}, 5) })),
  };
}

/** In-page instrumentation: long tasks, long animation frames and the longest gap between frames. */
export const INSTRUMENT = `(() => {
  if (window.__bench) return;
  const s = (window.__bench = { longtasks: [], loafs: [], maxFrameGap: 0, frames: 0, running: false, inRaf: false });
  // Entries arrive asynchronously, so each keeps its start time: a run counts only those inside it.
  try { new PerformanceObserver((l) => { for (const e of l.getEntries()) s.longtasks.push({ start: e.startTime, d: e.duration }); }).observe({ type: 'longtask' }); } catch {}
  try { new PerformanceObserver((l) => { for (const e of l.getEntries()) s.loafs.push({ start: e.startTime, d: e.duration, b: e.blockingDuration }); }).observe({ type: 'long-animation-frame' }); } catch {}
  s.within = (list, from, to) => list.filter((e) => e.start + e.d >= from && e.start <= to);
  s.startFrames = () => {
    s.running = true; s.maxFrameGap = 0; s.frames = 0; let last = performance.now();
    const tick = (t) => { if (!s.running) return; s.frames++; s.maxFrameGap = Math.max(s.maxFrameGap, t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  };
  s.stopFrames = () => { s.running = false; };
  s.reset = () => { s.longtasks.length = 0; s.loafs.length = 0; };
  // Frame probe: while any animation-frame callback of the current frame (and the microtasks it
  // queued) runs, inRaf is true; a message posted from the callback clears it after the frame's
  // rendering. A DOM change seen while inRaf is painted in this frame; otherwise in the next one.
  const raf = window.requestAnimationFrame.bind(window);
  const mc = new MessageChannel();
  mc.port1.onmessage = () => { s.inRaf = false; };
  window.requestAnimationFrame = (cb) => raf((t) => { if (!s.inRaf) { s.inRaf = true; mc.port2.postMessage(0); } cb(t); });
  const afterTask = () => new Promise((go) => { const c = new MessageChannel(); c.port1.onmessage = () => go(performance.now()); c.port2.postMessage(0); });
  s.paintedAfterChange = () => (s.inRaf ? afterTask() : new Promise((go) => raf(() => afterTask().then(go))));
  s.afterPaint = () => new Promise((go) => requestAnimationFrame(() => { const c = new MessageChannel(); c.port1.onmessage = () => go(performance.now()); c.port2.postMessage(0); }));
})();`;
