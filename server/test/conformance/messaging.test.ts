import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

// PRIVMSG / NOTICE (modern.ircdocs.horse#privmsg-message, hardening.md §1.2 and B2)

async function join(c: RawClient, ch: string): Promise<void> {
  c.send(`JOIN ${ch}`);
  await c.expect('366');
}

describe('PRIVMSG and NOTICE', () => {
  let srv: TestServer;
  let G: string;
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('delivery to a channel (not back to the sender) and to a nick', async () => {
    const a = await srv.client('ma');
    const b = await srv.client('mb');
    await join(a, '#m'); await join(b, '#m');
    await a.sync();
    a.send('PRIVMSG #m :hello there', 'NOTICE mb :psst you');
    assert.equal(await b.expect('PRIVMSG'), `:ma!ma@${G} PRIVMSG #m :hello there`);
    assert.equal(await b.expect('NOTICE'), `:ma!ma@${G} NOTICE mb :psst you`);
    const own = await a.sync();
    assert.equal(own.length, 1, `sender gets nothing back: ${own.join(' | ')}`);
    // several targets in one command, duplicates once; channel names are case-insensitive
    a.send('PRIVMSG mb,#M,MB,#m :to all');
    assert.equal(await b.expect('PRIVMSG'), `:ma!ma@${G} PRIVMSG mb :to all`);
    assert.equal(await b.expect('PRIVMSG'), `:ma!ma@${G} PRIVMSG #M :to all`);
    await b.sync();
    await b.expectNone('PRIVMSG', 50);
  });

  test('411, 412, 401, 403', async () => {
    const c = await srv.client('merr');
    c.send('PRIVMSG');
    assert.equal(await c.expect('411'), ':irc.test 411 merr :No recipient given (PRIVMSG)');
    c.send('PRIVMSG ,');
    assert.equal(await c.expect('411'), ':irc.test 411 merr :No recipient given (PRIVMSG)');
    c.send('PRIVMSG merr');
    assert.equal(await c.expect('412'), ':irc.test 412 merr :No text to send');
    c.send('PRIVMSG merr :');
    assert.equal(await c.expect('412'), ':irc.test 412 merr :No text to send');
    c.send('PRIVMSG nobody :hello there');
    assert.equal(await c.expect('401'), ':irc.test 401 merr nobody :No such nick/channel');
    c.send('PRIVMSG #nowhere :hello there');
    assert.equal(await c.expect('403'), ':irc.test 403 merr #nowhere :No such channel');
    // one bad target does not stop the others
    const r = await srv.client('mr');
    c.send('PRIVMSG nobody,mr :still sent');
    assert.equal(await c.expect('401'), ':irc.test 401 merr nobody :No such nick/channel');
    assert.equal(await r.expect('PRIVMSG'), `:merr!merr@${G} PRIVMSG mr :still sent`);
  });

  test('404: +n outsider, +m unvoiced, banned; voice lets +m and banned members speak', async () => {
    const op = await srv.client('mop');
    const mem = await srv.client('mmem');
    const out = await srv.client('mout');
    await join(op, '#mod'); await join(mem, '#mod');
    await op.sync();
    out.send('PRIVMSG #mod :from outside');
    assert.equal(await out.expect('404'), ':irc.test 404 mout #mod :Cannot send to channel (no external messages)');
    op.send('MODE #mod -n');
    await mem.expect('MODE');
    out.send('PRIVMSG #mod :from outside');
    assert.equal(await mem.expect('PRIVMSG'), `:mout!mout@${G} PRIVMSG #mod :from outside`);

    op.send('MODE #mod +m');
    await mem.expect('MODE');
    mem.send('PRIVMSG #mod :can I talk');
    assert.equal(await mem.expect('404'), ':irc.test 404 mmem #mod :Cannot send to channel (+m)');
    out.send('PRIVMSG #mod :from outside');
    assert.equal(await out.expect('404'), ':irc.test 404 mout #mod :Cannot send to channel (+m)');
    op.send('PRIVMSG #mod :ops may');
    assert.equal(await mem.expect((l) => l.includes('ops may')), `:mop!mop@${G} PRIVMSG #mod :ops may`);
    op.send('MODE #mod +v mmem');
    await mem.expect('MODE');
    mem.send('PRIVMSG #mod :voiced now');
    assert.equal(await op.expect((l) => l.includes('voiced now')), `:mmem!mmem@${G} PRIVMSG #mod :voiced now`);

    op.send('MODE #mod -m+b mmem!*@*');
    await mem.expect('MODE');
    mem.send('PRIVMSG #mod :banned but voiced');
    assert.equal(await op.expect((l) => l.includes('banned but voiced')), `:mmem!mmem@${G} PRIVMSG #mod :banned but voiced`);
    op.send('MODE #mod -v mmem');
    await mem.expect('MODE');
    mem.send('PRIVMSG #mod :banned');
    assert.equal(await mem.expect('404'), ':irc.test 404 mmem #mod :Cannot send to channel (you are banned)');
    await op.sync();
    await op.expectNone('PRIVMSG', 50);
  });

  test('407 over max-targets; nobody receives anything', async () => {
    const s = await srv.client('mtg');
    const r = await srv.client('mtr');
    s.send('PRIVMSG mtr,a1,a2,a3,a4 :too many');
    assert.equal(await s.expect('407'), ':irc.test 407 mtg a4 :Too many targets. Maximum is 4');
    s.send('NOTICE mtr,a1,a2,a3,a4 :too many');
    const lines = await s.sync();
    assert.equal(lines.length, 1, 'NOTICE: no 407');
    await r.sync();
    await r.expectNone((l, m) => m.command === 'PRIVMSG' || m.command === 'NOTICE', 50);
  });

  test('STATUSMSG: @#chan reaches ops only, +#chan voiced and ops', async () => {
    const op = await srv.client('sop');
    const v = await srv.client('svo');
    const p = await srv.client('spl');
    await join(op, '#st'); await join(v, '#st'); await join(p, '#st');
    op.send('MODE #st +v svo');
    await v.expect('MODE'); await p.expect('MODE');
    p.send('PRIVMSG @#st :to the ops', 'NOTICE +#st :to voiced');
    assert.equal(await op.expect('PRIVMSG'), `:spl!spl@${G} PRIVMSG @#st :to the ops`);
    assert.equal(await op.expect('NOTICE'), `:spl!spl@${G} NOTICE +#st :to voiced`);
    assert.equal(await v.expect('NOTICE'), `:spl!spl@${G} NOTICE +#st :to voiced`);
    await v.sync();
    await v.expectNone('PRIVMSG', 50);
    p.send('PRIVMSG @#nochan :x y');
    assert.equal(await p.expect('403'), ':irc.test 403 spl @#nochan :No such channel');
  });

  test('NOTICE never produces an error reply', async () => {
    const n = await srv.client('mnot');
    const op = await srv.client('mnop');
    await join(op, '#nn');
    op.send('MODE #nn +m');
    await op.expect('MODE');
    n.send('NOTICE', 'NOTICE nobody', 'NOTICE nobody :hello there', 'NOTICE #none :hello there', 'NOTICE #nn :outside', 'NOTICE a,b,c,d,e :x y');
    const lines = await n.sync();
    assert.equal(lines.length, 1, `only the PONG: ${lines.join(' | ')}`);
    await op.sync();
    await op.expectNone('NOTICE', 50);
  });

  test('301 on PRIVMSG to an away user (not on NOTICE); the message is still delivered', async () => {
    const s = await srv.client('maw');
    const away = await srv.client('mawt');
    away.send('AWAY :out to lunch');
    await away.expect('306');
    s.send('PRIVMSG mawt :are you there');
    assert.equal(await s.expect('301'), ':irc.test 301 maw mawt :out to lunch');
    assert.equal(await away.expect('PRIVMSG'), `:maw!maw@${G} PRIVMSG mawt :are you there`);
    s.send('NOTICE mawt :fyi only');
    const lines = await s.sync();
    assert.equal(lines.length, 1);
  });

  test('B2: text that fits 512 from the client but not once prefixed → 417, peer gets nothing', async () => {
    const s = await srv.client('mlong');
    const r = await srv.client('mlongr');
    await join(s, '#long'); await join(r, '#long');
    await r.sync();
    const room = 512 - Buffer.byteLength('PRIVMSG #long :\r\n');
    s.send(`PRIVMSG #long :${'x'.repeat(room)}`); // exactly 512 bytes from the client
    assert.equal(await s.expect('417'), ':irc.test 417 mlong :Line too long to be relayed without truncation');
    // the largest text that fits once relayed goes through intact: without a space the text is
    // relayed without ':' (#16: a relayed line of exactly 512 bytes was refused)
    const fits = 512 - Buffer.byteLength(`:mlong!mlong@${G} PRIVMSG #long \r\n`);
    s.send(`PRIVMSG #long :${'y'.repeat(fits + 1)}`);
    await s.expect('417');
    s.send(`PRIVMSG #long :${'y'.repeat(fits)}`);
    assert.equal(await r.expect('PRIVMSG'), `:mlong!mlong@${G} PRIVMSG #long ${'y'.repeat(fits)}`);
    await r.sync();
    await r.expectNone(/x{100}|y{100}/, 50);
    s.send(`NOTICE #long :${'x'.repeat(room)}`);
    const lines = await s.sync();
    assert.equal(lines.length, 1, 'NOTICE: no 417');
  });
});
