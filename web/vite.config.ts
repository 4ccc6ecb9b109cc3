/**
 * Builds the web app into `dist/`, which repo-api serves at `/`. `npm run dev -w web` serves
 * it with hot reload and forwards the API paths to a repo-api (REPO_API_URL, default
 * http://127.0.0.1:3003), so the browser sees one origin as it does in production (the
 * session cookie and `EventSource` rely on that).
 *
 * The component tests (Vitest, jsdom) are configured here too; the browser tests have their
 * own config, `vitest.e2e.config.ts`.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const repoApi = process.env.REPO_API_URL ?? 'http://127.0.0.1:3003';
const forwarded = ['/api', '/repositories', '/admin', '/docs'];

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // repo-api's Content-Security-Policy allows scripts from 'self' only: nothing inline.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: Object.fromEntries(forwarded.map((path) => [path, { target: repoApi, changeOrigin: false }])),
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});
