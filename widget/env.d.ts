/** Replaced at build time (vite.config.ts `define`) and in tests (vitest.config.ts). */
declare const __WIDGET_VERSION__: string;
