import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootServer, type TestServer } from '../harness/server.js';
import { sleep } from './history-helpers.js';

// #12 finding 3 (hardening.md C4): replies to a client's own commands count against its sendq.
// Above the soft mark (half the sendq) its replies wait and its input is not read until it
// drains; a client whose waiting replies do not move for sendq-stall-timeout is closed with
// "SendQ exceeded". Before, command replies were written without limit and never paused reading.

const MOTD_LINES = 400;

async function metric(srv: TestServer, pattern: RegExp): Promise<number> {
  const text = await srv.server.context.metrics.text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('sendq covers a client\'s own replies (#12, C4)', () => {
  let dir: string;
  let motd: string;
  let srv: TestServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-motd-'));
    motd = join(dir, 'motd.txt');
    // ~130 kB of MOTD: one MOTD command is more than half the default 200 kB sendq
    writeFileSync(motd, Array.from({ length: MOTD_LINES }, (_v, i) => `line ${i} `.padEnd(300, '.')).join('\n'));
    srv = await bootServer({ 'motd-file': motd, 'sendq-stall-timeout': '1s' });
  });
  after(async () => {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a client that stops reading stops being read; when it reads again every reply arrives, in order', async () => {
    const holdsBefore = await metric(srv, /freeq_limit_hits_total\{kind="sendq-hold"\} (\d+)/);
    const slow = await srv.client('slow');
    await slow.expect(/ 376 slow /, 5000); // the registration MOTD
    slow.skip();
    slow.socket.pause();
    // 40 MOTDs (~5 MB) and a marker, none of it read for now
    for (let i = 0; i < 40; i++) slow.send('MOTD');
    slow.send('PING :end');
    await sleep(300);
    // the server held this client's replies and stopped reading it …
    assert.ok(await metric(srv, /freeq_limit_hits_total\{kind="sendq-hold"\} (\d+)/) > holdsBefore);
    // … and serves everyone else meanwhile
    const other = await srv.client('other', { localAddress: '127.0.0.2' });
    other.send('PING :alive');
    await other.expect('PONG', 2000);
    // reading again (well within the stall timeout): nothing lost, nothing reordered
    slow.socket.resume();
    const lines = await slow.collectUntil(/PONG irc\.test :?end$/, 20000);
    const motdEnds = lines.filter((l) => / 376 slow /.test(l)).length;
    assert.equal(motdEnds, 40);
    const bodies = lines.filter((l) => / 372 slow /.test(l));
    assert.equal(bodies.length, 40 * MOTD_LINES);
    for (let i = 0; i < bodies.length; i++) assert.ok(bodies[i]!.includes(`:- line ${i % MOTD_LINES} `), `line ${i}: ${bodies[i]}`);
    assert.ok(!lines.some((l) => l.startsWith('ERROR')));
  });

  test('a client that never reads is disconnected with "SendQ exceeded" once its replies stall', async () => {
    const dropsBefore = await metric(srv, /freeq_sendq_drops_total (\d+)/);
    const mute = await srv.client('mute', { localAddress: '127.0.0.3' });
    mute.socket.pause();
    // ~26 MB of replies asked for: far more than the kernel's socket buffers hold
    for (let i = 0; i < 200; i++) mute.send('MOTD');
    const watcher = await srv.client('watcher', { localAddress: '127.0.0.4' });
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      await sleep(100);
      watcher.send('WHOIS mute');
      const reply = await watcher.expect(/ (311|401) watcher /, 2000);
      gone = / 401 watcher mute /.test(reply);
    }
    assert.ok(gone, 'the client that never reads is still connected');
    assert.equal(await metric(srv, /freeq_sendq_drops_total (\d+)/), dropsBefore + 1);
    mute.destroy();
  });

  test('past sendq-hold-max, a client that reads still gets all of a large reply', async () => {
    const s2 = await bootServer({ 'motd-file': motd, 'sendq': '64k', 'sendq-hold-max': '64k' });
    try {
      const c = await s2.client('reader');
      await c.expect(/ 376 reader /, 5000);
      c.skip();
      // one MOTD is ~130 kB: half of it waits for this client, more than sendq-hold-max
      c.send('MOTD', 'PING :done');
      const lines = await c.collectUntil(/PONG irc\.test :?done$/, 10000);
      assert.equal(lines.filter((l) => / 372 reader /.test(l)).length, MOTD_LINES);
      assert.ok(!lines.some((l) => l.startsWith('ERROR')));
    } finally {
      await s2.stop();
    }
  });

  test('past sendq-hold-max, a client that does not read is let go after a tenth of the stall timeout', async () => {
    const s2 = await bootServer({ 'motd-file': motd, 'sendq-stall-timeout': '60s', 'sendq-hold-max': '64k' });
    try {
      const dropsBefore = await metric(s2, /freeq_sendq_drops_total (\d+)/);
      const mute = await s2.client('hoarder', { localAddress: '127.0.0.5' });
      mute.socket.pause();
      for (let i = 0; i < 200; i++) mute.send('MOTD');
      const watcher = await s2.client('watcher2', { localAddress: '127.0.0.6' });
      let gone = false;
      // 6 s (a tenth of the 60 s stall timeout): only the hold cap can have closed it this early
      for (let i = 0; i < 120 && !gone; i++) {
        await sleep(100);
        watcher.send('WHOIS hoarder');
        gone = / 401 watcher2 hoarder /.test(await watcher.expect(/ (311|401) watcher2 /, 2000));
      }
      assert.ok(gone, 'the client holding more than sendq-hold-max is still connected');
      assert.equal(await metric(s2, /freeq_sendq_drops_total (\d+)/), dropsBefore + 1);
      mute.destroy();
    } finally {
      await s2.stop();
    }
  });
});
