/**
 * Where translations come from, script-tag build: English is built in; another language is a small
 * script next to the bundle (`locales/<lang>.js`, about 0.5 KB gzip), loaded only when a visitor's
 * language needs it, so nobody downloads eight languages to read one. It calls
 * `CodeGPTWidget.addLocales`. If it cannot load, the widget stays in English.
 *
 * The packs are a signal: a computed that asked for a pack while it was loading recomputes when it
 * arrives.
 */
import { signal } from '@preact/signals-core';
import { loadBeside } from './load-beside';

const packs = signal<Record<string, string>>({});
const requested = new Set<string>();

/** Called by a locale script: `{ es: '…' }`. */
export function addLocales(more: unknown): void {
  const valid = Object.entries(more ?? {}).filter(([, packed]) => typeof packed === 'string');
  packs.value = { ...packs.value, ...Object.fromEntries(valid) };
}

/** The pack of `lang`, or undefined until it arrives (reading it subscribes to its arrival). */
export function localePack(lang: string): string | undefined {
  const packed = packs.value[lang];
  if (!packed && !requested.has(lang)) {
    requested.add(lang);
    loadBeside(`locales/${lang}.js`, () => {});
  }
  return packed;
}
