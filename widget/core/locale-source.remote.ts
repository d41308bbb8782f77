/**
 * Where translations come from, script-tag build: English is built in; another language is a small
 * script next to the bundle (`locales/<lang>.js`, about 0.5 KB gzip), loaded only when a visitor's
 * language needs it, so nobody downloads eight languages to read one. It calls
 * `CodeGPTWidget.addLocales`. If it cannot load, the widget stays in English.
 */
import { loadBeside } from './load-beside';

const packs: Record<string, string> = {};
const waiting = new Map<string, (() => void)[]>();

/** Called by a locale script: `{ es: '…' }`. */
export function addLocales(more: unknown): void {
  for (const [lang, packed] of Object.entries(more ?? {})) {
    if (typeof packed !== 'string') continue;
    packs[lang] = packed;
    for (const ready of waiting.get(lang) ?? []) ready();
    waiting.delete(lang);
  }
}

/** The pack of `lang`, or undefined until it arrives (then `ready` is called once). */
export function localePack(lang: string, ready: () => void): string | undefined {
  const queue = waiting.get(lang);
  if (packs[lang] || queue) queue?.push(ready);
  else if (loadBeside(`locales/${lang}.js`, () => {})) waiting.set(lang, [ready]);
  return packs[lang];
}
