import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { guestCloak } from '../harness/cloaks.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';

// hardening.md §1.2 (bad input), A4–A6 (deadlines), B1–B4 (lines), C4 (sendq), I1 (exceptions)

/** Like RawClient.waitClosed, but leaves no timer behind (a pending one keeps the test process alive). */
async function closed(c: RawClient, ms = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([c.closed, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('connection not closed in time')), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function join(c: RawClient, ch: string): Promise<void> {
  c.send(`JOIN ${ch}`);
  await c.expect('366');
}

describe('bad input (hardening §1.2)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('empty and blank lines are ignored', async () => {
    const c = await srv.client('lempty');
    c.sendRaw('\r\n\n   \r\n');
    const lines = await c.sync();
    assert.equal(lines.length, 1, lines.join(' | '));
  });

  test('body > 512: 417, command not executed, connection continues (irctest PING boundary)', async () => {
    const c = await srv.client('lbody');
    const r = await srv.client('lbodyr');
    await join(c, '#body'); await join(r, '#body');
    await r.sync();
    c.send(`PING ${'x'.repeat(505)}`);
    assert.equal(await c.expect('PONG'), `:irc.test PONG irc.test ${'x'.repeat(505)}`);
    c.send(`PING ${'x'.repeat(506)}`);
    assert.equal(await c.expect((l) => !l.includes(' PONG ')), ':irc.test 417 lbody :Input line was too long');
    const text = 'y'.repeat(512 - Buffer.byteLength('PRIVMSG #body :\r\n') + 1);
    c.send(`PRIVMSG #body :${text}`);
    assert.equal(await c.expect('417'), ':irc.test 417 lbody :Input line was too long');
    c.send('JOIN #body2');
    assert.equal(await c.expect('JOIN'), `:lbody!lbody@${guestCloak(srv)} JOIN #body2`);
    await r.sync();
    await r.expectNone('PRIVMSG', 50);
    // before registration the nick is *
    const u = await srv.connect();
    u.send(`PING ${'x'.repeat(506)}`);
    assert.equal(await u.expect('417'), ':irc.test 417 * :Input line was too long');
  });

  test('invalid UTF-8: FAIL INVALID_UTF8, not relayed, connection continues', async () => {
    const c = await srv.client('lutf');
    const r = await srv.client('lutfr');
    await join(c, '#u8'); await join(r, '#u8');
    await r.sync();
    c.sendRaw(Buffer.concat([Buffer.from('PRIVMSG #u8 :hi'), Buffer.from([0xaa]), Buffer.from('\r\n')]));
    assert.equal(await c.expect('FAIL'), ':irc.test FAIL PRIVMSG INVALID_UTF8 :Message rejected, your IRC software MUST use UTF-8');
    c.send('PRIVMSG #u8 :ok then');
    assert.equal(await r.expect('PRIVMSG'), `:lutf!lutf@${guestCloak(srv)} PRIVMSG #u8 :ok then`);
  });

  test('NUL or bare CR inside a line: ERROR :Received malformed line and close; nothing relayed', async () => {
    const r = await srv.client('lnulr');
    await join(r, '#nul');
    for (const [nick, bad] of [['lnul', 'PRIVMSG #nul :a\x00b'], ['lcr', 'PRIVMSG #nul :a\rQUIT :pwned']] as const) {
      const c = await srv.client(nick);
      await join(c, '#nul');
      c.sendRaw(`${bad}\r\n`);
      assert.equal(await c.expect('ERROR'), 'ERROR :Received malformed line');
      await closed(c);
      assert.equal(await r.expect('QUIT'), `:${nick}!${nick}@${guestCloak(srv)} QUIT :Received malformed line`);
    }
    await r.sync();
    await r.expectNone('PRIVMSG', 50);
  });

  test('line > readq: one 417, discarded, the connection continues; 1-byte writes alike', async () => {
    const c = await srv.client('lreadq');
    const r = await srv.client('lreadqr');
    await join(c, '#rq'); await join(r, '#rq');
    await r.sync();
    const big = `PRIVMSG #rq :${'z'.repeat(14000)}\r\n`;
    c.sendRaw(big);
    assert.equal(await c.expect('417'), ':irc.test 417 lreadq :Input line was too long');
    const after = await c.sync();
    assert.equal(after.length, 1, `one 417 only: ${after.join(' | ')}`);
    // the same payload trickled in small writes
    c.socket.setNoDelay(true);
    for (let i = 0; i < big.length; i += 700) {
      c.sendRaw(big.slice(i, i + 700));
      await sleep(1);
    }
    assert.equal(await c.expect('417'), ':irc.test 417 lreadq :Input line was too long');
    const after2 = await c.sync();
    assert.equal(after2.length, 1, `one 417 only: ${after2.join(' | ')}`);
    await r.sync();
    await r.expectNone('PRIVMSG', 50);
  });

  test('2 MiB without a line end: connection closed', async () => {
    const c = await srv.client('lflood');
    c.sendRaw(Buffer.alloc(2 * 1024 * 1024 + 10, 0x61));
    await closed(c, 5000);
    const other = await srv.client('lflood2');
    assert.ok(other.received.some((l) => l.includes(' 001 ')));
  });

  test('first line an HTTP request: 400 and close', async () => {
    const c = await srv.connect();
    c.sendRaw('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await c.expect('400'), ':irc.test 400 GET :This is not an HTTP server');
    await closed(c);
    const p = await srv.connect();
    p.sendRaw('POST /irc HTTP/1.0\r\n');
    assert.equal(await p.expect('400'), ':irc.test 400 POST :This is not an HTTP server');
    await closed(p);
  });

  test('more than max-registration-lines before registering: 400 and close', async () => {
    const c = await srv.connect();
    c.sendRaw('PING x\r\n'.repeat(1025));
    assert.equal(await c.expect('400'), ':irc.test 400 * :You have sent too many registration messages');
    assert.equal(c.received.filter((l) => l.includes(' PONG ')).length, 1024);
    assert.equal(await c.expect('ERROR'), 'ERROR :You have sent too many registration messages');
    await closed(c);
  });

  test('registration delivered one byte per write works', async () => {
    const c = await srv.connect();
    c.socket.setNoDelay(true);
    for (const ch of 'CAP LS 302\r\nNICK lbyte\r\nUSER lb 0 * :Byte By Byte\r\nCAP END\r\n') {
      c.sendRaw(ch);
      await sleep(0);
    }
    assert.equal(await c.expect('001'), `:irc.test 001 lbyte :Welcome to the freeq IRC Network lbyte!lb@${guestCloak(srv)}`);
  });
});

