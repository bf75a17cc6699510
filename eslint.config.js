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

/**
 * #13: state changes only in state/ (Ops is the one mutation path, for local commands and federated
 * events alike): no assignment to a user's, channel's or the world's fields, no change to their
 * collections. Names, not types (lint without type information): the objects are named as they are
 * everywhere in this code base (u/user/target/ch/channel/world, ctx.user, x.modes).
 */
const STATE_ONLY_IN_STATE = [
  {
    selector: "AssignmentExpression[left.type='MemberExpression'][left.property.name=/^(nick|nickFolded|username|realname|host|registered|operClass|operName|away|account|handle|lastSpokeAt|invitedTo|uid|origin|signonAt|topic|founder|emptySince|stamps|lockdown|registeredCount|maxRegistered|operCount|invisibleCount|name|createdAt|[imnpstkl])$/]:matches([left.object.name=/^(u|user|target|victim|dest|holder|from|ch|chan|channel|world)$/], [left.object.property.name=/^(user|world|channel|modes)$/])",
    message: 'state changes only in state/: call an Ops method (#13)',
  },
  {
    selector: "UpdateExpression:matches([argument.object.name='world'], [argument.object.property.name='world'])",
    message: 'state changes only in state/: call an Ops method (#13)',
  },
  {
    selector: "CallExpression[callee.property.name=/^(set|delete|add|clear|push|splice|shift|pop|unshift|remove|removeAt)$/][callee.object.property.name=/^(members|nicks|users|channels|nickOwners|accountNicks|whowas|didOps|didInvites|modes|invitedTo|lists|b|e|I)$/]:not([callee.object.object.type='ThisExpression'])",
    message: 'state changes only in state/: call an Ops method (#13)',
  },
];

export default defineConfig(
  { ignores: ['**/node_modules/**', 'server/dist/**', 'sdk/dist/**', 'protocol/dist/**', 'bench/native/build/**', 'web/dist/**', '**/.tmp/**'] },
  {
    files: ['server/src/**/*.ts', 'server/test/**/*.ts', 'sdk/src/**/*.ts', 'sdk/test/**/*.ts', 'protocol/src/**/*.ts', 'web/src/**/*.{ts,tsx}'],
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
    // #13: per-client state lives on the session (session slots, declared rate limits: commands/registry.ts),
    // never in a command module; and commands do not tell local from remote users by their class.
    files: ['server/src/commands/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        ...['Program', 'Program > ExportNamedDeclaration'].flatMap((at) => [
          { selector: `${at} > VariableDeclaration[kind!='const']`, message: 'no module-level mutable state in commands/: use a session slot (session/slots.ts) or a declared rate (registry.ts)' },
          { selector: `${at} > VariableDeclaration > VariableDeclarator > NewExpression[callee.name=/^(WeakMap|WeakSet|WeakRef|SlidingWindow|RateLimiter)$/]`, message: 'no module-level per-client state in commands/: use a session slot (session/slots.ts) or a declared rate (registry.ts)' },
          { selector: `${at} > VariableDeclaration > VariableDeclarator > NewExpression[callee.name=/^(Map|Set|Array)$/][arguments.length=0]`, message: 'no module-level mutable collection in commands/: use a session slot (session/slots.ts)' },
          { selector: `${at} > VariableDeclaration > VariableDeclarator > :matches(ArrayExpression[elements.length=0], ObjectExpression[properties.length=0])`, message: 'no module-level mutable collection in commands/: use a session slot (session/slots.ts)' },
        ]),
        { selector: "BinaryExpression[operator='instanceof'][right.name='Session']", message: 'no `instanceof Session` in commands/: local vs remote comes from the actor (#13)' },
        ...STATE_ONLY_IN_STATE,
      ],
    },
  },
  {
    // #15: @freeq/protocol runs in browsers: no Node built-ins, no Buffer (its tsconfig has no Node types either)
    files: ['protocol/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: '@freeq/protocol runs in browsers: no Node built-ins' }] }],
      'no-restricted-globals': ['error', { name: 'Buffer', message: '@freeq/protocol runs in browsers: use Uint8Array, TextEncoder and base64.ts' }, { name: 'process', message: '@freeq/protocol runs in browsers' }],
    },
  },
  {
    // #15: the SDK's browser entry (sdk/src/browser.ts) reaches every module but Node's transports
    files: ['sdk/src/**/*.ts'],
    ignores: ['sdk/src/transport.ts', 'sdk/src/node-client.ts', 'sdk/src/index.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'ws', message: 'browser code: the platform WebSocket (transport-browser.ts)' }], patterns: [{ group: ['node:*'], message: 'the SDK runs in browsers: Node built-ins only in transport.ts / node-client.ts' }] }],
      'no-restricted-globals': ['error', { name: 'Buffer', message: 'the SDK runs in browsers: use Uint8Array and @freeq/protocol base64' }],
    },
  },
  {
    // #13: state changes only in state/ (commands/ has its own block above, which includes these)
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/state/**', 'server/src/commands/**'],
    rules: { 'no-restricted-syntax': ['error', ...STATE_ONLY_IN_STATE] },
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
    files: ['scripts/**/*.mjs', 'bench/*.mjs', 'server/test/**/*.mjs', 'server/bin/*.js', 'eslint.config.js', 'web/*.mjs', 'web/scripts/*.mjs', 'sdk/examples/*.mjs'],
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
