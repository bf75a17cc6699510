import { defineConfig } from 'vite';

// The web client (#15): Preact through the automatic JSX runtime (no plugin needed); the SDK
// and @freeq/protocol from their TypeScript sources (the `source` export condition), so the client
// is built from what is in the repository, not from a stale build.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, assetsInlineLimit: 0 },
});