describe('deadlines (hardening A4, A6)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'registration-timeout': '1s', 'ping-interval': '1s', 'ping-timeout': '2s' }); });
  after(async () => { await srv.stop(); });

  test('registration timeout, ping timeout, and a client that answers PING stays', async () => {
    const unreg = await srv.connect();
    unreg.send('NICK slowpoke');
    const idle = await srv.client('lidle');
    const live = await srv.client('llive');
    const t0 = Date.now();
    let stop = false;
    const answering = (async () => {
      while (!stop) {
        const ping = await live.expect('PING', 4000).catch(() => undefined);
        if (ping) live.send(`PONG ${ping.split(' ').at(-1)}`);
      }
    })();

    assert.equal(await unreg.expect('ERROR', 3000), 'ERROR :Registration timed out');
    await closed(unreg);
    assert.equal(await idle.expect('PING', 3000), 'PING irc.test');
    assert.equal(await idle.expect('ERROR', 3000), 'ERROR :Ping timeout: 2 seconds');
    await closed(idle);
    assert.ok(Date.now() - t0 >= 1900, 'not before the timeout');
    await sleep(1000);
    stop = true;
    await answering;
    assert.ok(!live.ended, 'the client answering PINGs is still connected');
    assert.ok(live.received.filter((l) => l === 'PING irc.test').length >= 2, 'it was pinged repeatedly');
    live.skip();
    const lines = await live.sync();
    assert.ok(lines.at(-1)!.includes('PONG'));
  });
});

describe('sendq (hardening C4)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ sendq: '64k' }); });
  after(async () => { await srv.stop(); });

  test('a member that never reads is dropped with SendQ exceeded; the flooder and others are fine', async () => {
    const flooder = await srv.client('sflood');
    const slow = await srv.client('sslow');
    const other = await srv.client('sother');
    for (const c of [flooder, slow, other]) await join(c, '#sq');
    await flooder.sync(); await other.sync();
    slow.socket.pause();
    // Flood in bursts of ~45 KB, each confirmed by a PONG: the flooder is as fast as the server
    // lets it be, while a member that reads keeps up (the test client shares this event loop).
    // Up to ~18 MB in all: far beyond what loopback kernel buffers hold for the paused member.
    const burst = `PRIVMSG #sq :${'w'.repeat(440)}\r\n`.repeat(100);
    const quit = `:sslow!sslow@${guestCloak(srv)} QUIT :SendQ exceeded`;
    let sent = 0;
    while (!other.received.includes(quit) && sent < 40000) {
      flooder.sendRaw(burst);
      sent += 100;
      const pong = await flooder.sync();
      assert.ok(pong.at(-1)!.includes('PONG'), 'the flooder still gets PONG');
    }
    assert.equal(await other.expect('QUIT', 5000), quit);
    // the reading member got everything and is still here
    const rest = await other.sync();
    assert.ok(rest.at(-1)!.includes('PONG'));
    assert.equal(other.received.filter((l) => l.includes(' PRIVMSG #sq ')).length, sent);
    assert.ok(!other.ended && !flooder.ended);
    assert.equal(srv.server.context.world.findUser('sslow'), undefined);
    slow.socket.resume();
    await closed(slow, 10000);
  });
});

describe('handler exceptions (hardening I1)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('a throwing handler closes only that client', async () => {
    const victim = await srv.client('ivictim');
    const peer = await srv.client('ipeer');
    await join(victim, '#i1'); await join(peer, '#i1');
    await peer.sync();
    // make one lookup fail the way a bug would; no test-only code in the server
    const world = srv.server.context.world;
    const orig = world.findChannel.bind(world);
    world.findChannel = (name: string) => { if (name === '#boom') throw new Error('boom'); return orig(name); };
    try {
      victim.send('PRIVMSG #boom :hello there');
      assert.equal(await victim.expect('ERROR'), 'ERROR :Internal error');
      await closed(victim);
    } finally {
      world.findChannel = orig;
    }
    assert.equal(await peer.expect('QUIT'), `:ivictim!ivictim@${guestCloak(srv)} QUIT :Internal error`);
    const lines = await peer.sync();
    assert.ok(lines.at(-1)!.includes('PONG'));
  });

  test('a reply that cannot be serialized closes only that client (no process crash)', async () => {
    const victim = await srv.client('iser');
    const peer = await srv.client('iserp');
    // a nick no valid input can produce: any numeric to this client is an invalid line
    srv.server.context.world.findUser('iser')!.nick = 'bad nick';
    victim.send('FROBNICATE');
    assert.equal(await victim.expect('ERROR'), 'ERROR :Internal error');
    await closed(victim);
    const lines = await peer.sync();
    assert.ok(lines.at(-1)!.includes('PONG'));
  });
});
