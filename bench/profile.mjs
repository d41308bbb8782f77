// CPU profile (CDP Profiler) → self time by original source file and by function, through the
// bundle's source map, so "what dominates streaming" names modules, not minified identifiers.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

function loadMap(path) {
  try {
    return new SourceMap(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null;
  }
}

/** Short name of an original source: the npm package, or the path from widget/. */
function moduleName(source) {
  if (!source) return null;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (nm) return nm[1];
  const w = /(widget\/.*)$/.exec(source);
  return w ? w[1] : source.replace(/^(\.\.\/)+/, '');
}

/**
 * `bundles`: { urlSuffix: mapPath }. Returns { totalMs, byModule: [[name, ms]], byFunction: [[name, ms]] }
 * over non-idle samples.
 */
export function summariseProfile(profile, bundles) {
  const maps = Object.fromEntries(Object.entries(bundles).map(([suffix, path]) => [suffix, loadMap(path)]));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0) / 1000;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const byModule = new Map();
  const byFunction = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const f = nodes.get(id)?.callFrame;
    if (!f || f.functionName === '(idle)' || f.functionName === '(root)') continue;
    total += ms;
    let mod;
    let fn = f.functionName || '(anonymous)';
    const suffix = Object.keys(maps).find((s) => f.url.endsWith(s));
    if (suffix) {
      const entry = maps[suffix]?.findEntry(f.lineNumber, f.columnNumber);
      mod = moduleName(entry?.originalSource) ?? suffix;
      fn = `${entry?.name || fn} (${mod}:${(entry?.originalLine ?? -1) + 1})`;
    } else if (!f.url) {
      mod = f.functionName.startsWith('(') ? f.functionName : 'native/DOM bindings';
      fn = f.functionName || '(native)';
    } else {
      mod = 'page/other scripts';
    }
    byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, Math.round(v * 10) / 10]);
  return { totalMs: Math.round(total * 10) / 10, byModule: top(byModule, 10), byFunction: top(byFunction, 12) };
}
