import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { OPTIONS, envName } from '../../src/config/options.js';
import { bootServer } from '../harness/server.js';

// #16: the shipping files — Dockerfile, .dockerignore and deploy/freeq.service — checked against
// the repository they ship: the files they copy exist (or are built by scripts/build.mjs), the
// command they start is the package's bin, every FREEQ_* variable they set is an option and
// loads, the ports they expose are the ones they configure, the health check really answers.
// Docker cannot run here; systemd-analyze verifies the unit where it is installed.

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const serverPkg = JSON.parse(read('server/package.json')) as { bin: Record<string, string> };
const BIN = `server/${serverPkg.bin['freeq-server']!.replace(/^\.\//, '')}`;
const ENV_NAMES = new Set([...OPTIONS.map(envName), 'FREEQ_CONFIG']);

interface Instruction { op: string; args: string; line: number }

/** Dockerfile instructions, continuation lines joined, comments dropped */
function dockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    if (buf === '' && (raw.trim() === '' || raw.trimStart().startsWith('#'))) return;
    if (buf === '') start = i + 1;
    buf += (buf ? ' ' : '') + raw.trim();
    if (buf.endsWith('\\')) { buf = buf.slice(0, -1).trim(); return; }
    const m = /^(\w+)\s+([\s\S]*)$/.exec(buf)!;
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: start });
    buf = '';
  });
  return out;
}

/** KEY=value pairs of an ENV instruction (the `ENV a=1 b=2` form) */
const envPairs = (args: string): Array<[string, string]> => [...args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]);

/** .dockerignore as Docker reads it: a pattern excludes a path or any directory above it */
function dockerIgnored(patterns: string[], path: string): boolean {
  // `**/` any directories (or none), `*` and `?` within one path element
  const res = patterns.map((p) => new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').split('**/').map((part) => part.replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')).join('(?:.*/)?') + '$'));
  const parts = path.split('/');
  return parts.some((_, i) => res.some((r) => r.test(parts.slice(0, i + 1).join('/'))));
}

