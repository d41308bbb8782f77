/**
 * Where the debug logger comes from, ESM build: bundled. The script-tag build swaps this module for
 * debug-source.remote.ts (vite.config.ts), which loads `debug.js` next to the bundle only when
 * `data-debug` asks for it, so the logger costs visitors of other sites nothing.
 */
import { createDebug } from './debug';

export const loadDebug = (): Promise<typeof createDebug | undefined> => Promise.resolve(createDebug);
