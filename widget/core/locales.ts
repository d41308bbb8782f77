import { en, type Strings } from './strings';

/** The languages with built-in strings (locale-packs.json holds all but English). */
export const LANGS = ['en', 'es', 'fr', 'de', 'pt', 'ja', 'zh', 'ar', 'he'];

/**
 * The language to show: `requested` (data-locale, e.g. 'pt-BR', 'zh_TW') by its primary subtag,
 * else the first supported of `browser` (navigator.languages), else 'en'.
 */
export function pickLocale(requested: string | undefined, browser: readonly string[]): string {
  // An unsupported requested locale (e.g. 'ko') falls through to the browser's languages, then 'en'.
  for (const tag of [requested, ...browser]) {
    const sub = tag?.trim().toLowerCase().split(/[-_]/)[0];
    const lang = sub === 'iw' ? 'he' : sub;
    if (lang && LANGS.includes(lang)) return lang;
  }
  return 'en';
}

/**
 * A language's strings from its pack: the values of `en` in key order (the top-level keys in
 * declaration order except `errors`, then the keys of `en.errors`), joined by '|'. Packed this way
 * to keep key names out of the data; no value contains '|'.
 */
export function unpack(packed: string): Strings {
  const values = packed.split('|');
  const keys = Object.keys(en).filter((k) => k !== 'errors');
  const table = (names: string[], from: number) => Object.fromEntries(names.map((k, i) => [k, values[from + i]]));
  return { ...table(keys, 0), errors: table(Object.keys(en.errors), keys.length) } as unknown as Strings;
}

export const isRtl = (lang: string) => lang === 'ar' || lang === 'he';