describe('Dockerfile', () => {
  const ins = dockerfile(read('Dockerfile'));
  const ignore = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = ins.filter((i) => i.op === 'FROM').map((i) => /\bAS\s+(\S+)/i.exec(i.args)?.[1]);
  const finalStart = ins.findLastIndex((i) => i.op === 'FROM');
  const final = ins.slice(finalStart);
  const env = new Map(final.filter((i) => i.op === 'ENV').flatMap((i) => envPairs(i.args)));

  test('multi-stage: build with npm ci and npm run build, production dependencies with npm ci --omit=dev', () => {
    assert.deepEqual(stages, ['build', 'deps', undefined]);
    const runs = (stage: string): string => {
      const from = ins.findIndex((i) => i.op === 'FROM' && i.args.endsWith(`AS ${stage}`));
      const to = ins.findIndex((i, n) => n > from && i.op === 'FROM');
      return ins.slice(from, to).filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
    };
    assert.match(runs('build'), /npm ci\b[^&]*&& npm run build$/);
    assert.match(runs('deps'), /npm ci --omit=dev\b/);
    assert.doesNotMatch(runs('deps'), /npm (ci|install)(?![^&]*--omit=dev)/, 'every install in deps omits devDependencies');
    assert.deepEqual(final.filter((i) => i.op === 'RUN').filter((i) => /\bnpm\b/.test(i.args)), [], 'no npm in the runtime stage');
  });

  test('what it copies exists: sources in the context (not .dockerignored), outputs of the build stage built by scripts/build.mjs', async () => {
    const script = '../../../scripts/build.mjs';
    const { STEPS } = await import(script) as { STEPS: Array<{ output: string }> };
    const outputs = STEPS.map((s) => s.output.split('/').slice(0, 2).join('/'));
    for (const i of ins.filter((x) => x.op === 'COPY')) {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice(7);
      const srcs = words.filter((w) => !w.startsWith('--')).slice(0, -1);
      for (const src of srcs) {
        if (from === undefined) {
          assert.ok(existsSync(join(ROOT, src)), `line ${i.line}: ${src} exists`);
          if (src !== '.') assert.equal(dockerIgnored(ignore, src), false, `line ${i.line}: ${src} is in the context`);
        } else {
          assert.ok(stages.includes(from), `line ${i.line}: stage ${from}`);
          if (from !== 'build') continue;
          const rel = src.replace(/^\/src\//, '');
          assert.ok(existsSync(join(ROOT, rel)) && !dockerIgnored(ignore, rel) || outputs.includes(rel), `line ${i.line}: ${rel} is a source or a build output`);
        }
      }
    }
  });

  test('.dockerignore keeps dependencies, build outputs, data and secrets out of the context', () => {
    for (const p of ['node_modules/fastify/package.json', 'server/node_modules/x', 'server/dist/main.js', 'web/dist/index.html', 'data/freeq.db',
      'data/db-encryption-key.secret', 'iroh-key.secret', 'server/web-client/index.html', '.git/HEAD', 'coverage/lcov.info', 'tls/privkey.pem']) {
      assert.ok(dockerIgnored(ignore, p), `${p} ignored`);
    }
    for (const p of ['server/src/main.ts', 'package-lock.json', 'web/src/app.tsx', 'scripts/build.mjs', 'server/bin/freeq-server.js']) {
      assert.equal(dockerIgnored(ignore, p), false, `${p} kept`);
    }
  });

  test('runs the package\'s bin as a non-root user, with its options from FREEQ_* variables that load', () => {
    const entry = final.find((i) => i.op === 'ENTRYPOINT')!;
    assert.deepEqual(JSON.parse(entry.args), ['node', BIN]);
    const user = final.find((i) => i.op === 'USER')!.args;
    assert.ok(!['root', '0'].includes(user), user);
    assert.ok(final.some((i) => i.op === 'RUN' && new RegExp(`useradd\\b.*\\b${user}$|useradd\\b.*\\b${user}\\s`).test(i.args)), 'the user is created');
    const freeq = [...env].filter(([k]) => k.startsWith('FREEQ_'));
    for (const [k] of freeq) assert.ok(ENV_NAMES.has(k), `${k} is an option`);
    const cfg = loadConfig({ env: Object.fromEntries(freeq) });
    // the data dir is the volume; the ports exposed are the listeners'
    assert.deepEqual(JSON.parse(final.find((i) => i.op === 'VOLUME')!.args), [cfg.dataDir]);
    const exposed = final.find((i) => i.op === 'EXPOSE')!.args.split(/\s+/).map(Number);
    assert.deepEqual(exposed, [cfg.listenAddr.port, cfg.tlsListenAddr.port, cfg.webAddr.port]);
    for (const a of [cfg.listenAddr, cfg.tlsListenAddr, cfg.webAddr]) assert.equal(a.host, '0.0.0.0', 'reachable from outside the container');
  });

  test('the HEALTHCHECK command succeeds against a running server and fails without one', async () => {
    const hc = final.find((i) => i.op === 'HEALTHCHECK')!.args;
    const cmd = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
    assert.equal(cmd[0], 'node');
    // asynchronously: the server answering runs in this process
    const check = (webAddr: string): Promise<number | null> => new Promise((done) => {
      spawn(process.execPath, cmd.slice(1), { env: { ...process.env, FREEQ_WEB_ADDR: webAddr }, stdio: 'ignore' }).once('exit', done);
    });
    const srv = await bootServer();
    try {
      assert.equal(await check(`0.0.0.0:${srv.webPort}`), 0);
    } finally {
      await srv.stop();
    }
    assert.equal(await check(`0.0.0.0:${srv.webPort}`), 1, 'nothing listens any more');
  });
});

describe('deploy/freeq.service', () => {
  const text = read('deploy/freeq.service');
  const unit = new Map<string, Map<string, string[]>>();
  let section = '';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const s = /^\[(\w+)\]$/.exec(t);
    if (s) { section = s[1]!; unit.set(section, new Map()); continue; }
    const eq = t.indexOf('=');
    const k = t.slice(0, eq);
    const m = unit.get(section)!;
    m.set(k, [...(m.get(k) ?? []), t.slice(eq + 1)]);
  }
  const svc = unit.get('Service')!;
  const one = (k: string): string | undefined => svc.get(k)?.at(-1);

  test('a dedicated user, its state directory as the data dir, and the package\'s bin', () => {
    assert.ok(one('User') && one('User') !== 'root');
    assert.equal(one('StateDirectory'), 'freeq');
    assert.equal(one('StateDirectoryMode'), '0700');
    const envs = new Map((svc.get('Environment') ?? []).map((e) => e.split('=', 2) as [string, string]));
    for (const k of envs.keys()) if (k.startsWith('FREEQ_')) assert.ok(ENV_NAMES.has(k), `${k} is an option`);
    assert.equal(envs.get('FREEQ_DATA_DIR'), '/var/lib/freeq');
    assert.equal(one('WorkingDirectory'), '/var/lib/freeq');
    assert.match(one('ExecStart')!, new RegExp(`^/usr/bin/node /opt/freeq/node_modules/freeq-${BIN.replace(/\./g, '\\.')}$`));
    assert.equal(loadConfig({ env: { FREEQ_DATA_DIR: envs.get('FREEQ_DATA_DIR') } }).dataDir, '/var/lib/freeq');
  });

  test('hardened, restarted on failure but not on a configuration error, reloaded with SIGHUP', () => {
    for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['PrivateDevices', 'yes'],
      ['RestrictSUIDSGID', 'yes'], ['CapabilityBoundingSet', ''], ['Restart', 'on-failure'], ['RestartPreventExitStatus', '2'], ['UMask', '0077']]) {
      assert.equal(one(k!), v, k);
    }
    assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.notEqual(one('MemoryDenyWriteExecute'), 'yes', "V8's JIT needs W+X memory");
    // exit code 2 is what main.ts exits with on a configuration error
    assert.match(read('server/src/main.ts'), /ConfigError\) \{\s*process\.stderr\.write\([^)]*\);\s*process\.exit\(2\);/);
    assert.deepEqual(unit.get('Install')?.get('WantedBy'), ['multi-user.target']);
  });

  test('systemd-analyze verify accepts it (where systemd is installed)', (t) => {
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (which.status !== 0) { t.skip('systemd-analyze not installed'); return; }
    const dir = mkdtempSync(join(tmpdir(), 'freeq-unit-'));
    try {
      // this machine's node instead of /usr/bin/node (verify checks that the program exists)
      const path = join(dir, 'freeq.service');
      writeFileSync(path, text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
      const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal((r.stdout + r.stderr).trim(), '', 'no warnings');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
