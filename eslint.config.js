// ESLint flat config: `npm run lint` (part of `npm test`) must report zero warnings and zero errors.
import js from '@eslint/js';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Node globals for the plain-JS files (no `globals` package in the tree; TS files leave no-undef to tsc).
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'setTimeout', 'clearTimeout', 'setInterval',
    'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'structuredClone', 'performance',
    'fetch', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'globalThis']
    .map((name) => [name, 'readonly']),
);

export default defineConfig(
  { ignores: ['**/node_modules/**', 'server/dist/**', 'sdk/dist/**', 'bench/native/build/**', 'web/**', '**/.tmp/**'] },
  {
    files: ['server/src/**/*.ts', 'server/test/**/*.ts', 'sdk/src/**/*.ts', 'sdk/test/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)) },
    },
    rules: {
      // node:test's test/describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      // async without await is deliberate here: fastify handlers and Promise-returning ports (identity, SASL, fakes).
      '@typescript-eslint/require-await': 'off',
      // a leading underscore marks a parameter or binding kept on purpose (interface shape, positional args).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // a `let` assigned once, after a closure that reads it was created, is the wiring pattern in server.ts.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // the SDK names event types that share a shape (`interface NoticeEvent extends MessageEvent {}`).
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    files: ['server/test/**/*.ts', 'sdk/test/**/*.ts'],
    rules: {
      // tests read JSON.parse() results and raw wire data directly; the assertions check the shape.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['scripts/**/*.mjs', 'bench/*.mjs', 'server/test/**/*.mjs', 'server/bin/*.js', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    // tool configs at the root (.dependency-cruiser.cjs)
    files: ['*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'commonjs', globals: { ...nodeGlobals, module: 'writable', require: 'readonly', __dirname: 'readonly' } },
  },
);
