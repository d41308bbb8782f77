// Item 3: the main-thread cost of rendering a long streamed markdown answer. Ours: the ESM build,
// mount() with the panel open, one warm-up turn, then widget.send(question) until the message is
// `data-state="done"` and painted. Naive: pages.mjs `naive` (marked + innerHTML on every piece).
// Busy time is the TaskDuration delta of Performance.getMetrics around the answer; long tasks come
// from the page's PerformanceObserver ('longtask', 'long-animation-frame') and the longest gap
// between two animation frames.
import { freshPage, median, metrics, traced, INSTRUMENT } from '../browser.mjs';

const OURS_RUN = async (question) => {
  const b = window.__bench;
  const w = window.__widget;
  const host = w.element;
  const states = () => [...host.shadowRoot.querySelectorAll('[data-state]')];
  const before = states().length;
  b.reset();
  b.startFrames();
  performance.mark('bench:start');
  const t0 = performance.now();
  await w.send(question);
  // send() resolves when the model says the answer ended; wait until the DOM says so too, then paint.
  while (!(states().length > before && states().at(-1).getAttribute('data-state') === 'done')) {
    if (performance.now() - t0 > 60_000) break;
    await new Promise((r) => requestAnimationFrame(r));
  }
  const painted = await b.afterPaint();
  performance.mark('bench:end');
  b.stopFrames();
  await new Promise((r) => setTimeout(r, 50)); // let the observers deliver
  const last = w.messages.at(-1);
  const content = states().at(-1)?.querySelector('[part~="content"]');
  return {
    elapsedMs: painted - t0,
    state: states().at(-1)?.getAttribute('data-state'),
    chars: last?.content.length ?? 0,
    renderedChars: content?.textContent.length ?? 0,
    domNodes: content?.querySelectorAll('*').length ?? 0,
    longtasks: b.within(b.longtasks, t0, painted).map((e) => e.d),
    loafs: b.within(b.loafs, t0, painted),
    maxFrameGap: b.maxFrameGap,
    frames: b.frames,
  };
};

const NAIVE_RUN = async (question) => {
  const b = window.__bench;
  b.reset();
  b.startFrames();
  performance.mark('bench:start');
  const t0 = performance.now();
  const r = await window.naiveSend(question);
  const painted = await b.afterPaint();
  performance.mark('bench:end');
  b.stopFrames();
  await new Promise((r) => setTimeout(r, 50)); // let the observers deliver
  const el = document.getElementById('answer');
  return {
    elapsedMs: painted - t0,
    state: el.getAttribute('data-state'),
    chars: r.chars,
    pieces: r.pieces,
    renderedChars: el.textContent.length,
    domNodes: el.querySelectorAll('*').length,
    longtasks: b.within(b.longtasks, t0, painted).map((e) => e.d),
    loafs: b.within(b.loafs, t0, painted),
    maxFrameGap: b.maxFrameGap,
    frames: b.frames,
  };
};

let seq = 0;

/** A fresh page ready to answer: ours mounted and warmed up by one short turn, or the naive page. */
async function ready(browser, origin, kind, markedUrl) {
  if (kind === 'ours') {
    const p = await freshPage(browser, origin + '/page/esm');
    await p.page.waitForFunction(() => window.__ready === true);
    await p.page.evaluate(INSTRUMENT);
    await p.page.evaluate(async () => {
      window.__widget = window.W.mount({ agentId: 'bench-agent', tokenEndpoint: '/token', open: true, persist: 'none' });
    });
    await p.page.evaluate((q) => window.__widget.send(q), `bench:short#warm${++seq}`);
    return p;
  }
  const p = await freshPage(browser, origin + '/page/naive?marked=' + encodeURIComponent(markedUrl));
  await p.page.waitForFunction(() => window.__ready === true);
  await p.page.evaluate(INSTRUMENT);
  return p;
}

