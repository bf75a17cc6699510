import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootServer, type TestServer } from '../harness/server.js';
import { RawClient } from '../harness/raw-client.js';
import { cleanEnv, MAIN, ROOT } from '../harness/child-server.js';

// #16: a server without motd-file says what it is and how to log in, instead of 422. MOTD:
// "If the MOTD can be found, one RPL_MOTDSTART numeric is returned, followed by one or more
// RPL_MOTD numeric, then one RPL_ENDOFMOTD numeric. If the MOTD does not exist or could not be
// found, the ERR_NOMOTD numeric is returned." (modern.ircdocs.horse#motd-message) — an operator
// who wants 422 points motd-file at an empty file.

async function motd(srv: TestServer, nick: string): Promise<string[]> {
  const c = await srv.client(nick);
  c.send('MOTD');
  const lines = await c.collectUntil(/ (376|422) /);
  c.destroy();
  return lines.map((l) => l.replace(/^:irc\.test \d+ \S+ :?/, ''));
}

describe('the default MOTD', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-welcome-'));
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>freeq</title>');
    writeFileSync(join(dir, 'empty.txt'), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('what the server is, how to log in with Bluesky, where the web client is', async () => {
    const srv = await bootServer({ 'web-client-dir': join(dir, 'web') });
    try {
      assert.deepEqual(await motd(srv, 'reader'), [
        '- irc.test Message of the day - ',
        '- Welcome to irc.test, a freeq server on the freeq network.',
        '- freeq is IRC with your Bluesky (AT Protocol) identity: log in, and your nick and your',
        '- channels are yours, on every client.',
        '- ',
        `- Web client: http://127.0.0.1:${srv.webPort}/`,
        '-   type your Bluesky handle and press "Log in with Bluesky" (or join as a guest).',
        '- ',
        '- From an IRC client: enable SASL and log in before registering.',
        '-   SASL PLAIN: your Bluesky handle (or DID) and an app password',
        '-   (bsky.app: Settings, Privacy and security, App passwords).',
        '-   SASL ATPROTO-CHALLENGE: for clients that sign in with your identity directly.',
        '- Without a login you are a guest (freeq/guest/...).',
        '- ',
        '- HELP lists the commands. This is the default message of the day: the',
        '- operator sets their own with motd-file.',
        'End of /MOTD command.',
      ]);
    } finally {
      await srv.stop();
    }
  });

  test('public-url names the web client; no web client and no SASL: neither is offered', async () => {
    const pub = await bootServer({ 'web-client-dir': join(dir, 'web'), 'public-url': 'https://chat.example.com' });
    try {
      assert.ok((await motd(pub, 'pubby')).includes('- Web client: https://chat.example.com/'));
    } finally {
      await pub.stop();
    }
    const bare = await bootServer({ 'web-client-dir': '', 'sasl-mechanisms': '' });
    try {
      const lines = await motd(bare, 'barey');
      assert.ok(!lines.some((l) => l.includes('Web client') || l.includes('SASL')), lines.join('\n'));
      assert.ok(lines.includes('- This server does not offer logins: everyone is a guest.'));
    } finally {
      await bare.stop();
    }
  });

  test('an empty motd-file gives 422, as a missing one does', async () => {
    const srv = await bootServer({ 'motd-file': join(dir, 'empty.txt') });
    try {
      assert.deepEqual(await motd(srv, 'nomotd'), ['MOTD File is missing']);
    } finally {
      await srv.stop();
    }
  });
});

/** main.ts as its own process with `args`; stdout and stderr collected */
function run(args: string[]): { proc: ChildProcess; out: () => string; stop: () => Promise<void> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0', '--web-client-dir', '', ...args],
    { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += String(d); });
  proc.stderr.on('data', (d) => { out += String(d); });
  return {
    proc, out: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitFor(cond: () => boolean, what: () => string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a human-friendly start (main.ts)', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'freeq-start-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('log-format pretty: a banner with the addresses to connect to, then human-readable log lines', async () => {
    const s = run(['--data-dir', join(dir, 'pretty'), '--log-format', 'pretty', '--server-name', 'irc.pretty']);
    try {
      await waitFor(() => s.out().includes('Ctrl-C stops the server'), s.out);
      const out = s.out();
      assert.match(out, /^ {2}freeq-\S+: irc\.pretty on the freeq network$/m);
      const irc = /^ {2}IRC +irc:\/\/127\.0\.0\.1:(\d+)$/m.exec(out);
      assert.ok(irc, out);
      assert.match(out, /^ {2}WebSocket +ws:\/\/127\.0\.0\.1:\d+\/irc$/m);
      // pino-pretty: time, level name, message; no JSON objects
      assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: freeq listening/m);
      assert.ok(!out.includes('"msg":'), out);
      // the banner's address is the server's
      const c = await RawClient.connect({ port: Number(irc[1]) });
      c.send('NICK banner', 'USER b 0 * :B');
      assert.match(await c.expect(' 001 '), /^:irc\.pretty 001 banner :Welcome to the freeq IRC Network banner!b@\S+$/);
      c.destroy();
    } finally {
      await s.stop();
    }
  });

  test('log-file: JSON lines appended there, not on stdout; SIGHUP reopens it (logrotate)', async () => {
    const file = join(dir, 'logs', 'freeq.log');
    const s = run(['--data-dir', join(dir, 'file'), '--log-file', file]);
    try {
      await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('"msg":"freeq listening"'), () => s.out());
      assert.equal(s.out(), '', 'nothing on stdout (not a terminal: no banner) or stderr');
      renameSync(file, `${file}.1`);
      s.proc.kill('SIGHUP');
      await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('REHASH: configuration reloaded'), () => s.out());
      assert.ok(!readFileSync(`${file}.1`, 'utf8').includes('REHASH'));
      const line = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; by?: string }).find((l) => l.msg === 'REHASH: configuration reloaded');
      assert.equal(line?.by, 'SIGHUP');
    } finally {
      await s.stop();
    }
  });
});
