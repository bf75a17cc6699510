import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bootServer, type TestServer } from '../harness/server.js';

// #15: the SDK as a user gets it — `npm pack` of @freeq/protocol and @freeq/sdk, installed in a
// fresh project (the rest from the registry, cache first), and its 20-line example bot
// (sdk/examples/echo-bot.mjs) run from there against a real server.

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'freeq-sdk-pack-'));
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (cmd: string, args: string[], cwd: string): string => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

test('npm pack, install in a fresh project, and the example bot answers !echo on a real server', { timeout: 180_000 }, async () => {
  // the packages' dist, from their sources now (what `npm ci` builds in a fresh clone); only when
  // stale, so a current dist is never rewritten under the production-install test that copies it
  run(process.execPath, ['scripts/build.mjs', '--if-stale'], ROOT);
  run('npm', ['pack', '--workspace', 'protocol', '--workspace', 'sdk', '--pack-destination', dir], ROOT);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh', version: '1.0.0', private: true, type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', './freeq-protocol-0.1.0.tgz', './freeq-sdk-0.1.0.tgz'], dir);

  const srv = await bootServer();
  servers.push(srv);
  const bot = spawn(process.execPath, ['node_modules/@freeq/sdk/examples/echo-bot.mjs', `irc://127.0.0.1:${srv.port}`, '#bots'], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '';
  bot.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  bot.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    for (let i = 0; i < 500 && !out.includes('joined #bots'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /registered as echobot[\s\S]*joined #bots/);
    const me = await srv.client('human');
    me.send('JOIN #bots');
    await me.expect(/ 366 human #bots /);
    me.send('PRIVMSG #bots :!echo hello from a fresh project');
    await me.expect(/^:echobot!\S+ PRIVMSG #bots :hello from a fresh project$/);
  } finally {
    bot.kill('SIGINT');
  }
});
