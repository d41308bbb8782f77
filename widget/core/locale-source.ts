/**
 * Where translations come from, ESM build: all packs are bundled, so every language is there at
 * once. The script-tag build swaps this module for locale-source.remote.ts (vite.config.ts), which
 * loads only the visitor's language.
 */
import packs from './locale-packs.json';

/** The pack of `lang`, or undefined until it arrives (then `ready` is called once). */
export function localePack(lang: string, _ready: () => void): string | undefined {
  return (packs as Record<string, string>)[lang];
}
