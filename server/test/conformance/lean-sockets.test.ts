// Plain TCP on bare libuv handles (transport/lean-tcp.ts, option lean-sockets, default on) and on
// net.Socket (lean-sockets = false): the same behaviour over real sockets either way. The rest of
// the suite runs on the default (lean); these cases stress what differs between the two layers:
// output the kernel cannot take at once, a peer that resets with output queued, closing, and the
// admission ticket's release.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { leanBinding } from '../../src/transport/lean-tcp.js';

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const stop = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > stop) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('this Node offers the bindings the lean path needs', () => {
  assert.notEqual(leanBinding(), null);
});

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
