// Plain TCP on bare libuv handles (transport/lean-tcp.ts, option lean-sockets, default on) and on
// net.Socket (lean-sockets = false): the same behaviour over real sockets either way. The rest of
// the suite runs on the default (lean); these cases stress what differs between the two layers:
// output the kernel cannot take at once, a peer that resets with output queued, closing, the
// admission ticket's release, the listener's connection count and close(), and stop(). The lean
// path's guard rails: its self-test at listen time, and the fallback to net.Socket (with a
// warning) when the self-test fails or when --throw-deprecation would turn process.binding's
// pending deprecation (DEP0111) into a crash; those run the real server as a child process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { bootServer, type TestServer } from '../harness/server.js';
import { RawClient } from '../harness/raw-client.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/limits/clock.js';
import { Admission } from '../../src/transport/admission.js';
import type { ConnHandler, IrcConn } from '../../src/transport/conn.js';
import { leanCheck } from '../../src/transport/lean-tcp.js';
import { createTcpListener, listen } from '../../src/transport/listeners.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MAIN = join(ROOT, 'server/src/main.ts');

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const stop = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > stop) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('on this Node the lean path passes its self-test (loopback: read, write, shutdown, EOF, reset, count, close)', async () => {
  assert.equal(await leanCheck(), undefined);
});

/**
 * Run the real server as main does, in its own process with `nodeFlags`, until it listens; then
 * register one client over plain TCP, stop it with SIGTERM, and return what it logged and its exit code.
 */
