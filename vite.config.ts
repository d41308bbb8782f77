import { defineConfig, type UserConfig } from 'vite';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * One config, three builds (Vite lib mode takes one entry per IIFE build, vitejs/vite#8090):
 * - default: ESM library from widget/index.ts (no side effects, Preact bundled);
 * - `--mode iife`: the script-tag bundle from widget/global.ts, CSS inlined;
 * - `--mode server`: the reference token broker from server/index.ts (Web APIs only);
 * - `--mode demo`: the demo server (demo/main.ts) for Node, into .demo-build/ (not published).
 * `npm run build` runs all three; only the first empties dist/.
 */
export default defineConfig(({ mode }): UserConfig => {
  const define = {
    'process.env.NODE_ENV': JSON.stringify('production'),
    __WIDGET_VERSION__: JSON.stringify(pkg.version),
  };
  if (mode === 'demo') {
    // The demo server (Node), compiled once so `npm run demo` needs no TypeScript runner.
    return {
      define: { __WIDGET_VERSION__: JSON.stringify(pkg.version) },
      build: {
        ssr: 'demo/main.ts',
        outDir: '.demo-build',
        emptyOutDir: true,
        target: 'node20',
        minify: false,
        rolldownOptions: { output: { entryFileNames: 'main.js' } },
      },
    };
  }
  if (mode === 'server') {
    return {
      define: { __WIDGET_VERSION__: JSON.stringify(pkg.version) },
      build: {
        emptyOutDir: false,
        target: 'es2022',
        minify: false,
        sourcemap: true,
        lib: {
          entry: { server: 'server/index.ts', 'server-node': 'server/node.ts' },
          formats: ['es'],
          fileName: (_format, name) => `${name}.js`,
        },
        rolldownOptions: { external: [/^node:/] },
      },
    };
  }
  const iife = mode === 'iife';
  return {
    define,
    build: {
      emptyOutDir: !iife,
      target: 'es2022',
      minify: true,
      sourcemap: true,
      lib: iife
        ? { entry: 'widget/global.ts', formats: ['iife'], name: 'CodeGPTWidgetBundle', fileName: () => 'codegpt-widget.iife.js' }
        : { entry: 'widget/index.ts', formats: ['es'], fileName: () => 'codegpt-widget.js' },
    },
  };
});
