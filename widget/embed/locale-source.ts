/**
 * Where translations come from, ESM build: all packs are bundled, so every language is there at
 * once. The script-tag build swaps this module for locale-source.remote.ts (vite.config.ts), which
 * loads only the visitor's language.
 */
import packs from '../core/locale-packs.json';

/** The pack of `lang` (see `unpack` in core/locales.ts), or undefined while it is not there. */
export function localePack(lang: string): string | undefined {
  return (packs as Record<string, string>)[lang];
}
