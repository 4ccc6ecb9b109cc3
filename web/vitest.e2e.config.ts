/**
 * Browser tests: Debian's Chromium driven by playwright-core against repo-api started as a
 * process, with real Redis. `npm run test:e2e -w web` builds the app first.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.test.ts'],
    // One browser and one repo-api per file; files run one after another (2 cores).
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
