// Writes dist/locales/<lang>.js: the translation packs the script-tag bundle loads on demand
// (widget/core/locale-source.remote.ts). Each file only hands its pack to the widget's global.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const packs = JSON.parse(readFileSync(new URL('../widget/core/locale-packs.json', import.meta.url), 'utf8'));
mkdirSync('dist/locales', { recursive: true });
for (const [lang, packed] of Object.entries(packs)) {
  const call = `window.CodeGPTWidget&&CodeGPTWidget.addLocales&&CodeGPTWidget.addLocales(${JSON.stringify({ [lang]: packed })});\n`;
  writeFileSync(`dist/locales/${lang}.js`, call);
}
console.log(`locales: wrote ${Object.keys(packs).length} packs to dist/locales/`);
