import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// #16: a production install — the server package as `npm pack` makes it (with @freeq/protocol's),
// installed with `npm install --omit=dev` in a fresh directory, from npm's cache — has none of
// the test-only AT Protocol stack, imports nothing it does not depend on, prints --help and boots:
// /api/v1/health, the web client at / (packed into the package) and an IRC registration.
//
// The one native addon, better-sqlite3, is installed with --ignore-scripts and its binary copied
// from this checkout's build (same Node): compiling it again takes minutes. Everything else is
// what an operator's `npm install --omit=dev` gets. The packages are built from the sources first
// (`scripts/build.mjs --if-stale`: nothing when the build is current) and packed from a copy, so
// the repository's own tree is never touched by `npm pack`.

const ROOT = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'freeq-prod-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});
// no --conditions=source from the test runner: an installed package has no TypeScript sources
const env = { ...process.env, NODE_OPTIONS: '' };

const run = (cmd: string, args: string[], cwd: string): string => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, env });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
};

interface Pkg { name: string; version: string; bin: Record<string, string>; files: string[]; dependencies: Record<string, string>; devDependencies: Record<string, string> }
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const serverPkg = JSON.parse(read('server/package.json')) as Pkg;

/** the bare package names a built file imports (static, dynamic and re-exports) */
function importedPackages(js: string): string[] {
  const out = new Set<string>();
  const specs = [
    ...js.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm), // import … from '…', export … from '…'
    ...js.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm), // import '…'
    ...js.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g), // import('…')
  ].map((m) => m[1]!);
  for (const spec of specs) {
    if (spec.startsWith('.') || spec.startsWith('node:') || spec.startsWith('/')) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    if (!builtinModules.includes(name)) out.add(name);
  }
  return [...out];
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => join(e.parentPath, e.name));
}

test('npm pack of the server, installed with --omit=dev in a fresh directory, starts and serves', { timeout: 300_000 }, async () => {
  run(process.execPath, ['scripts/build.mjs', '--if-stale'], ROOT);

  // a copy of what npm pack reads (the package directories, web/dist for the server's prepack)
  const stage = join(tmp, 'stage');
  for (const p of ['server/package.json', 'server/bin', 'server/dist', 'protocol/package.json', 'protocol/README.md', 'protocol/dist', 'web/dist', 'scripts/pack-web-client.mjs']) {
    mkdirSync(resolve(stage, p, '..'), { recursive: true });
    cpSync(join(ROOT, p), join(stage, p), { recursive: true });
  }
  const packs = join(tmp, 'packs');
  mkdirSync(packs);
  run('npm', ['pack', '--pack-destination', packs], join(stage, 'protocol'));
  run('npm', ['pack', '--pack-destination', packs], join(stage, 'server'));
  assert.equal(existsSync(join(stage, 'server/web-client')), false, 'postpack removed the copy');
  const tgz = `freeq-server-${serverPkg.version}.tgz`;
  const listed = run('tar', ['-tzf', join(packs, tgz)], tmp).split('\n').filter(Boolean);
  for (const f of ['package/package.json', `package/${serverPkg.bin['freeq-server']}`, 'package/dist/main.js', 'package/web-client/index.html']) {
    assert.ok(listed.includes(f), `${f} packed`);
  }
  assert.deepEqual(listed.filter((f) => /^package\/(src|test)\//.test(f)), [], 'no sources or tests packed');

  // every package the built server imports is one of its dependencies (never a devDependency)
  const deps = new Set(Object.keys(serverPkg.dependencies));
  const seen = new Set<string>();
  for (const f of jsFiles(join(stage, 'server/dist'))) {
    for (const name of importedPackages(readFileSync(f, 'utf8'))) {
      seen.add(name);
      assert.ok(deps.has(name), `${f.slice(stage.length)} imports ${name}, not a dependency`);
    }
  }
  // the scan sees imports of each kind (static; dynamic: the OAuth client is loaded on first use)
  for (const name of ['better-sqlite3', 'fastify', '@freeq/protocol', '@atproto/oauth-client-node']) assert.ok(seen.has(name), `scan found ${name}`);

  // the project file the operator guide says to start from: the repository's overrides (so no
  // dependency that wants Node 22 is installed) and its allowScripts
  const deployPkg = JSON.parse(read('deploy/package.json')) as { overrides: unknown; allowScripts: Record<string, boolean> };
  const rootPkg = JSON.parse(read('package.json')) as { overrides: unknown; allowScripts: Record<string, boolean> };
  assert.deepEqual(deployPkg.overrides, rootPkg.overrides, 'deploy/package.json overrides = the repository\'s');
  for (const [k, v] of Object.entries(deployPkg.allowScripts)) assert.equal(rootPkg.allowScripts[k], v, k);
  const app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), read('deploy/package.json'));
  const installed = run('npm', ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund',
    `${packs}/freeq-protocol-0.1.0.tgz`, `${packs}/${tgz}`], app);
  assert.doesNotMatch(installed, /EBADENGINE|npm warn/, installed);
  for (const dev of Object.keys(serverPkg.devDependencies)) assert.equal(existsSync(join(app, 'node_modules', dev)), false, `devDependency ${dev} installed`);
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  mkdirSync(resolve(app, addon, '..'), { recursive: true });
  copyFileSync(join(ROOT, addon), join(app, addon));

  const help = run(process.execPath, ['node_modules/.bin/freeq-server', '--help'], app);
  assert.match(help, /^Usage: freeq-server \[options\] \[command\]/m);
  assert.match(help, /--listen-addr <value>/);

  const dataDir = join(tmp, 'data');
  const srv = spawn(process.execPath, ['node_modules/.bin/freeq-server', '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0', '--data-dir', dataDir,
    '--server-name', 'prod.test'], { cwd: app, env: Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('FREEQ_'))) });
  children.push(srv);
  let out = '';
  srv.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  srv.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const ports = await new Promise<{ irc: number; web: number }>((resolvePorts, reject) => {
    const check = (): void => {
      for (const line of out.split('\n')) {
        if (!line.includes('freeq listening')) continue;
        const j = JSON.parse(line) as { irc: { port: number }; web: { port: number } };
        resolvePorts({ irc: j.irc.port, web: j.web.port });
        return;
      }
    };
    srv.stdout.on('data', check);
    srv.once('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });

  const health = await fetch(`http://127.0.0.1:${ports.web}/api/v1/health`);
  assert.equal(health.status, 200, out);
  assert.equal(typeof (await health.json()), 'object');
  const page = await fetch(`http://127.0.0.1:${ports.web}/`);
  assert.equal(page.status, 200);
  assert.equal(await page.text(), readFileSync(join(ROOT, 'web/dist/index.html'), 'utf8'));

  // an IRC client registers (the database, the keys and the listeners all work)
  const welcome = await new Promise<string>((resolveLine, reject) => {
    const sock = connect(ports.irc, '127.0.0.1', () => sock.write('NICK prod\r\nUSER prod 0 * :Prod\r\n'));
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\r\n').find((l) => / 001 /.test(l));
      if (line) { sock.destroy(); resolveLine(line); }
    });
    sock.on('error', reject);
  });
  assert.match(welcome, /^:prod\.test 001 prod :Welcome/);

  const exited = new Promise<number | null>((r) => srv.once('exit', r));
  srv.kill('SIGTERM');
  assert.equal(await exited, 0, out);
  assert.ok(existsSync(join(dataDir, 'freeq.db')));
});
