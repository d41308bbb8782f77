// The printed table and the issue 6 targets (met / not met, with the figure).

const KB = (b) => (b / 1024).toFixed(1) + ' KB';
const MB = (b) => (b / 2 ** 20).toFixed(2) + ' MiB';
const ms = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) + ' ms' : 'n/a');
const ratio = (x) => (Number.isFinite(x) ? x.toFixed(1) + '×' : 'n/a');
const signed = (x, f) => (x >= 0 ? '+' : '−') + f(Math.abs(x));

function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const width = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join(' | ') + ' |';
  const rule = '|' + width.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

const selfList = (obj) => Object.entries(obj ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');

export function report(r) {
  const out = [];
  const targets = [];
  const target = (name, met, figure) => targets.push({ target: name, met, figure });
  const e = r.env ?? {};
  const label = (id) => (id === 'ours' ? 'codegpt-widget' : id === 'ours-mount' ? 'codegpt-widget, mounting' : (r.peers ?? []).find((p) => p.id === id)?.label ?? id);
  out.push(`codegpt-widget bench — ${e.date ?? ''}`);
  out.push(
    `Node ${e.node}, ${e.chromium ? 'Chromium ' + e.chromium : 'no browser'}, ${e.cpu ?? '?'} × ${e.cores ?? '?'} cores, ${e.memoryGiB ?? '?'} GiB; commit ${e.commit ?? '?'}${e.dirty ? ' + uncommitted changes in widget/ or server/' : ''}${e.quick ? '; QUICK run (fewer samples)' : ''}`,
  );
  const busy = Number.isFinite(e.loadAverageMax) && e.loadAverageMax > (e.cores ?? 2);
  out.push(
    `Load average during the run: mean ${e.loadAverageMean?.toFixed(1) ?? '?'}, max ${e.loadAverageMax?.toFixed(1) ?? '?'} on ${e.cores ?? '?'} cores${busy ? ' — OTHER WORK WAS RUNNING: wall-clock figures (long tasks, frame gaps, first token, broker) are inflated; CPU-time figures (load cost, busy time) much less' : ''}.`,
  );
  out.push('Every ratio compares figures taken in this run on this machine.\n');

  const peerIds = (r.peers ?? []).map((p) => p.id);
  const unavailable = (r.peers ?? []).filter((p) => p.error);

  if (r.bytes) {
    const ours = r.bytes.find((b) => b.id === 'ours');
    out.push('1. Bytes of the script-tag file (gzip -9, brotli -q11)');
    out.push(
      table(
        ['bundle', 'file', 'raw', 'gzip', 'brotli', 'gzip vs ours'],
        r.bytes.map((b) => (b.error ? [b.label, b.error, '', '', '', ''] : [b.label, b.file, KB(b.raw), KB(b.gzip), KB(b.brotli), b.id === 'ours' ? '1.0×' : ratio(b.gzip / ours.gzip)])),
      ),
    );
    const peerBytes = r.bytes.filter((b) => peerIds.includes(b.id) && !b.error);
    const smallest = peerBytes.reduce((m, b) => (!m || b.gzip < m.gzip ? b : m), null);
    target('IIFE ≤ 20 KB gzip', ours.gzip <= 20 * 1024, `${KB(ours.gzip)} (${ours.gzip} B)`);
    if (smallest) target(`IIFE ≥ 5× smaller (gzip) than the smallest peer, ${smallest.label}`, smallest.gzip / ours.gzip >= 5, ratio(smallest.gzip / ours.gzip));
    out.push('');
  }

  if (r.load) {
    const o = r.load.ours;
    const om = r.load['ours-mount'];
    out.push(`2. Cost to the host page: load + evaluate one bundle on an empty page (median of ${o.samples} fresh browser contexts)`);
    out.push('   "codegpt-widget" is evaluated like the peers (no data attributes: defines the element and the global);');
    out.push('   "codegpt-widget, mounting" is the real embed (data-agent-id + data-token-endpoint: it also mounts and paints its launcher).');
    out.push('   Script = Performance.getMetrics ScriptDuration; task = TaskDuration (all main-thread work: parse, compile, run, style, layout, paint);');
    out.push('   both in main-thread CPU time (thread ticks). Net = paired with the empty page of the same round; IQR of the net task time.');
    out.push('   Targets are judged like for like (evaluated, not mounted) on the lower of the two ratios; the mounted figure is shown beside.');
    out.push(
      table(
        ['bundle', 'net script', 'net task', 'task IQR', 'script vs ours', 'task vs ours', 'heap', 'page errors'],
        Object.entries(r.load)
          .filter(([id]) => id !== 'baseline')
          .map(([id, v]) => [
            label(id),
            ms(v.netScriptMs),
            ms(v.netTaskMs),
            `${v.netTaskIqrMs[0].toFixed(1)}–${v.netTaskIqrMs[1].toFixed(1)}`,
            ratio(v.netScriptMs / o.netScriptMs),
            ratio(v.netTaskMs / o.netTaskMs),
            KB(v.heapDeltaBytes),
            v.pageErrors.length ? v.pageErrors.join('; ').slice(0, 60) : '0',
          ]),
      ),
    );
    out.push(`   empty page (subtracted): script ${ms(r.load.baseline.scriptMs)}, task ${ms(r.load.baseline.taskMs)}`);
    if (om?.launcher) {
      out.push(
        `   launcher painted ${ms(om.launcher.scriptToPaintMs)} after the script's last byte arrived (${ms(om.launcher.insertToPaintMs)} after the tag was inserted, incl. the loopback fetch); ${om.launcher.painted}/${om.samples} painted`,
      );
    }
    const peers = Object.entries(r.load).filter(([id]) => !id.startsWith('ours') && id !== 'baseline');
    const worstFor = (x) => peers.reduce((m, [, v]) => Math.min(m, v.netTaskMs / x.netTaskMs, v.netScriptMs / x.netScriptMs), Infinity);
    const lowerThanAll = peers.length > 0 && worstFor(o) > 1;
    target(
      'load cost lower than every peer (net script and net task time)',
      lowerThanAll,
      `closest peer costs ${ratio(worstFor(o))} ours${om ? ` (${ratio(worstFor(om))} ours as mounted)` : ''}`,
    );
    for (const id of ['flowise-embed', '@typebot.io/js']) {
      const v = r.load[id];
      if (!v) {
        target(`load cost ≥ 5× lower than ${id}`, false, 'peer unavailable');
        continue;
      }
      const x = Math.min(v.netTaskMs / o.netTaskMs, v.netScriptMs / o.netScriptMs);
      const xm = om ? Math.min(v.netTaskMs / om.netTaskMs, v.netScriptMs / om.netScriptMs) : NaN;
      target(`load cost ≥ 5× lower than ${id}`, x >= 5, `task ${ratio(v.netTaskMs / o.netTaskMs)}, script ${ratio(v.netScriptMs / o.netScriptMs)}${om ? ` (as mounted: ${ratio(xm)})` : ''}`);
    }
    out.push('');
  }

  if (r.streaming?.error) out.push(`3. Streaming: ${r.streaming.error}\n`);
  else if (r.streaming) {
    const s = r.streaming;
    const o30 = s.ours[30];
    const o60 = s.ours[60];
    const n30 = s.naive[30];
    const n60 = s.naive[60];
    const row = (name, a, b) => [
      name,
      ms(a.busyMs),
      ms(b.busyMs),
      (b.busyMs / a.busyMs).toFixed(2),
      ms(b.layoutMs + b.styleMs),
      `${a.longTasks + b.longTasks}${a.longTasks + b.longTasks ? ` (max ${ms(Math.max(a.longestTaskObservedMs, b.longestTaskObservedMs), 0)})` : ''}`,
      ms(Math.max(a.maxFrameGapMs, b.maxFrameGapMs), 0),
      ms(b.elapsedMs, 0),
    ];
    out.push(`3. Streaming render cost: markdown answers in 10-character SSE pieces, written as fast as the server can`);
    out.push(`   ours: ESM mount(), panel open, median of ${o60.runs}; naive: marked.parse(whole text) + innerHTML on every piece, median of ${n60.runs}.`);
    out.push('   Busy = main-thread CPU time (TaskDuration, thread ticks) from send to data-state="done" painted. Long tasks: PerformanceObserver, all runs (wall clock).');
    out.push(table(['page', '30 kB busy', '60 kB busy', '60/30', 'layout+style 60', 'long tasks ≥50ms', 'max frame gap', 'wall 60'], [row('codegpt-widget', o30, o60), row('naive baseline', n30, n60)]));
    out.push(
      `   answers: ${o30.chars} and ${o60.chars} characters in ${o30.pieces} and ${o60.pieces} pieces; the server wrote the 60 kB stream in ${ms(o60.serverMs, 0)}; every answer complete: ${o30.complete && o60.complete && n30.complete && n60.complete}`,
    );
    const t = s.ours.trace60;
    if (t) {
      out.push(`   ours 60 kB traced: ${t.tasks} tasks, busy ${ms(t.busyMs, 0)} in ${ms(t.windowMs, 0)}; self time by kind (ms): ${selfList(t.selfMs)}`);
      out.push(
        `   longest tasks: ${t.longestTasks
          .slice(0, 3)
          .map((x) => `${ms(x.durMs, 0)} at +${ms(x.atMs, 0)} [${x.self.slice(0, 3).map(([k, v]) => `${k} ${v}`).join(', ')}]`)
          .join('; ')}`,
      );
    }
    if (s.naive.trace30) out.push(`   naive 30 kB traced: busy ${ms(s.naive.trace30.busyMs, 0)}, longest task ${ms(s.naive.trace30.longestTaskMs, 0)}; self time (ms): ${selfList(s.naive.trace30.selfMs)}`);
    const p = s.ours.profile60;
    if (p?.byModule) {
      out.push(`   ours 60 kB CPU profile, ${ms(p.totalMs, 0)} non-idle, by source file (source map; forced layout counts in the JS that forced it): ${p.byModule.slice(0, 8).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      out.push(`   hottest functions: ${p.byFunction.slice(0, 5).map(([k, v]) => `${k} ${v}`).join('; ')}`);
    }
    const scaling = o60.busyMs / o30.busyMs;
    target('streaming scaling 60 kB / 30 kB ≤ 2.2', scaling <= 2.2, scaling.toFixed(2));
    target('≥ 10× less main-thread time than the naive baseline at 60 kB', n60.busyMs / o60.busyMs >= 10, ratio(n60.busyMs / o60.busyMs));
    const longest = Math.max(o30.longestTaskObservedMs, o60.longestTaskObservedMs);
    const count = o30.longTasks + o60.longTasks;
    target(
      'no task over 50 ms while streaming',
      count === 0 && (t?.tasksOver50ms ?? 0) === 0,
      `${count} long task${count === 1 ? '' : 's'} in ${o30.runs + o60.runs} runs${count ? `, max ${ms(longest, 0)}` : ''}; traced longest ${ms(t?.longestTaskMs, 0)}`,
    );
    out.push('');
  }

  if (r.firstToken) {
    const f = r.firstToken;
    const fl = f.floor;
    out.push(`4. First-token overhead: click on Send → first answer character painted, minus the server's own time (request arrived → first piece written); median of ${f.samples}`);
    out.push('   The server sends the first piece, then pauses 150 ms. "floor" is a bare page that only fetches and sets textContent: what this browser and machine cost at the least.');
    const row = (name, x) => [name, ms(x.totalMs, 2), ms(x.serverMs, 2), ms(x.overheadMs, 2), ms(x.overheadP90Ms, 2), ms(x.clickToFetchMs, 2), ms(x.fetchToFirstByteMs, 2), ms(x.firstByteToPaintMs, 2)];
    out.push(
      table(
        ['page', 'click → painted', 'server', 'overhead', 'overhead p90', 'click → fetch()', 'fetch() → first byte', 'first byte → painted'],
        [row('codegpt-widget (script tag)', f), ...(fl ? [row('floor', fl)] : [])],
      ),
    );
    if (fl) out.push(`   widget minus floor: ${ms(f.overheadMs - fl.overheadMs, 2)}; first text added inside an animation frame: widget ${f.textInAnimationFrame}/${f.samples}, floor ${fl.textInAnimationFrame}/${fl.samples}`);
    target('first-token overhead ≤ 16 ms', f.overheadMs <= 16, `${ms(f.overheadMs, 2)}${fl ? ` (floor ${ms(fl.overheadMs, 2)})` : ''}`);
    out.push('');
  }

  if (r.memory) {
    const m = r.memory;
    out.push(`5. Memory: ESM mount(), persist "${m.persist}", forced GC before each row; ${m.messages} messages, ${m.done} answers done, ${(m.chars / 1024).toFixed(0)} K characters`);
    const row = (name, s) => [name, MB(s.usedBytes), s.nodes, s.jsEventListeners, `${s.listeners.window} / ${s.listeners.document}`];
    out.push(
      table(['state', 'JS heap used', 'DOM nodes', 'JS listeners', 'on window / document'], [
        row('module imported, nothing mounted', m.before),
        row('after a warm-up mount, 20 turns, destroy', m.warm),
        row('mounted again, empty', m.mounted),
        row(`after ${m.turns} turns`, m.after),
        row('after destroy()', m.destroyed),
      ]),
    );
    out.push(`   time per turn (send → answer ended): first 20 median ${ms(m.turnMs.first20)}, last 20 median ${ms(m.turnMs.last20)}`);
    const fromCold = m.destroyed.usedBytes - m.before.usedBytes;
    const fromWarm = m.destroyed.usedBytes - m.warm.usedBytes;
    out.push(`   after destroy(): ${signed(fromWarm, KB)} vs the warm baseline (what ${m.turns} turns leave behind), ${signed(fromCold, KB)} vs never mounted (incl. compiled code V8 keeps)`);
    target(`heap < 15 MiB after ${m.turns} turns`, m.after.usedBytes < 15 * 2 ** 20 && m.turns >= 200, MB(m.after.usedBytes) + (m.turns < 200 ? ` (only ${m.turns} turns)` : ''));
    const back =
      fromWarm <= 256 * 1024 &&
      m.destroyed.nodes <= m.before.nodes &&
      m.destroyed.jsEventListeners <= m.before.jsEventListeners &&
      m.destroyed.listeners.window <= m.before.listeners.window &&
      m.destroyed.listeners.document <= m.before.listeners.document;
    target(
      'back to baseline after destroy() (heap within 256 KB of the warm baseline; no extra nodes or listeners)',
      back,
      `heap ${signed(fromWarm, KB)} (${signed(fromCold, KB)} vs never mounted), nodes ${signed(m.destroyed.nodes - m.before.nodes, String)}, listeners ${signed(m.destroyed.jsEventListeners - m.before.jsEventListeners, String)}`,
    );
    out.push('');
  }

  if (r.broker?.error) out.push(`6. Broker: unavailable (${r.broker.error.split('\n')[0]})\n`);
  else if (r.broker) {
    const b = r.broker;
    out.push(`6. Reference broker on loopback (dist/server.js on dist/server-node.js, rate limits off, in the bench server process)`);
    out.push(
      table(
        ['POST /token', 'trivial handler, same loop', 'failures', 'first byte direct', 'via broker', 'added (median)', 'added (p90)'],
        [[`${b.rps.toFixed(0)} req/s`, `${b.plainRps?.toFixed(0) ?? '?'} req/s`, b.failures, ms(b.firstByte.directMs, 2), ms(b.firstByte.brokerMs, 2), ms(b.firstByte.addedMs, 2), ms(b.firstByte.addedP90Ms, 2)]],
      ),
    );
    out.push(`   ${b.tokenRequests} requests at concurrency ${b.concurrency} from Node fetch; first byte: ${b.firstByte.pairs} alternating pairs of a streamed answer`);
    const i = b.firstByte.inside;
    if (i?.count) out.push(`   inside the broker (median): ${ms(i.beforeUpstreamMs, 2)} own work before calling upstream (body, token check), ${ms(i.upstreamHeadersMs, 2)} upstream call to headers, ${ms(i.afterUpstreamMs, 2)} after; the rest is the extra loopback HTTP hop`);
    target('broker adds < 2 ms to the first byte', b.firstByte.addedMs < 2, ms(b.firstByte.addedMs, 2));
    out.push('');
  }

  if (unavailable.length) out.push(`Unavailable peers: ${unavailable.map((p) => `${p.label} (${p.error})`).join('; ')}\n`);
  out.push('Targets (issue 6)');
  out.push(table(['target', 'figure', 'result'], targets.map((t) => [t.target, t.figure, t.met ? 'met' : 'NOT MET'])));
  out.push(`\n${targets.filter((t) => t.met).length} of ${targets.length} targets met. Run took ${r.seconds ?? '?'} s.`);
  return { text: out.join('\n'), targets };
}
