// Peer widgets for the comparison (issue 6, item 1), installed from npm into bench/peers/ only
// (gitignored, never imported by the project or its tests). Versions are pinned so runs on different
// days compare the same files; all of them install on Node 20.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PEERS_DIR = fileURLToPath(new URL('./peers/', import.meta.url));

/**
 * Each peer's script-tag file: the one its README/CDN snippet loads (checked in this order), else
 * its package.json `unpkg`/`jsdelivr`/`browser` field. `module` is how that snippet loads it.
 */
export const PEERS = [
  { name: 'flowise-embed', version: '3.1.6', files: ['dist/web.js'], module: true, why: 'README: import from CDN dist/web.js' },
  { name: '@typebot.io/js', version: '0.10.7', files: ['dist/web.js'], module: true, why: 'README: import from CDN dist/web.js' },
  { name: '@markprompt/web', version: '0.14.3', files: ['dist/init.js'], module: true, why: 'README: <script type=module src=…/init>' },
  { name: 'deep-chat', version: '2.4.2', files: ['dist/deepChat.bundle.js'], module: true, why: 'docs: CDN dist/deepChat.bundle.js' },
  { name: 'docsgpt', version: '0.5.1', files: ['dist/modern/browser.js', 'dist/legacy/browser.js'], module: false, why: 'README: dist/modern (browser.js in this version)' },
  { name: '@docsearch/js', version: '5.2.0', files: [], module: false, why: 'package.json unpkg' },
];

/** Tools the bench needs in the browser: the naive baseline's markdown library. */
export const TOOLS = [{ name: 'marked', version: '18.2.1', files: ['lib/marked.umd.js'], module: false }];

const slug = (name) => name.replace(/[@/]/g, '_');

function installedVersion(root, name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function npmInstall(prefix, specs) {
  mkdirSync(prefix, { recursive: true });
  const r = spawnSync(
    'npm',
    ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel', 'error', ...specs],
    { encoding: 'utf8', timeout: 240_000 },
  );
  return { ok: r.status === 0, log: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim().slice(-600) };
}

/**
 * Make sure every peer and tool is in bench/peers (skipped when the pinned version is there). One
 * npm call for all; when it fails, each missing package is tried alone in its own folder
 * (bench/peers/solo/<name>) so one broken package never costs the others. Returns, per package,
 * its root folder or the reason it is unavailable.
 */
export function installPeers(log = console.log) {
  const all = [...PEERS, ...TOOLS];
  const where = new Map();
  const soloRoot = (p) => join(PEERS_DIR, 'solo', slug(p.name));
  for (const p of all) {
    if (installedVersion(PEERS_DIR, p.name) === p.version) where.set(p.name, { root: PEERS_DIR });
    else if (installedVersion(soloRoot(p), p.name) === p.version) where.set(p.name, { root: soloRoot(p) });
  }
  const missing = all.filter((p) => !where.has(p.name));
  if (missing.length > 0) {
    // npm prunes what a --no-save install does not name, so the shared folder always gets the full list.
    const shared = all.filter((p) => !where.get(p.name) || where.get(p.name).root === PEERS_DIR);
    log(`bench: installing ${missing.map((p) => `${p.name}@${p.version}`).join(', ')} into bench/peers …`);
    const r = npmInstall(PEERS_DIR, shared.map((p) => `${p.name}@${p.version}`));
    for (const p of missing) {
      if (installedVersion(PEERS_DIR, p.name) === p.version) where.set(p.name, { root: PEERS_DIR });
    }
    if (!r.ok) log(`bench: npm install failed (${r.log.split('\n').pop()}); trying packages one by one`);
    for (const p of missing.filter((x) => !where.has(x.name))) {
      const solo = npmInstall(soloRoot(p), [`${p.name}@${p.version}`]);
      where.set(p.name, solo.ok && installedVersion(soloRoot(p), p.name) === p.version ? { root: soloRoot(p) } : { error: solo.log.split('\n').pop() || 'install failed' });
    }
  }
  return where;
}

/** The script-tag file of an installed package: { path, url, rel, module } or { error }. */
export function scriptFile(p, root) {
  const dir = join(root, 'node_modules', p.name);
  let pkg = {};
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return { error: 'package.json unreadable' };
  }
  const fromFields = [pkg.unpkg, pkg.jsdelivr, typeof pkg.browser === 'string' ? pkg.browser : undefined].filter(Boolean);
  for (const rel of [...p.files, ...fromFields]) {
    const path = join(dir, rel);
    if (!existsSync(path)) continue;
    const clean = rel.replace(/^\.\//, '');
    const text = readFileSync(path, 'utf8');
    // Only files named by a README are typed by hand; a field-found file is ESM when it exports.
    const module = p.files.includes(rel) ? p.module : /(^|[;}\s])export\s*(\{|default\b)/.test(text.slice(-4000));
    return { path, rel: clean, url: '/peers/' + relative(PEERS_DIR, path).split('\\').join('/'), module, version: pkg.version };
  }
  return { error: `no script-tag file (looked for ${[...p.files, ...fromFields].join(', ') || 'unpkg/jsdelivr/browser'})` };
}
