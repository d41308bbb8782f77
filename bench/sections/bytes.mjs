// Item 1: transfer size of each script-tag bundle, gzip level 9 and brotli quality 11 (what a CDN
// serves at best), measured here on the files themselves.
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export function sizes(path) {
  const buf = readFileSync(path);
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}

/** `bundles`: [{ id, label, path, rel, error? }] → one row each. */
export function measureBytes(bundles) {
  return bundles.map((b) => (b.error ? { id: b.id, label: b.label, error: b.error } : { id: b.id, label: b.label, file: b.rel, ...sizes(b.path) }));
}
