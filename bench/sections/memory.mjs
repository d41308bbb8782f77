// Item 5: memory. The ESM build on an empty page: heap, DOM nodes and listeners after a forced GC
// (a) with the module imported but nothing mounted ("cold"), (b) after a warm-up cycle (mount, 20
// turns, reset, destroy: V8 keeps the bytecode of every function that ran, which is not a leak, so
// this is the baseline that isolates what the conversation leaves behind), (c) mounted, (d) after
// 200 question/answer turns through widget.send(), (e) after destroy().
import { freshPage, globalListeners, heapAfterGc, median } from '../browser.mjs';

export async function measureMemory(browser, origin, { turns = 200, persist = 'session', log = () => {} } = {}) {
  const p = await freshPage(browser, origin + '/page/esm');
  try {
    await p.page.waitForFunction(() => window.__ready === true);
    const snapshot = async () => ({ ...(await heapAfterGc(p.cdp)), listeners: await globalListeners(p.cdp) });
    const before = await snapshot();
    await p.page.evaluate(async (persist) => {
      const w = window.W.mount({ agentId: 'bench-agent', tokenEndpoint: '/token', open: true, persist });
      for (let k = 0; k < 20; k++) await w.send(`bench:turn#warm${k}`);
      w.reset();
      w.destroy();
    }, persist);
    await p.page.waitForTimeout(300);
    const warm = await snapshot();
    await p.page.evaluate((persist) => {
      window.__widget = window.W.mount({ agentId: 'bench-agent', tokenEndpoint: '/token', open: true, persist });
    }, persist);
    const mounted = await snapshot();
    const times = [];
    const chunk = 20;
    for (let i = 0; i < turns; i += chunk) {
      const t = await p.page.evaluate(
        async ({ from, to }) => {
          const out = [];
          for (let k = from; k < to; k++) {
            const t0 = performance.now();
            await window.__widget.send(`bench:turn#${k}`);
            out.push(performance.now() - t0);
          }
          return out;
        },
        { from: i, to: Math.min(turns, i + chunk) },
      );
      times.push(...t);
      if ((i + chunk) % 100 === 0) log(`  memory: ${i + chunk}/${turns} turns`);
    }
    const check = await p.page.evaluate(() => ({
      messages: window.__widget.messages.length,
      done: window.__widget.messages.filter((m) => m.role === 'assistant' && m.state === 'done').length,
      chars: window.__widget.messages.reduce((s, m) => s + m.content.length, 0),
    }));
    const after = await snapshot();
    await p.page.evaluate(() => {
      window.__widget.destroy();
      window.__widget = null;
    });
    // Timers and microtasks the widget had queued run out before the measurement.
    await p.page.waitForTimeout(300);
    const destroyed = await snapshot();
    return {
      turns,
      persist,
      ...check,
      before,
      warm,
      mounted,
      after,
      destroyed,
      turnMs: { first20: median(times.slice(0, 20)), last20: median(times.slice(-20)) },
      errors: p.errors.slice(0, 3),
    };
  } finally {
    await p.close();
  }
}
