// `npm run bench` (issue 6): measures the widget against peer widgets in one run on this machine and
// prints a table; the full figures go to bench/results.json (gitignored). Plain Node ESM, no build
// step of its own: `npm run bench` builds dist/ first. Every comparison is a ratio of figures taken
// in this same run. Nothing here is imported by tests, and nothing here asserts on time.
//
// Options (environment): BENCH_QUICK=1 (fewer samples, for a smoke run), BENCH_ONLY=bytes,load,
// streaming,first-token,memory,broker (a subset).
import { fork, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';
import { installPeers, PEERS, PEERS_DIR, scriptFile, TOOLS } from './peers.mjs';
import { summariseProfile } from './profile.mjs';
import { report } from './report.mjs';
import { measureBroker } from './sections/broker.mjs';
import { measureBytes } from './sections/bytes.mjs';
import { measureFirstToken } from './sections/first-token.mjs';
import { measureLoad } from './sections/load.mjs';
import { measureMemory } from './sections/memory.mjs';
import { measureStreaming } from './sections/streaming.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const QUICK = process.env.BENCH_QUICK === '1';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'bytes,load,streaming,first-token,memory,broker').split(',').map((s) => s.trim()));
const started = Date.now();
const loadAtStart = loadavg()[0];
// Other processes on this 2-core machine (a test suite, a build) inflate every timing: sample the
// load average through the run and print it beside the results.
const loadSamples = [];
setInterval(() => loadSamples.push(loadavg()[0]), 5000).unref();
const log = (msg) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}`);

// Everything below measures this copy of dist/, taken once at the start (see server.mjs).
const SNAPSHOT = mkdtempSync(join(tmpdir(), 'codegpt-bench-'));
const DIST = join(SNAPSHOT, 'dist');
const OURS = { id: 'ours', label: 'codegpt-widget', path: join(DIST, 'codegpt-widget.iife.js'), rel: 'dist/codegpt-widget.iife.js', url: '/dist/codegpt-widget.iife.js', module: false };

function startServer() {
  const child = fork(join(HERE, 'server.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_DIST: DIST } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench server did not start in 20 s')), 20_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    child.once('message', (msg) => {
      clearTimeout(timer);
      resolve({ child, ...msg });
    });
  });
}

function stopServer(server) {
  if (!server?.child || server.child.exitCode !== null) return;
  try {
    server.child.send({ type: 'close' });
  } catch {
    // already gone
  }
  setTimeout(() => server.child.exitCode === null && server.child.kill(), 2000).unref();
}

function environment(browserVersion) {
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'widget', 'server'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    // not a git checkout
  }
  return { date: new Date().toISOString(), loadAverageAtStart: loadAtStart, node: process.version, chromium: browserVersion, cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), commit, dirty, quick: QUICK };
}

// Every loop here is bounded; this is the last resort that guarantees the run ends.
setTimeout(() => {
  console.error('bench: still running after 12 minutes; giving up.');
  rmSync(SNAPSHOT, { recursive: true, force: true });
  process.exit(2);
}, 12 * 60_000).unref();

async function main() {
  for (const f of ['codegpt-widget.iife.js', 'codegpt-widget.js', 'server.js', 'server-node.js']) {
    if (!existsSync(join(ROOT, 'dist', f))) throw new Error(`dist/${f} is missing: run \`npm run build\` first (npm run bench does).`);
  }
  cpSync(join(ROOT, 'dist'), DIST, { recursive: true });
  log('peers: checking bench/peers');
  const installed = installPeers(log);
  const peers = PEERS.map((p) => {
    const where = installed.get(p.name);
    if (!where || where.error) return { id: p.name, label: p.name, error: `unavailable: ${where?.error ?? 'not installed'}` };
    const file = scriptFile(p, where.root);
    return file.error ? { id: p.name, label: p.name, error: file.error } : { id: p.name, label: `${p.name}@${file.version}`, why: p.why, ...file };
  });
  const markedWhere = installed.get('marked');
  const marked = markedWhere && !markedWhere.error ? scriptFile(TOOLS[0], markedWhere.root) : { error: 'marked unavailable' };
  const results = { peersDir: PEERS_DIR, peers: peers.map(({ id, label, rel, module, error, why }) => ({ id, label, file: rel, module, error, why })) };

  if (ONLY.has('bytes')) results.bytes = measureBytes([OURS, { id: 'ours-esm', label: 'codegpt-widget (ESM)', path: join(DIST, 'codegpt-widget.js'), rel: 'dist/codegpt-widget.js' }, ...peers]);

  const server = await startServer();
  log(`server: ${server.url}, broker ${server.brokerUrl ?? 'unavailable: ' + server.brokerError}`);
  let browser;
  try {
    browser = await launch();
    results.env = environment(browser.version());
    const available = peers.filter((p) => !p.error);
    if (ONLY.has('load')) {
      log('load cost: fresh page per sample …');
      // Like for like with the peers: the bundle evaluated with no data attributes (defines the element
      // and the global, mounts nothing). And as embedded: data attributes, so it mounts its launcher.
      const evalOnly = { ...OURS, id: 'ours' };
      const mounted = { ...OURS, id: 'ours-mount', attrs: { 'data-agent-id': 'bench-agent', 'data-token-endpoint': '/token' } };
      results.load = await measureLoad(browser, server.url, [evalOnly, mounted, ...available], { samples: QUICK ? 3 : 9, log });
    }
    if (ONLY.has('streaming')) {
      if (marked.error) results.streaming = { error: marked.error };
      else {
        log('streaming: 30 kB and 60 kB answers …');
        const s = await measureStreaming(browser, server.url, marked.url, { oursRuns: QUICK ? 1 : 5, naiveRuns: QUICK ? 1 : 2, budgetMs: 150_000, log });
        s.ours.profile60 = summariseProfile(s.ours.profile60, { '/dist/codegpt-widget.js': join(DIST, 'codegpt-widget.js.map') });
        results.streaming = s;
      }
    }
    if (ONLY.has('first-token')) {
      log('first token: click → first character painted …');
      results.firstToken = await measureFirstToken(browser, server.url, { samples: QUICK ? 5 : 21 });
    }
    if (ONLY.has('memory')) {
      log('memory: 200 turns, then destroy() …');
      results.memory = await measureMemory(browser, server.url, { turns: QUICK ? 40 : 200, log });
    }
  } finally {
    await browser?.close().catch(() => {});
  }
  try {
    if (ONLY.has('broker')) {
      if (!server.brokerUrl) results.broker = { error: server.brokerError };
      else {
        log('broker: POST /token throughput and first-byte overhead …');
        results.broker = await measureBroker(server.url, server.brokerUrl, { requests: QUICK ? 400 : 2000, pairs: QUICK ? 30 : 150 });
      }
    }
  } finally {
    stopServer(server);
  }
  results.env ??= environment(null);
  results.seconds = Math.round((Date.now() - started) / 1000);
  results.env.loadAverageAtEnd = loadavg()[0];
  results.env.loadAverageMax = Math.max(loadAtStart, ...loadSamples);
  results.env.loadAverageMean = loadSamples.length ? loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length : loadAtStart;
  const { text, targets } = report(results);
  results.targets = targets;
  writeFileSync(join(HERE, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(text);
  log(`done in ${results.seconds} s; full figures in bench/results.json`);
}

main()
  .catch((error) => {
    console.error('bench failed:', error?.stack ?? error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(SNAPSHOT, { recursive: true, force: true }));
