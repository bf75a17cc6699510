#!/usr/bin/env node
// The build (`npm run build`, run by `npm ci` through "prepare"): @freeq/protocol, the server, the
// SDK and the web client, in that order. #16: `--if-stale` (what `npm start` runs) builds only
// the steps whose inputs changed since their last build, or whose output is missing: a content
// hash of each step's input files (and of the steps it builds on, and of package-lock.json) is
// kept in node_modules/.cache/freeq-build/stamps.json after every successful step. With nothing
// changed it costs a few tens of milliseconds instead of the whole build (~20 s). The TypeScript
// steps use tsc's incremental build (its .tsbuildinfo next to the stamps), so a small change
// rebuilds faster too.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = 'node_modules/.cache/freeq-build';

const tsc = (project, name) => ({
  cmd: process.execPath,
  args: [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project, '--incremental', '--tsBuildInfoFile', join(ROOT, CACHE, `${name}.tsbuildinfo`)],
  buildInfo: join(CACHE, `${name}.tsbuildinfo`),
});

/** the build steps, in order; `after`: steps whose inputs this one's output depends on */
export const STEPS = [
  { name: 'protocol', inputs: ['protocol/src', 'protocol/tsconfig.json', 'protocol/package.json'], output: 'protocol/dist/index.js', ...tsc('protocol/tsconfig.json', 'protocol') },
  { name: 'server', after: ['protocol'], inputs: ['server/src', 'server/tsconfig.json', 'server/tsconfig.build.json', 'server/package.json'], output: 'server/dist/main.js', ...tsc('server/tsconfig.build.json', 'server') },
  { name: 'sdk', after: ['protocol'], inputs: ['sdk/src', 'sdk/tsconfig.json', 'sdk/package.json'], output: 'sdk/dist/index.js', ...tsc('sdk/tsconfig.json', 'sdk') },
  { name: 'web', after: ['protocol', 'sdk'], inputs: ['web/src', 'web/index.html', 'web/vite.config.mjs', 'web/scripts', 'web/package.json'], output: 'web/dist/index.html', cmd: 'npm', args: ['run', 'build', '-w', 'web', '--silent'] },
];
/** inputs of every step: a dependency update can change any output */
const SHARED_INPUTS = ['package-lock.json'];

function files(root, path, out) {
  const abs = join(root, path);
  if (!existsSync(abs)) { out.push(`${path}\0missing`); return; }
  if (statSync(abs).isDirectory()) {
    for (const e of readdirSync(abs).sort()) files(root, join(path, e), out);
  } else {
    out.push(`${relative(root, abs)}\0${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
  }
}

/** the content hash of a step's inputs, the inputs of the steps it builds on, and the shared inputs */
export function fingerprint(root, steps, step) {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const paths = new Set(SHARED_INPUTS);
  const add = (s) => { for (const p of s.inputs) paths.add(p); for (const a of s.after ?? []) add(byName.get(a)); };
  add(step);
  const list = [];
  for (const p of [...paths].sort()) files(root, p, list);
  return createHash('sha256').update(list.join('\n')).digest('hex');
}

const stampsPath = (root) => join(root, CACHE, 'stamps.json');

export function readStamps(root) {
  try { return JSON.parse(readFileSync(stampsPath(root), 'utf8')); } catch { return {}; }
}

function writeStamps(root, stamps) {
  mkdirSync(dirname(stampsPath(root)), { recursive: true });
  writeFileSync(stampsPath(root), JSON.stringify(stamps, null, 2) + '\n');
}

/** the steps to build: those whose inputs changed since their stamp, or whose output is missing */
export function staleSteps(root, steps = STEPS) {
  const stamps = readStamps(root);
  return steps.filter((s) => !existsSync(join(root, s.output)) || stamps[s.name] !== fingerprint(root, steps, s));
}

/** build `names` (in step order), stamping each one that succeeds; returns false on the first failure */
export function build(root, steps, names, log = (line) => process.stderr.write(line + '\n')) {
  for (const s of steps.filter((x) => names.includes(x.name))) {
    // an incremental build trusts its .tsbuildinfo: without the output it must start over
    if (s.buildInfo && !existsSync(join(root, s.output))) rmSync(join(root, s.buildInfo), { force: true });
    const before = fingerprint(root, steps, s);
    const r = spawnSync(s.cmd, s.args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) { log(`build: ${s.name} failed`); return false; }
    writeStamps(root, { ...readStamps(root), [s.name]: before });
  }
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  const names = ifStale ? staleSteps(ROOT).map((s) => s.name) : STEPS.map((s) => s.name);
  if (ifStale && names.length > 0) process.stderr.write(`build: ${names.join(', ')} changed since the last build; building ${names.length === 1 ? 'it' : 'them'}\n`);
  if (!build(ROOT, STEPS, names)) process.exit(1);
}
