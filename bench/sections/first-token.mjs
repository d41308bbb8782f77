// Item 4: first-token overhead. The script-tag build on an empty page, driven as a person would
// (click the launcher, type, click Send). The page records the click (capture listener on window)
// and the first paint of the first answer character (MutationObserver on the shadow root; text added
// by an animation-frame callback is painted at the end of that frame, other text in the next one:
// INSTRUMENT's frame probe tells which). The server records when the completion request arrived and when
// it wrote the first piece. Overhead = (click → painted) − (arrival → first write).
import { freshPage, median, quantile, INSTRUMENT } from '../browser.mjs';

const ARM_SETUP = () => {
  const root = document.querySelector('codegpt-chat')?.shadowRoot ?? document;
  const ft = (window.__ft = { armed: null });
  const isSend = (n) => typeof n.getAttribute === 'function' && (n.getAttribute('part') ?? '').split(/\s+/).includes('send');
  window.addEventListener('click', (e) => ft.armed && ft.armed.click == null && e.composedPath().some(isSend) && (ft.armed.click = performance.now()), true);
  new MutationObserver(() => {
    const a = ft.armed;
    if (!a || a.seen || a.click == null) return;
    const msgs = root.querySelectorAll('[part~="assistant"][data-state]');
    const last = msgs[msgs.length - 1];
    if (msgs.length > a.count && (last.querySelector('[part~="content"]')?.textContent ?? '').length > 0) {
      a.seen = performance.now();
      a.inFrame = window.__bench.inRaf;
      window.__bench.paintedAfterChange().then((t) => (a.painted = t));
    }
  }).observe(root, { subtree: true, childList: true, characterData: true });
  ft.arm = () => (ft.armed = { count: root.querySelectorAll('[part~="assistant"][data-state]').length, click: null, seen: null, painted: null });
  ft.result = async () => {
    const a = ft.armed;
    const t0 = performance.now();
    for (;;) {
      const msgs = root.querySelectorAll('[part~="assistant"][data-state]');
      const done = msgs.length > a.count && msgs[msgs.length - 1].getAttribute('data-state') !== 'streaming';
      if ((done && a.painted != null) || performance.now() - t0 > 10_000) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const entry = performance.getEntriesByType('resource').filter((e) => e.name.includes('/chat/completions')).at(-1);
    return { ...a, fetchStart: entry?.startTime ?? null, responseStart: entry?.responseStart ?? null };
  };
};

/** Click Send `warmup + samples` times on a prepared page; one row per measured sample. */
async function drive(p, origin, tag, warmup, samples) {
  await p.page.evaluate(ARM_SETUP);
  const rows = [];
  for (let i = 0; i < warmup + samples; i++) {
    const question = `bench:ft#${tag}-${i}-${Date.now()}`;
    await p.page.evaluate(() => window.__ft.arm());
    await p.page.locator('[part~="input"]').fill(question);
    await p.page.locator('[part~="send"]').click();
    const r = await p.page.evaluate(() => window.__ft.result());
    const s = await (await fetch(`${origin}/__stats?q=${encodeURIComponent(question)}`)).json();
    if (i < warmup || r.painted == null || r.click == null || !s) continue;
    const total = r.painted - r.click;
    const server = s.firstWrite - s.arrival;
    rows.push({
      totalMs: total,
      serverMs: server,
      overheadMs: total - server,
      clickToFetchMs: r.fetchStart != null ? r.fetchStart - r.click : NaN,
      fetchToFirstByteMs: r.responseStart != null && r.fetchStart != null ? r.responseStart - r.fetchStart : NaN,
      firstByteToPaintMs: r.responseStart != null ? r.painted - r.responseStart : NaN,
      mutationToPaintMs: r.painted - r.seen,
      inFrame: r.inFrame,
    });
  }
  const med = (k) => median(rows.map((r) => r[k]));
  return {
    samples: rows.length,
    overheadMs: med('overheadMs'),
    overheadP90Ms: quantile(rows.map((r) => r.overheadMs), 0.9),
    totalMs: med('totalMs'),
    serverMs: med('serverMs'),
    clickToFetchMs: med('clickToFetchMs'),
    fetchToFirstByteMs: med('fetchToFirstByteMs'),
    firstByteToPaintMs: med('firstByteToPaintMs'),
    mutationToPaintMs: med('mutationToPaintMs'),
    textInAnimationFrame: rows.filter((r) => r.inFrame).length,
    errors: p.errors.slice(0, 3),
    raw: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? +v.toFixed(2) : v]))),
  };
}

/**
 * The widget (script tag, launcher opened first so the token is already fetched, as after any
 * first question) and the floor page (pages.mjs `floor`), each on its own fresh page.
 */
export async function measureFirstToken(browser, origin, { warmup = 3, samples = 15 } = {}) {
  const widget = await freshPage(browser, origin + '/page/empty');
  let ours;
  try {
    await widget.page.evaluate(INSTRUMENT);
    await widget.page.evaluate(() => {
      const s = document.createElement('script');
      s.src = '/dist/codegpt-widget.iife.js';
      s.setAttribute('data-agent-id', 'bench-agent');
      s.setAttribute('data-token-endpoint', '/token');
      s.setAttribute('data-persist', 'none');
      document.head.appendChild(s);
    });
    await widget.page.locator('[part~="launcher"]').click();
    await widget.page.locator('[part~="input"]').waitFor();
    ours = await drive(widget, origin, 'w', warmup, samples);
  } finally {
    await widget.close();
  }
  const floor = await freshPage(browser, origin + '/page/floor');
  try {
    await floor.page.evaluate(INSTRUMENT);
    return { ...ours, floor: await drive(floor, origin, 'f', warmup, samples) };
  } finally {
    await floor.close();
  }
}
