import { defineConfig } from 'vitest/config';

/**
 * Browser tests: real Chromium (playwright-core, /usr/bin/chromium) against the built dist/ bundles
 * and the local CodeGPT-compatible server. Run after `npm run build`.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // One retry for a browser test that failed: on a loaded 2-core machine a page can miss a
    // deadline. Vitest reports every retried test, so a real failure still fails twice and shows.
    retry: 1,
  },
});
