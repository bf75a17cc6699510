// Module boundaries of server/src (docs/architecture.md "Module boundaries (checked)",
// ../shared/docs/style.md §3.1), checked by `npm run deps` as part of `npm test`.
//
// Each layer lists what of ours it MAY import (an allow-list: a new folder such as federation/ is
// forbidden to every layer until it is added here). `types` entries may be imported type-only
// (`import type`, erased at build time): ports and entity types a lower layer implements.
// Known violations are listed in EXCEPTIONS, one pair of files each, with the change that removes
// them; everything else from those files is still checked, and a type-only exception fails if the
// import starts to pull values. None is left after #13.
'use strict';

const SRC = '^server/src/';
const esc = (file) => file.replace(/[.]/g, '\\.');

// The lists hold the edges that exist (shrunk to them when limits/ became pure and ip-key.ts / cidr.ts
// moved to util/); widening one is a design decision for docs/architecture.md, not a way to make a build pass.

/** layer folder → { may: fragments of paths under server/src/ importable freely, types: importable type-only } */
const LAYERS = {
  util: { may: [], why: 'leaf helpers: nothing of ours' },
  config: { may: [], why: 'option table, loading, Config type: nothing of ours but util' },
  protocol: { may: [], why: 'pure IRC wire format: nothing of ours but util, no I/O' },
  observability: { may: [], why: 'logging and metrics: nothing of ours but util' },
  limits: { may: ['protocol/'], why: 'clock-driven limiters, no I/O; not state/transport/commands' },
  state: { may: ['protocol/'], why: 'in-memory world + Ops; ports for storage are declared here' },
  storage: {
    may: [],
    types: ['state/', 'history/types\\.ts$', 'limits/server-bans\\.ts$', 'auth/api-tokens\\.ts$', 'identity/types\\.ts$', 'federation/audit\\.ts$'],
    why: 'SQLite; implements ports declared above it (type-only), never calls up',
  },
  history: {
    may: ['config/', 'observability/', 'protocol/', 'storage/', 'session/'],
    types: ['state/'],
    why: 'message history store and replay',
  },
  identity: {
    may: ['config/', 'observability/', 'limits/'],
    why: 'DID/handle resolution; not commands/session/state/storage (the DID cache is a port)',
  },
  keys: { may: ['config/', 'storage/'], why: 'key files, signing, data-dir lock' },
  federation: {
    may: ['protocol/', 'state/', 'limits/'],
    types: ['config/s2s\\.ts$'],
    why: 'server-to-server links (TLS, iroh), framing, message schemas, signed envelopes, applying peers\' events through Ops (#14)',
  },
  auth: {
    may: ['config/', 'protocol/', 'identity/', 'limits/'],
    why: 'SASL and API tokens; not transport/http/state',
  },
  plugins: {
    may: ['config/', 'observability/', 'protocol/', 'session/'],
    types: ['state/'],
    why: 'plugin host; read-only state views',
  },
  session: {
    // nothing of commands/: the dispatcher (commands/dispatch.ts) is the LineDispatcher port, wired in server.ts
    may: ['protocol/', 'limits/', 'state/'],
    types: ['transport/conn\\.ts$', 'context\\.ts$'],
    why: 'per-connection state machine; transports only through the IrcConn type, commands through LineDispatcher',
  },
  commands: {
    may: ['config/', 'observability/', 'protocol/', 'limits/', 'state/', 'session/', 'auth/', 'history/', 'keys/', 'plugins/'],
    types: ['identity/types\\.ts$', 'session/session\\.ts$', 'context\\.ts$'],
    why: 'IRC verbs; no transport/http/storage, identity only through its port',
  },
  transport: { may: ['config/', 'observability/', 'limits/'], why: 'sockets; not commands/state/storage' },
  http: {
    may: ['config/', 'observability/', 'protocol/', 'history/', 'transport/'],
    // identity (the OAuth login, tokens) only through the context, its refusal codes as types
    types: ['state/', 'context\\.ts$', 'identity/oauth\\.ts$'],
    why: 'HTTP API and the WebSocket upgrade; not commands/session',
  },
};

/** Known violations, each removed by the #13 refactor (typeOnly: the import must stay `import type`). */
const EXCEPTIONS = [
];

// `import type { X } from` and `import('…').X` in a type position: both erased at build time
const TYPE_ONLY = ['type-only', 'type-import'];

const alt = (fragments) => `(${fragments.join('|')})`;

function layerRules(layer, { may, types = [], why }) {
  const name = `layer-${layer}`;
  const own = `${SRC}${layer}/`;
  const allowed = [`${layer}/`, 'util/', 'version\\.ts$', ...may, ...types];
  const forbiddenOurs = { path: SRC, pathNot: `${SRC}${alt(allowed)}` };
  const mine = EXCEPTIONS.filter((e) => e.from.startsWith(`${layer}/`));
  const rules = [
    {
      name,
      comment: `${layer}/: ${why}`,
      severity: 'error',
      from: { path: own, pathNot: mine.map((e) => `${SRC}${esc(e.from)}$`) },
      to: forbiddenOurs,
    },
  ];
  // an excepted file: the same rule minus its listed targets
  for (const from of new Set(mine.map((e) => e.from))) {
    const targets = mine.filter((e) => e.from === from).map((e) => `${SRC}${esc(e.to)}$`);
    rules.push({
      name,
      comment: `${layer}/: ${why} (known #13 exceptions: ${targets.join(', ')})`,
      severity: 'error',
      from: { path: `${SRC}${esc(from)}$` },
      to: { path: SRC, pathNot: [forbiddenOurs.pathNot, ...targets] },
    });
  }
  const typeOnlyTargets = [
    ...types.map((t) => ({ from: own, to: `${SRC}${t}` })),
    ...mine.filter((e) => e.typeOnly).map((e) => ({ from: `${SRC}${esc(e.from)}$`, to: `${SRC}${esc(e.to)}$` })),
  ];
  for (const t of typeOnlyTargets) {
    rules.push({
      name: `${name}-type-only`,
      comment: `${layer}/ may import ${t.to} only with \`import type\``,
      severity: 'error',
      // files with a (value) exception for this very target are covered by that exception
      from: {
        path: t.from,
        pathNot: EXCEPTIONS.filter((e) => !e.typeOnly && new RegExp(t.to).test(`server/src/${e.to}`)).map(
          (e) => `${SRC}${esc(e.from)}$`,
        ),
      },
      to: { path: t.to, dependencyTypesNot: TYPE_ONLY },
    });
  }
  return rules;
}

