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
  },
});
