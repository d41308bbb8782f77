import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * One config, three builds (Vite lib mode takes one entry per IIFE build, vitejs/vite#8090):
 * - default: ESM library from widget/index.ts (no side effects, Preact bundled);
 * - `--mode iife`: the script-tag bundle from widget/global.ts, CSS inlined;
 * - `--mode server`: the reference token broker from server/index.ts (Web APIs only);
 * - `--mode react`: `codegpt-widget/react` from widget/react/index.ts, with React and the widget's
 *   own ESM entry (`codegpt-widget`) left as imports, so neither is bundled a second time;
 * - `--mode demo`: the demo server (demo/main.ts) for Node, into .demo-build/ (not published).
 * `npm run build` runs all but demo; only the first empties dist/.
 */
const widgetEntry = fileURLToPath(new URL('./widget/index.ts', import.meta.url));

/** In the react build, the binding's `import … from '../index'` becomes `from 'codegpt-widget'`. */
function widgetAsPackage(): Plugin {
  return {
    name: 'codegpt-widget-as-package',
    enforce: 'pre',
    async resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const resolved = await this.resolve(source, importer, { skipSelf: true });
      return resolved?.id === widgetEntry ? { id: 'codegpt-widget', external: true } : null;
    },
  };
}

/**
 * A second minification pass with terser over the bundler's minified output: it finds about 330 B
 * gzip more on this code than either minifier alone. The source map is chained through it.
 */
function secondPass(): Plugin {
  return {
    name: 'codegpt-second-minify-pass',
    apply: 'build',
    async generateBundle(options, bundle) {
      const { minify } = await import('terser');
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const out = await minify(chunk.code, {
          ecma: 2020,
          // An ES module's top-level names are its own to rename (the IIFE's all sit in one function).
          module: options.format === 'es',
          // hoist_funs: function declarations first in their scope (where JS hoists them anyway) gzip
          // about 150 B better here; sequences: false leaves the bundler's statement sequences alone
          // (about 20 B). Never pure_getters: it drops bare signal reads that subscribe.
          compress: { passes: 2, hoist_funs: true, sequences: false },
          // Preact's private fields (`__k`, `__e`…, already renamed by Preact's own build; nothing
          // outside this bundle reads them) get one-letter names. Not `__html`: that one is public.
          mangle: { properties: { regex: /^__[a-zA-Z]?$/ } },
          // The script-tag bundle with `\u2026` for `…` and the thumbs: it reads the same whatever
          // charset the page declares, and gzips about 10 B smaller. (Not the ESM: its built-in
          // translations would double in raw size, for bundlers that read UTF-8 anyway.)
          format: { ascii_only: options.format === 'iife' },
          sourceMap: chunk.map ? { content: JSON.stringify(chunk.map), asObject: true } : false,
        });
        const comment = /\n\/\/# sourceMappingURL=\S+\s*$/.exec(chunk.code)?.[0] ?? '';
        chunk.code = (out.code ?? chunk.code) + comment;
        const mapAsset = bundle[`${chunk.fileName}.map`];
        if (out.map && mapAsset?.type === 'asset') mapAsset.source = JSON.stringify(out.map);
      }
    },
  };
}

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
  if (mode === 'react') {
    return {
      define: { __WIDGET_VERSION__: JSON.stringify(pkg.version) },
      plugins: [widgetAsPackage()],
      build: {
        emptyOutDir: false,
        target: 'es2022',
        minify: false,
        sourcemap: true,
        lib: { entry: { react: 'widget/react/index.ts' }, formats: ['es'], fileName: (_format, name) => `${name}.js` },
        rolldownOptions: {
          external: ['react', 'react-dom', /^react\//, /^react-dom\//, 'codegpt-widget'],
          // Next.js App Router: a Server Component may import <CodeGPTChat> directly (hooks run on the client).
          output: { banner: "'use client';" },
        },
      },
    };
  }
  if (mode === 'debug') {
    // The debug logger the script-tag bundle loads for `data-debug` (widget/embed/debug-source.remote.ts).
    return {
      build: {
        emptyOutDir: false,
        target: 'es2022',
        minify: true,
        lib: { entry: 'widget/embed/debug-entry.ts', formats: ['iife'], name: 'CodeGPTWidgetDebug', fileName: () => 'codegpt-widget.debug.js' },
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
    plugins: [secondPass()],
    // The script-tag bundle loads translations on demand instead of carrying all of them.
    resolve: iife ? { alias: [{ find: /^(.*\/(?:locale|debug)-source)$/, replacement: '$1.remote' }] } : {},
    build: {
      emptyOutDir: !iife,
      target: 'es2022',
      // The bundler's minifier compresses without renaming; terser's second pass (secondPass above)
      // then renames once: about 45 B gzip smaller than renaming in both passes.
      minify: true,
      sourcemap: true,
      rolldownOptions: { output: { minify: { compress: true, mangle: false } } },
      lib: iife
        ? { entry: 'widget/global.ts', formats: ['iife'], name: 'CodeGPTWidgetBundle', fileName: () => 'codegpt-widget.iife.js' }
        : { entry: 'widget/index.ts', formats: ['es'], fileName: () => 'codegpt-widget.js' },
    },
  };
});
