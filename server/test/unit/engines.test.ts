import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// #16: `npm ci` on Node 20 prints no EBADENGINE warning: no package the lockfile installs on this
// platform declares an engines.node range that leaves out a Node version we support (the root
// package.json's engines). content-disposition 3 and cookie 2 (Node >= 22), pulled by
// @fastify/static and light-my-request, are pinned by `overrides` to 2.0.1 and 1.1.1.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const semver = createRequire(import.meta.url)('semver') as { satisfies(version: string, range: string): boolean; minVersion(range: string): { version: string } | null };

interface LockEntry { version?: string; engines?: { node?: string }; os?: string[]; cpu?: string[]; dev?: boolean }
const rootPkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { engines: { node: string }; overrides: Record<string, Record<string, string>> };
const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, 'utf8')) as { packages: Record<string, LockEntry> };

/** the lowest version of each supported major (`^20.19.0 || ^22.23.5` → 20.19.0, 22.23.5) */
const SUPPORTED = rootPkg.engines.node.split('||').map((r) => semver.minVersion(r.trim())!.version);

/** lock entries installed on this platform whose engines.node excludes a supported Node */
function unsupported(packages: Record<string, LockEntry>): string[] {
  const out: string[] = [];
  for (const [path, p] of Object.entries(packages)) {
    const range = p.engines?.node;
    if (!path || !range) continue;
    if (p.os && !p.os.includes(process.platform)) continue;
    if (p.cpu && !p.cpu.includes(process.arch)) continue;
    for (const v of SUPPORTED) if (!semver.satisfies(v, range)) out.push(`${path}@${p.version} wants node ${range}, not ${v}`);
  }
  return out;
}

test('every package npm installs here supports every Node version we support (no EBADENGINE)', () => {
  assert.deepEqual(SUPPORTED, ['20.19.0', '22.23.5']);
  assert.deepEqual(unsupported(lock.packages), []);
  // the check itself finds such a package
  assert.deepEqual(unsupported({ 'node_modules/x': { version: '3.1.0', engines: { node: '>=22' } } }), ['node_modules/x@3.1.0 wants node >=22, not 20.19.0']);
});

test('the overrides are what the lockfile installs', () => {
  for (const [parent, pins] of Object.entries(rootPkg.overrides)) {
    for (const [dep, version] of Object.entries(pins)) {
      const entry = lock.packages[`node_modules/${parent}/node_modules/${dep}`] ?? lock.packages[`node_modules/${dep}`];
      assert.equal(entry?.version, version, `${parent} → ${dep}`);
      // what Node resolves from the parent: its own node_modules first, then the hoisted copy
      const nested = `${ROOT}node_modules/${parent}/node_modules/${dep}/package.json`;
      const installed = JSON.parse(readFileSync(existsSync(nested) ? nested : `${ROOT}node_modules/${dep}/package.json`, 'utf8')) as { version: string };
      assert.equal(installed.version, version, `${parent} loads ${dep}@${version}`);
    }
  }
});