// Core modules that do I/O; the pure core (protocol, state, commands, session, limits) imports none of them.
const IO_CORE = '^(fs|fs/promises|net|tls|http|https|http2|dns|dns/promises|dgram|child_process|worker_threads|cluster)$';

module.exports = {
  forbidden: [
    ...Object.entries(LAYERS).flatMap(([layer, spec]) => layerRules(layer, spec)),
    {
      name: 'composition-root',
      comment: 'only server.ts / main.ts / cli.ts import everything; nothing imports them (but each other)',
      severity: 'error',
      from: { path: SRC, pathNot: `${SRC}(server|main|cli)\\.ts$` },
      to: { path: `${SRC}(server|main|cli)\\.ts$` },
    },
    {
      name: 'version-is-a-leaf',
      severity: 'error',
      from: { path: `${SRC}version\\.ts$` },
      to: { path: SRC },
    },
    {
      name: 'no-circular',
      comment: 'no runtime import cycle (type-only cycles are erased; cross-layer ones are caught below)',
      severity: 'error',
      from: {},
      to: {
        circular: true,
        viaOnly: { dependencyTypesNot: TYPE_ONLY },
      },
    },
    {
      name: 'no-cross-layer-cycle',
      comment: 'no cycle (type-only included) that leaves the folder it starts in',
      severity: 'error',
      from: { path: `${SRC}([^/]+)/` },
      to: { circular: true, via: { pathNot: `${SRC}$1/` } },
    },
    {
      name: 'server-context-is-types',
      comment: 'src/context.ts (ServerContext) is the ports every layer handed it may import: types only, no code',
      severity: 'error',
      from: { path: `${SRC}context\\.ts$` },
      to: { path: SRC, dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'pure-core-no-io',
      // node:net is left to net-only-in-adapters, which allows limits/server-bans.ts its isIP/BlockList
      comment: 'protocol, state, commands, session and limits never do I/O themselves (util/ does it for them)',
      severity: 'error',
      from: { path: `${SRC}(protocol|state|commands|session|limits)/` },
      to: { dependencyTypes: ['core'], path: IO_CORE, pathNot: '^net$' },
    },
    {
      name: 'sqlite-only-in-storage',
      severity: 'error',
      from: { path: SRC, pathNot: `${SRC}storage/` },
      to: { path: 'node_modules/(@types/)?better-sqlite3/' },
    },
    {
      name: 'tls-only-in-transport',
      severity: 'error',
      // federation/: the TLS transport of server links (#14)
      from: { path: SRC, pathNot: `${SRC}(transport|federation)/` },
      to: { dependencyTypes: ['core'], path: '^tls$' },
    },
    {
      name: 'ws-only-in-transport-http',
      severity: 'error',
      from: { path: SRC, pathNot: `${SRC}(transport|http)/` },
      to: { path: 'node_modules/(@types/)?ws/' },
    },
    {
      name: 'fastify-only-in-http',
      severity: 'error',
      from: { path: SRC, pathNot: `${SRC}http/` },
      to: { path: 'node_modules/(@types/)?(fastify|@fastify/[^/]+)/' },
    },
    {
      name: 'net-only-in-adapters',
      comment: 'node:net from transport, http, identity (connect-time SSRF check) and the composition root',
      severity: 'error',
      from: {
        path: SRC,
        // not a layering exception: these use only isIP / BlockList (address parsing, no sockets)
        pathNot: `${SRC}((transport|http|identity)/|(server|main|cli)\\.ts$|config/load\\.ts$|limits/server-bans\\.ts$)`,
      },
      to: { dependencyTypes: ['core'], path: '^net$' },
    },
    {
      name: 'outbound-http-only-in-identity-http',
      comment: 'node:http / https / dns: the HTTP API and the guarded outbound client (identity/http.ts, ssrf.ts)',
      severity: 'error',
      from: { path: SRC, pathNot: `${SRC}(identity|http)/` },
      to: { dependencyTypes: ['core'], path: '^(http|https|http2|dns|dns/promises)$' },
    },
    {
      name: 'server-not-sdk',
      severity: 'error',
      from: { path: SRC },
      to: { path: '^sdk/' },
    },
    {
      name: 'sdk-standalone',
      comment: '@freeq/sdk is published on its own: nothing from server/',
      severity: 'error',
      from: { path: '^sdk/src/' },
      to: { path: '^server/' },
    },
    {
      name: 'no-dev-deps-in-src',
      comment: 'shipped code imports only `dependencies` of its own package.json',
      severity: 'error',
      from: { path: '^(server|sdk)/src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-undeclared-deps',
      severity: 'error',
      from: { path: '^(server|sdk)/src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import that cannot be resolved cannot be checked',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` edges are kept (and marked type-only) so the rules above see them
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
