// Item 2: what loading each bundle costs the host page's main thread. Each sample is a fresh browser
// context (cold HTTP and code caches) on an empty same-origin page: Performance.getMetrics before,
// inject the script tag as its snippet does, wait for load + two painted frames, metrics after. The
// same steps with no script give the baseline; each sample's net cost is its figure minus the
// baseline of the same round (paired, so drift in the machine's load cancels), then the median.
import { freshPage, median, metrics, quantile, INSTRUMENT } from '../browser.mjs';

const INJECT = async ({ url, module, attrs }) => {
  const t0 = performance.now();
  let loadError = false;
  if (url) {
    await new Promise((resolve) => {
      const s = document.createElement('script');
      if (module) s.type = 'module';
      for (const [k, v] of Object.entries(attrs ?? {})) s.setAttribute(k, v);
      s.onload = () => resolve();
      s.onerror = () => ((loadError = true), resolve());
      s.src = url;
      document.head.appendChild(s);
    });
  }
  const loadedAt = performance.now();
  let launcher = null;
  if (attrs && attrs['data-agent-id']) {
    const find = () => document.querySelector('codegpt-chat')?.shadowRoot?.querySelector('[part~="launcher"]');
    const deadline = performance.now() + 5000;
    while (!find() && performance.now() < deadline) await new Promise((r) => requestAnimationFrame(r));
    const el = find();
    const paintedAt = await window.__bench.afterPaint();
    const entry = performance.getEntriesByName(new URL(url, location.href).href)[0];
    const rect = el?.getBoundingClientRect();
    launcher = el && rect.width > 0 ? { insertToPaint: paintedAt - t0, scriptToPaint: paintedAt - (entry?.responseEnd ?? t0), loadToPaint: paintedAt - loadedAt } : null;
  }
  await window.__bench.afterPaint();
  await window.__bench.afterPaint();
  return { loadError, launcher, globals: Object.keys(window).length };
};

/**
 * `bundles`: [{ id, url, module, attrs? }]. Returns per id: the raw samples and medians, net of
 * the empty-page baseline (ms).
 */
export async function measureLoad(browser, origin, bundles, { samples = 9, log = () => {} } = {}) {
  const variants = [{ id: 'baseline', url: null, module: false }, ...bundles];
  const raw = Object.fromEntries(variants.map((v) => [v.id, []]));
  const errors = Object.fromEntries(variants.map((v) => [v.id, new Set()]));
  for (let round = -1; round < samples; round++) {
    // Rotate the order every round so no bundle always runs first (or right after the heaviest).
    const order = variants.map((_, i) => variants[(i + Math.max(round, 0)) % variants.length]);
    for (const v of order) {
      const p = await freshPage(browser, origin + '/page/empty');
      try {
        await p.page.evaluate(INSTRUMENT);
        const m0 = await metrics(p.cdp);
        const r = await p.page.evaluate(INJECT, { url: v.url, module: v.module, attrs: v.attrs ?? null });
        const m1 = await metrics(p.cdp);
        if (round >= 0) {
          raw[v.id].push({
            script: (m1.ScriptDuration - m0.ScriptDuration) * 1000,
            task: (m1.TaskDuration - m0.TaskDuration) * 1000,
            layout: (m1.LayoutDuration - m0.LayoutDuration) * 1000,
            style: (m1.RecalcStyleDuration - m0.RecalcStyleDuration) * 1000,
            heap: m1.JSHeapUsedSize,
            launcher: r.launcher,
            loadError: r.loadError,
          });
        }
        if (r.loadError) errors[v.id].add('script failed to load');
        for (const e of p.errors) errors[v.id].add(e);
      } finally {
        await p.close();
      }
    }
    if (round >= 0) log(`  load cost: round ${round + 1}/${samples}`);
  }
  const base = raw.baseline;
  // Paired: sample i of a bundle minus the baseline sample of the same round.
  const net = (list, key) => list.map((x, i) => x[key] - (base[i]?.[key] ?? NaN));
  const out = {};
  for (const v of variants) {
    const s = raw[v.id];
    const netTask = net(s, 'task');
    out[v.id] = {
      samples: s.length,
      scriptMs: median(s.map((x) => x.script)),
      taskMs: median(s.map((x) => x.task)),
      netScriptMs: median(net(s, 'script')),
      netTaskMs: median(netTask),
      netTaskIqrMs: [quantile(netTask, 0.25), quantile(netTask, 0.75)],
      layoutMs: median(s.map((x) => x.layout)),
      styleMs: median(s.map((x) => x.style)),
      heapDeltaBytes: median(net(s, 'heap')),
      launcher: s.some((x) => x.launcher)
        ? {
            insertToPaintMs: median(s.map((x) => x.launcher?.insertToPaint)),
            scriptToPaintMs: median(s.map((x) => x.launcher?.scriptToPaint)),
            loadToPaintMs: median(s.map((x) => x.launcher?.loadToPaint)),
            painted: s.filter((x) => x.launcher).length,
          }
        : null,
      pageErrors: [...errors[v.id]].slice(0, 3),
      raw: s.map(({ script, task }) => ({ script: +script.toFixed(2), task: +task.toFixed(2) })),
    };
  }
  return out;
}
