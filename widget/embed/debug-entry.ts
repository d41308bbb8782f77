/** `dist/codegpt-widget.debug.js`: the debug logger for the script-tag build (see debug-source.remote.ts). */
import { createDebug } from './debug';

(window as unknown as { CodeGPTWidget?: { addDebug?: (f: typeof createDebug) => void } }).CodeGPTWidget?.addDebug?.(createDebug);