async function once(browser, origin, kind, size, markedUrl, mode = 'metrics') {
  const p = await ready(browser, origin, kind, markedUrl);
  try {
    const question = `bench:md${size}k#${kind}-${++seq}`;
    const run = () => p.page.evaluate(kind === 'ours' ? OURS_RUN : NAIVE_RUN, question);
    if (mode === 'trace') {
      const { result, trace } = await traced(browser, p.page, run);
      return { ...result, trace, errors: p.errors };
    }
    if (mode === 'profile') {
      await p.cdp.send('Profiler.enable');
      await p.cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await p.cdp.send('Profiler.start');
      const result = await run();
      const { profile } = await p.cdp.send('Profiler.stop');
      return { ...result, profile, errors: p.errors };
    }
    const m0 = await metrics(p.cdp);
    const result = await run();
    const m1 = await metrics(p.cdp);
    const stats = await (await fetch(`${origin}/__stats?q=${encodeURIComponent(question)}`)).json();
    return {
      ...result,
      busyMs: (m1.TaskDuration - m0.TaskDuration) * 1000,
      scriptMs: (m1.ScriptDuration - m0.ScriptDuration) * 1000,
      layoutMs: (m1.LayoutDuration - m0.LayoutDuration) * 1000,
      styleMs: (m1.RecalcStyleDuration - m0.RecalcStyleDuration) * 1000,
      serverMs: stats ? stats.end - stats.arrival : null,
      pieces: stats?.pieces ?? result.pieces,
      errors: p.errors,
    };
  } finally {
    await p.close();
  }
}

const summary = (runs) => ({
  runs: runs.length,
  busyMs: median(runs.map((r) => r.busyMs)),
  scriptMs: median(runs.map((r) => r.scriptMs)),
  layoutMs: median(runs.map((r) => r.layoutMs)),
  styleMs: median(runs.map((r) => r.styleMs)),
  elapsedMs: median(runs.map((r) => r.elapsedMs)),
  serverMs: median(runs.map((r) => r.serverMs)),
  longestTaskObservedMs: Math.max(0, ...runs.flatMap((r) => r.longtasks)),
  longTasks: runs.reduce((s, r) => s + r.longtasks.length, 0),
  longestFrameMs: Math.max(0, ...runs.flatMap((r) => r.loafs.map((l) => l.d))),
  maxFrameGapMs: Math.max(...runs.map((r) => r.maxFrameGap)),
  chars: runs[0]?.chars,
  pieces: runs[0]?.pieces,
  complete: runs.every((r) => r.state === 'done' && r.chars > 0),
  domNodes: runs[0]?.domNodes,
  errors: [...new Set(runs.flatMap((r) => r.errors))].slice(0, 3),
});

/** Runs the matrix; `oursRuns` repetitions for ours, `naiveRuns` for the baseline (slow by design). */
export async function measureStreaming(browser, origin, markedUrl, { oursRuns = 3, naiveRuns = 1, log = () => {}, budgetMs = Infinity } = {}) {
  const started = Date.now();
  const out = { ours: {}, naive: {} };
  // 30 kB and 60 kB alternate, so a change in the machine's load hits both sizes alike.
  const runs = { ours: { 30: [], 60: [] }, naive: { 30: [], 60: [] } };
  for (let i = 0; i < oursRuns; i++) for (const size of [30, 60]) runs.ours[size].push(await once(browser, origin, 'ours', size, markedUrl));
  for (const size of [30, 60]) out.ours[size] = summary(runs.ours[size]);
  log(`  streaming: ours busy ${out.ours[30].busyMs.toFixed(1)} ms (30 kB), ${out.ours[60].busyMs.toFixed(1)} ms (60 kB)`);
  for (let i = 0; i < naiveRuns; i++) {
    if (i > 0 && Date.now() - started > budgetMs) break;
    for (const size of [30, 60]) runs.naive[size].push(await once(browser, origin, 'naive', size, markedUrl));
  }
  for (const size of [30, 60]) out.naive[size] = summary(runs.naive[size]);
  log(`  streaming: naive busy ${out.naive[30].busyMs.toFixed(1)} ms (30 kB), ${out.naive[60].busyMs.toFixed(1)} ms (60 kB)`);
  // One traced and one profiled run of ours at 60 kB: the longest task as the trace sees it, and
  // where the time goes (trace buckets; CPU profile by source file through the source map).
  const tracedRun = await once(browser, origin, 'ours', 60, markedUrl, 'trace');
  out.ours.trace60 = tracedRun.trace;
  const profiled = await once(browser, origin, 'ours', 60, markedUrl, 'profile');
  out.ours.profile60 = profiled.profile;
  const naiveTraced = await once(browser, origin, 'naive', 30, markedUrl, 'trace');
  out.naive.trace30 = naiveTraced.trace;
  return out;
}
