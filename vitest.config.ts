import { defineConfig } from 'vitest/config';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/** Unit and component tests. Files needing a DOM opt in with `// @vitest-environment happy-dom`. */
export default defineConfig({
  define: { __WIDGET_VERSION__: JSON.stringify(pkg.version) },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 15_000,
  },
});
