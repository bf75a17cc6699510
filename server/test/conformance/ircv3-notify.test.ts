import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

// multi-prefix, userhost-in-names, chghost, invite-notify, away-notify, setname

function body(line: string): string {
  return line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line;
}

async function joined(c: RawClient, ch: string): Promise<string[]> {
  c.send(`JOIN ${ch}`);
  return c.collectUntil('366');
}

describe('ircv3 multi-prefix and userhost-in-names', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('op+voice shows @+ with multi-prefix, the full mask with userhost-in-names, @ otherwise', async () => {
    const op = await srv.client('mpop');
    await joined(op, '#mp');
    op.send('MODE #mp +v mpop');
    await op.expect('MODE');
    const cases: Array<[string, string[], string]> = [
      ['mpa', [], '@mpop mpa'],
      ['mpb', ['multi-prefix'], '@+mpop mpb'],
      ['mpc', ['userhost-in-names'], `@mpop!mpop@${G} mpc!mpc@${G}`],
      ['mpd', ['multi-prefix', 'userhost-in-names'], `@+mpop!mpop@${G} mpd!mpd@${G}`],
    ];
    for (const [nick, caps, names] of cases) {
      const c = await srv.client(nick, { caps });
      const lines = await joined(c, '#mp');
      assert.equal(lines.find((l) => l.includes(' 353 ')), `:irc.test 353 ${nick} = #mp :${names}`, `JOIN names for ${caps.join('+') || 'no caps'}`);
      c.send('PART #mp');
      await c.expect('PART');
    }
    // the NAMES command uses the same rules
    const n = await srv.client('mpn', { caps: ['multi-prefix'] });
    n.send('NAMES #mp');
    assert.equal(await n.expect('353'), ':irc.test 353 mpn = #mp @+mpop');
    assert.equal(await n.expect('366'), ':irc.test 366 mpn #mp :End of /NAMES list');
  });
});

describe('ircv3 chghost', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('cap clients see CHGHOST; others see QUIT + JOIN (+ MODE for prefixes)', async () => {
    const u = await srv.client('chu', { caps: ['chghost'] });
    const withCap = await srv.client('chp1', { caps: ['chghost'] });
    const without = await srv.client('chp2');
    const ext = await srv.client('chp3', { caps: ['extended-join'] });
    await joined(u, '#chg');
    for (const x of [withCap, without, ext]) await joined(x, '#chg');
    for (const x of [u, withCap, without, ext]) await x.sync();
    const user = srv.server.context.world.findUser('chu')!;
    srv.server.context.ops.setHost(user, 'newuser', 'new/host');
    assert.equal(await u.expect('CHGHOST'), `:chu!chu@${G} CHGHOST newuser new/host`);
    assert.equal(await withCap.expect('CHGHOST'), `:chu!chu@${G} CHGHOST newuser new/host`);
    assert.deepEqual(await without.collectUntil('MODE'), [
      `:chu!chu@${G} QUIT :Changing host`,
      ':chu!newuser@new/host JOIN #chg',
      ':irc.test MODE #chg +o chu',
    ]);
    assert.deepEqual(await ext.collectUntil('MODE'), [
      `:chu!chu@${G} QUIT :Changing host`,
      ':chu!newuser@new/host JOIN #chg * :chu Real',
      ':irc.test MODE #chg +o chu',
    ]);
    for (const x of [withCap, u]) { await x.sync(); await x.expectNone((l, m) => m.command === 'QUIT' || m.command === 'JOIN', 50); }
    // later messages use the new mask
    u.send('PRIVMSG #chg :hello there');
    assert.equal(await without.expect('PRIVMSG'), ':chu!newuser@new/host PRIVMSG #chg :hello there');
  });

  test('an away user changing host: away-notify clients without chghost get AWAY after the JOIN', async () => {
    const u = await srv.client('cha');
    const an = await srv.client('chan1', { caps: ['away-notify'] });
    await joined(u, '#chga'); await joined(an, '#chga');
    u.send('AWAY :brb soon');
    await an.expect('AWAY');
    await an.sync();
    srv.server.context.ops.setHost(srv.server.context.world.findUser('cha')!, 'cha', 'away/host');
    assert.deepEqual(await an.collectUntil('AWAY'), [
      `:cha!cha@${G} QUIT :Changing host`,
      ':cha!cha@away/host JOIN #chga',
      ':irc.test MODE #chga +o cha',
      ':cha!cha@away/host AWAY :brb soon',
    ]);
  });
});

describe('ircv3 invite-notify', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('target gets INVITE; channel operators with invite-notify see it; others do not', async () => {
    const a = await srv.client('inva');
    const op2 = await srv.client('invop', { caps: ['invite-notify'] });
    const member = await srv.client('invm', { caps: ['invite-notify'] });
    const opNoCap = await srv.client('invo2');
    const target = await srv.client('invt');
    await joined(a, '#inv');
    for (const x of [op2, member, opNoCap]) await joined(x, '#inv');
    a.send('MODE #inv +oo invop invo2');
    for (const x of [a, op2, member, opNoCap]) await x.expect('MODE');
    a.send('INVITE invt #inv');
    assert.equal(await a.expect('341'), ':irc.test 341 inva invt #inv');
    assert.equal(await target.expect('INVITE'), `:inva!inva@${G} INVITE invt #inv`);
    assert.equal(await op2.expect('INVITE'), `:inva!inva@${G} INVITE invt #inv`);
    for (const x of [a, member, opNoCap]) { await x.sync(); await x.expectNone('INVITE', 50); }
  });
});

describe('ircv3 away-notify and setname', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('AWAY and SETNAME reach cap clients only', async () => {
    const a = await srv.client('awa', { caps: ['setname'] });
    const w = await srv.client('aww', { caps: ['away-notify', 'setname'] });
    const p = await srv.client('awp');
    for (const x of [a, w, p]) await joined(x, '#aw');
    a.send('AWAY :gone fishing');
    assert.equal(body(await w.expect('AWAY')), `:awa!awa@${G} AWAY :gone fishing`);
    a.send('AWAY');
    assert.equal(body(await w.expect('AWAY')), `:awa!awa@${G} AWAY`);
    a.send('SETNAME :New Name');
    assert.equal(body(await w.expect('SETNAME')), `:awa!awa@${G} SETNAME :New Name`);
    assert.equal(body(await a.expect('SETNAME')), `:awa!awa@${G} SETNAME :New Name`);
    await p.sync();
    await p.expectNone((l, m) => m.command === 'AWAY' || m.command === 'SETNAME', 50);
  });
});
