/** Script-tag build: `debug.js` (built from debug-entry.ts) hands `createDebug` to `addDebug`. */
import { loadBeside } from './load-beside';
import type { createDebug } from './debug';

type Factory = typeof createDebug;
let factory: Promise<Factory | undefined> | undefined;
let arrived: (f: Factory | undefined) => void = () => {};

/** Called by `debug.js`. */
export const addDebug = (f: Factory) => arrived(f);

export function loadDebug(): Promise<Factory | undefined> {
  return (factory ??= new Promise((resolve) => {
    arrived = resolve;
    if (!loadBeside('codegpt-widget.debug.js', () => resolve(undefined))) resolve(undefined);
  }));
}
