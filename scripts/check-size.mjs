// Size budget of the script-tag bundle, checked in `npm test` (issue 2: fail above 25 KB gzip).
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const BUDGET_GZIP = Number(process.env.SIZE_BUDGET_GZIP ?? 25 * 1024);
const files = ['dist/codegpt-widget.iife.js', 'dist/codegpt-widget.js'];
let failed = false;
for (const file of files) {
  const buf = readFileSync(file);
  const gz = gzipSync(buf, { level: 9 }).length;
  const br = brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const budget = file.endsWith('.iife.js') ? BUDGET_GZIP : undefined;
  const over = budget !== undefined && gz > budget;
  failed ||= over;
  console.log(
    `size: ${file}: ${buf.length} B raw, ${gz} B gzip, ${br} B brotli` +
      (budget !== undefined ? ` (budget ${budget} B gzip: ${over ? 'OVER' : 'ok'})` : ''),
  );
}
if (failed) {
  console.error('size: the script-tag bundle is over its gzip budget.');
  process.exit(1);
}