async function runChild(nodeFlags: string[]): Promise<{ out: string; code: number | null; welcome: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-lean-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FREEQ_') && k !== 'NODE_OPTIONS'));
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', MAIN, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0',
    '--data-dir', dir, '--log-level', 'info', '--server-name', 'irc.test'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += String(d); });
  child.stderr.on('data', (d) => { out += String(d); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const port = await new Promise<number>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 30_000);
      const check = (): void => {
        const m = /"irc":\{[^}]*"port":(\d+)/.exec(out);
        if (m && /"msg":"freeq listening"/.test(out)) { clearTimeout(t); child.stdout.off('data', check); res(Number(m[1])); }
      };
      child.stdout.on('data', check);
      void exited.then((code) => { clearTimeout(t); rej(new Error(`server exited (${code}):\n${out}`)); });
    });
    // a turn for a DEP0111 thrown on the next tick (the crash this guards against) to show
    await new Promise((r) => setTimeout(r, 200));
    const c = await RawClient.connect({ port });
    c.send('NICK lean'); c.send('USER lean 0 * :lean');
    const welcome = await c.expect(/ 001 /, 5000);
    c.send('QUIT');
    await c.waitClosed();
    child.kill('SIGTERM');
    return { out, code: await exited, welcome };
  } finally {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('lean-sockets falls back to net.Socket, with a warning, where the lean path must not or cannot be used', () => {
  test('under --throw-deprecation --pending-deprecation the server starts on net.Socket instead of crashing on DEP0111', async () => {
    const { out, code, welcome } = await runChild(['--throw-deprecation', '--pending-deprecation']);
    assert.match(welcome, /^:irc\.test 001 lean /);
    assert.match(out, /"tcpSockets":"net"/);
    assert.match(out, /"level":40,[^\n]*"reason":"process\.binding is deprecated \(DEP0111\) and --throw-deprecation is set","msg":"lean-sockets: [^"]*net\.Socket"/);
    assert.doesNotMatch(out, /DEP0111\] DeprecationWarning|uncaught exception/);
    assert.equal(code, 0);
  });

  test('when the self-test fails (here: a binding whose shutdown request is broken) the server starts on net.Socket', async () => {
    // a preload that breaks one part of the internal binding before the server loads
    const breakShutdown = 'const b = process.binding.bind(process); process.binding = (n) => { const m = b(n); '
      + "return n === 'stream_wrap' ? { ...m, ShutdownWrap: function () { throw new Error('broken ShutdownWrap'); } } : m; };";
    const { out, code, welcome } = await runChild(['--import', `data:text/javascript,${encodeURIComponent(breakShutdown)}`]);
    assert.match(welcome, /^:irc\.test 001 lean /);
    assert.match(out, /"tcpSockets":"net"/);
    assert.match(out, /"level":40,[^\n]*"reason":"self-test failed: broken ShutdownWrap","msg":"lean-sockets: /);
    assert.equal(code, 0);
  });
});

/** a ConnHandler that ignores what it gets (the listener tests only count connections) */
const quiet: ConnHandler = { connLine() {}, connOverflow() {}, connClosed() {}, connDrained() {} };

for (const lean of [true, false]) {
  describe(`plain TCP with lean-sockets = ${lean}`, () => {
    let srv: TestServer;
    before(async () => { srv = await bootServer({ 'lean-sockets': lean, sendq: '64M' }); });
    after(async () => { await srv.stop(); });

    test(`the listener reports ${lean ? 'lean' : 'net'}`, () => {
      assert.equal(srv.server.tcpSockets, lean ? 'lean' : 'net');
    });

    test('a member that stops reading gets 16 MB of backlog complete and in order once it reads again', async () => {
      const a = await srv.client('talker');
      const b = await srv.client('sleeper');
      for (const c of [a, b]) { c.send('JOIN #big'); await c.expect(/ 366 /); }
      await a.sync(); await b.sync();
      b.socket.pause();
      // 40,000 × ~420 bytes: far more than loopback's kernel buffers hold, so the server's own
      // queue (libuv's, or the stream's) carries the rest until the member reads again
      const N = 40000;
      const pad = 'x'.repeat(380);
      for (let i = 0; i < N; i += 500) {
        let burst = '';
        for (let j = i; j < i + 500; j++) burst += `PRIVMSG #big :${j} ${pad}\r\n`;
        a.sendRaw(burst);
        await a.sync();
      }
      b.socket.resume();
      const lines = await b.collectUntil(new RegExp(` PRIVMSG #big :${N - 1} `), 30000);
      const seq = lines.filter((l) => l.includes(' PRIVMSG #big :')).map((l) => Number(/ PRIVMSG #big :(\d+) /.exec(l)![1]));
      assert.equal(seq.length, N);
      assert.ok(seq.every((n, i) => n === i), 'every message once, in order');
      await b.sync();
      a.send('QUIT'); b.send('QUIT');
      await a.waitClosed(); await b.waitClosed();
    });

    test('a member that resets its connection with megabytes queued: its QUIT reaches the channel, nothing else is affected', async () => {
      const a = await srv.client('rtalker');
      const b = await srv.client('rsleeper');
      const w = await srv.client('rwatcher');
      for (const c of [a, b, w]) { c.send('JOIN #rst'); await c.expect(/ 366 /); }
      await a.sync(); await b.sync(); await w.sync();
      b.socket.pause();
      const burst = `PRIVMSG #rst :${'y'.repeat(400)}\r\n`.repeat(500);
      for (let i = 0; i < 30; i++) { a.sendRaw(burst); await a.sync(); }
      b.socket.resetAndDestroy();
      await w.expect(/^:rsleeper!\S+ QUIT /, 5000);
      a.send('PRIVMSG #rst :still here');
      await w.expect(/PRIVMSG #rst :still here$/, 5000);
      a.send('QUIT'); w.send('QUIT');
      await a.waitClosed(); await w.waitClosed();
    });

    test('QUIT: the ERROR line arrives, then EOF; admission counts the connection only while it is open', async () => {
      await until(() => srv.server.admission.open === 0);
      const clients: RawClient[] = [];
      for (let i = 0; i < 5; i++) clients.push(await srv.client(`q${i}`));
      assert.equal(srv.server.admission.open, 5);
      for (const c of clients) c.send('QUIT :done');
      for (const c of clients) {
        assert.match(await c.expect('ERROR'), /^ERROR :Closing link: q\d \(Quit: done\)$/);
        await c.waitClosed();
      }
      await until(() => srv.server.admission.open === 0);
    });

    test("the listener counts its clients (getConnections) and its close() waits for them", async () => {
      const config = loadConfig({ env: {}, cli: {} });
      const admission = new Admission({ config, clock: systemClock, lockdown: () => 'off', limitHit: () => {}, log: pino({ level: 'silent' }) });
      const conns: IrcConn[] = [];
      const tcp = createTcpListener({ readq: 512, admission, leanSockets: lean, accept: (conn) => { conns.push(conn); conn.start(quiet); } });
      await listen(tcp, { host: '127.0.0.1', port: 0 });
      assert.equal(tcp.socketLayer, lean ? 'lean' : 'net');
      const { port } = tcp.address() as net.AddressInfo;
      const count = (): Promise<number> => new Promise((res, rej) => tcp.getConnections((e, n) => (e ? rej(e) : res(n))));
      const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect({ port })));
      await until(() => conns.length === 3);
      assert.equal(await count(), 3);
      clients[0]!.destroy();
      await until(() => admission.open === 2);
      assert.equal(await count(), 2);
      let closed = false;
      tcp.close(() => { closed = true; });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(closed, false, "no 'close' while clients are connected");
      clients[1]!.destroy();
      conns[2]!.close(); // the server's side closes this one: FIN, and the client's FIN back
      await clients[2]!.waitClosed();
      await until(() => closed);
      assert.equal(await count(), 0);
      assert.equal(admission.open, 0);
    });

    test('stop() returns once its clients are closed: a client that reads late still gets the closing ERROR and EOF first', async () => {
      const own = await bootServer({ 'lean-sockets': lean });
      try {
        const c = await own.client('late');
        c.socket.pause();
        let endedAt = 0;
        c.socket.once('end', () => { endedAt = Date.now(); });
        const started = Date.now();
        const stopped = own.server.stop('bye').then(() => Date.now());
        await new Promise((r) => setTimeout(r, 300));
        const resumedAt = Date.now();
        c.socket.resume();
        const stoppedAt = await stopped;
        assert.ok(stoppedAt >= resumedAt, `stop() returned ${stoppedAt - started} ms after it was called, before the client read (${resumedAt - started} ms)`);
        assert.ok(endedAt > 0 && endedAt <= stoppedAt, 'the client had its EOF before stop() returned');
        assert.equal(await c.expect('ERROR'), 'ERROR bye');
        await c.waitClosed();
      } finally {
        await own.stop();
      }
    });

    test('a client that closes without a word is gone from the server at once', async () => {
      const w = await srv.client('owatcher');
      const c = await srv.client('oleaver');
      for (const x of [w, c]) { x.send('JOIN #bye'); await x.expect(/ 366 /); }
      await w.sync();
      c.socket.end();
      await w.expect(/^:oleaver!\S+ QUIT /, 3000);
      w.send('QUIT');
      await w.waitClosed();
    });
  });
}
