import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

/** a registered client that joined `chan` (consumes up to 366) */
/** a string as a RegExp source that matches it literally */
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function joined(srv: TestServer, nick: string, chan: string): Promise<RawClient> {
  const c = await srv.client(nick);
  c.send(`JOIN ${chan}`);
  await c.expect('366');
  return c;
}

describe('MODE: user modes', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('query own modes: 221, none set yet', async () => {
    const c = await srv.client('umq');
    c.send('MODE umq');
    assert.equal(await c.expect('221'), ':irc.test 221 umq +');
  });

  test('+iwB-x applies the known letters, echoes them and answers 501 once', async () => {
    const c = await srv.client('umset');
    c.send('MODE umset +iwB-xz');
    assert.equal(await c.expect('MODE'), ':umset MODE umset +iwB');
    assert.equal(await c.expect('501'), ':irc.test 501 umset :Unknown MODE flag');
    const rest = await c.sync();
    assert.equal(rest.filter((l) => parse(l).command === '501').length, 0, 'only one 501');
    c.send('MODE UMSET'); // nick is matched case-insensitively
    assert.equal(await c.expect('221'), ':irc.test 221 umset +iwB');
    c.send('MODE umset -w+i');
    assert.equal(await c.expect('MODE'), ':umset MODE umset -w');
    c.send('MODE umset');
    assert.equal(await c.expect('221'), ':irc.test 221 umset +iB');
  });

  test('setting a mode already set is silent', async () => {
    const c = await srv.client('umnoop');
    c.send('MODE umnoop +i');
    await c.expect('MODE');
    c.send('MODE umnoop +i');
    await c.expectNone('MODE', 200);
  });

  test('+o cannot be set with MODE (only OPER grants it)', async () => {
    const c = await srv.client('umoper');
    c.send('MODE umoper +o');
    await c.expectNone((_, m) => m.command === 'MODE' || m.command === '501', 200);
    c.send('MODE umoper');
    assert.equal(await c.expect('221'), ':irc.test 221 umoper +');
  });

  test('other users: 502 for viewing and changing; 401 for nobody', async () => {
    const a = await srv.client('umown');
    await srv.client('umother');
    a.send('MODE umother');
    assert.equal(await a.expect('502'), ":irc.test 502 umown :Can't view modes for other users");
    a.send('MODE umother +i');
    assert.equal(await a.expect('502'), ":irc.test 502 umown :Can't change mode for other users");
    a.send('MODE nobodyhere +i');
    assert.equal(await a.expect('401'), ':irc.test 401 umown nobodyhere :No such nick/channel');
  });

  test('MODE without parameters: 461', async () => {
    const c = await srv.client('umbare');
    c.send('MODE');
    assert.equal(await c.expect('461'), ':irc.test 461 umbare MODE :Not enough parameters');
  });
});

describe('MODE: oper and bot modes', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'oper-password': 'op-secret' }); });
  after(async () => { await srv.stop(); });

  test('+o comes from OPER; the user may drop it with -o, and +o does not come back', async () => {
    const c = await srv.client('umop');
    c.send('OPER umop op-secret');
    assert.equal(await c.expect('MODE'), ':umop MODE umop +o');
    c.send('MODE umop');
    assert.equal(await c.expect('221'), ':irc.test 221 umop +o');
    c.send('MODE umop -o');
    assert.equal(await c.expect('MODE'), ':umop MODE umop -o');
    c.send('MODE umop +o');
    await c.expectNone('MODE', 150);
    c.send('MODE umop');
    assert.equal(await c.expect('221'), ':irc.test 221 umop +');
  });

  test('+B marks messages from the user with the bot tag (IRCv3 bot-mode)', async () => {
    const bot = await joined(srv, 'robot', '#bots');
    const human = await srv.client('human', { caps: ['message-tags'] });
    human.send('JOIN #bots');
    await human.expect('366');
    bot.send('PRIVMSG #bots :before');
    const plain = parse(await human.expect('PRIVMSG'));
    assert.equal(plain.tags.has('bot'), false);
    bot.send('MODE robot +B', 'PRIVMSG #bots :after');
    assert.equal(await bot.expect('MODE'), ':robot MODE robot +B');
    const tagged = parse(await human.expect('PRIVMSG'));
    assert.equal(tagged.params[1], 'after');
    assert.equal(tagged.tags.get('bot'), '');
  });
});

describe('MODE: channel modes', () => {
  let srv: TestServer;
  let G: string;
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('query: 324 defaults and 329 creation time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const a = await joined(srv, 'cq', '#cq');
    a.send('MODE #CQ');
    assert.equal(await a.expect('324'), ':irc.test 324 cq #cq +nt');
    const m = parse(await a.expect('329'));
    assert.deepEqual(m.params.slice(0, 2), ['cq', '#cq']);
    const ts = Number(m.params[2]);
    assert.ok(ts >= before && ts <= Math.floor(Date.now() / 1000), `creation time ${ts}`);
  });

  test('nonexistent channel: 403', async () => {
    const a = await srv.client('cnone');
    a.send('MODE #nowhere');
    assert.equal(await a.expect('403'), ':irc.test 403 cnone #nowhere :No such channel');
    a.send('MODE #nowhere +i');
    assert.equal(await a.expect('403'), ':irc.test 403 cnone #nowhere :No such channel');
  });

  test('+k/+l: key shown to members only, limit to everyone; broadcast to members', async () => {
    const a = await joined(srv, 'kop', '#kl');
    const b = await joined(srv, 'kmem', '#kl');
    const out = await srv.client('kout');
    a.send('MODE #kl +kl secret 5');
    assert.equal(await a.expect('MODE'), `:kop!kop@${G} MODE #kl +kl secret 5`);
    assert.equal(await b.expect('MODE'), `:kop!kop@${G} MODE #kl +kl secret 5`);
    b.send('MODE #kl');
    assert.equal(await b.expect('324'), ':irc.test 324 kmem #kl +ntkl secret 5');
    out.send('MODE #kl');
    assert.equal(await out.expect('324'), ':irc.test 324 kout #kl +ntkl * 5');
    await out.expect('329');
    // -k takes the key some clients send, and is broadcast with '*'
    a.send('MODE #kl -kl secret');
    assert.equal(await b.expect('MODE'), `:kop!kop@${G} MODE #kl -kl *`);
    b.send('MODE #kl');
    assert.equal(await b.expect('324'), ':irc.test 324 kmem #kl +nt');
  });

  test('flags i m n p s t, several per line, no-ops dropped', async () => {
    const a = await joined(srv, 'flop', '#flags');
    a.send('MODE #flags +imsp-n+t');
    assert.equal(await a.expect('MODE'), `:flop!flop@${G} MODE #flags +imsp-n`);
    a.send('MODE #flags');
    // +s and +p coexist (as on Ergo / InspIRCd / Charybdis)
    assert.equal(await a.expect('324'), ':irc.test 324 flop #flags +impst');
    a.send('MODE #flags -imps+n');
    assert.equal(await a.expect('MODE'), `:flop!flop@${G} MODE #flags -imps+n`);
  });

  test('+o/+v on members; 441 for non-members, 401 for unknown nicks; the rest still applies', async () => {
    const a = await joined(srv, 'ovop', '#ov');
    const b = await joined(srv, 'ovmem', '#ov');
    await srv.client('ovout');
    a.send('MODE #ov +ov-o+v ovmem ovmem ovmem nobody');
    assert.equal(await b.expect('MODE'), `:ovop!ovop@${G} MODE #ov +ov-o ovmem ovmem ovmem`);
    assert.equal(await a.expect('401'), ':irc.test 401 ovop nobody :No such nick/channel');
    a.send('MODE #ov +vm ovout');
    assert.equal(await a.expect('441'), ":irc.test 441 ovop ovout #ov :They aren't on that channel");
    assert.equal(await a.expect('MODE'), `:ovop!ovop@${G} MODE #ov +m`);
    // a nick parameter with a space is echoed safely, never breaking the line
    a.send('MODE #ov +o :no body');
    assert.equal(await a.expect('401'), ':irc.test 401 ovop * :No such nick/channel');
    b.send('NAMES #ov');
    assert.equal(await b.expect('353'), ':irc.test 353 ovmem = #ov :@ovop +ovmem');
  });

  test('non-ops get 482 for changes but may list; non-members too', async () => {
    const a = await joined(srv, 'npop', '#np');
    const b = await joined(srv, 'npmem', '#np');
    const out = await srv.client('npout');
    b.send('MODE #np +m');
    assert.equal(await b.expect('482'), ":irc.test 482 npmem #np :You're not channel operator");
    out.send('MODE #np -t');
    assert.equal(await out.expect('482'), ":irc.test 482 npout #np :You're not channel operator");
    b.send('MODE #np b');
    assert.equal(await b.expect('368'), ':irc.test 368 npmem #np :End of channel ban list');
    out.send('MODE #np +b');
    assert.equal(await out.expect('368'), ':irc.test 368 npout #np :End of channel ban list');
    await a.expectNone('MODE', 100);
    a.send('MODE #np');
    assert.equal(await a.expect('324'), ':irc.test 324 npop #np +nt');
  });

  test('unknown letters: one 472 each, the known ones still apply', async () => {
    const a = await joined(srv, 'unkop', '#unk');
    a.send('MODE #unk +XiY-Xm');
    assert.equal(await a.expect('472'), ':irc.test 472 unkop X :is unknown mode char to me');
    assert.equal(await a.expect('472'), ':irc.test 472 unkop Y :is unknown mode char to me');
    assert.equal(await a.expect('MODE'), `:unkop!unkop@${G} MODE #unk +i`);
    const rest = await a.sync();
    assert.equal(rest.filter((l) => parse(l).command === '472').length, 0);
  });

  test('missing and invalid parameters: 696 / 525, the rest of the line applies', async () => {
    const a = await joined(srv, 'parop', '#par');
    a.send('MODE #par +mk');
    assert.equal(await a.expect('696'), ':irc.test 696 parop #par k * :You must specify a parameter for the key mode');
    assert.equal(await a.expect('MODE'), `:parop!parop@${G} MODE #par +m`);
    a.send('MODE #par +l');
    assert.equal(await a.expect('696'), ':irc.test 696 parop #par l * :You must specify a parameter for the limit mode');
    a.send('MODE #par +l many');
    assert.equal(await a.expect('696'), ':irc.test 696 parop #par l many :Invalid limit: must be a positive integer');
    a.send('MODE #par +l :1 2');
    assert.equal(await a.expect('696'), ':irc.test 696 parop #par l * :Invalid limit: must be a positive integer');
    a.send('MODE #par +k a,b');
    assert.equal(await a.expect('525'), ':irc.test 525 parop #par :Key is not well-formed');
    a.send('MODE #par +b :a b');
    assert.equal(await a.expect('696'), ':irc.test 696 parop #par b * :Invalid mask');
    a.send('MODE #par');
    assert.equal(await a.expect('324'), ':irc.test 324 parop #par +mnt');
  });

  test('ban, exception and invite lists: add, list with setter and time, remove', async () => {
    const a = await joined(srv, 'lsop', '#lists');
    const t0 = Math.floor(Date.now() / 1000);
    a.send('MODE #lists +beI bad evil@* *!*@friend.example');
    assert.equal(await a.expect('MODE'), `:lsop!lsop@${G} MODE #lists +beI bad!*@* *!evil@* *!*@friend.example`);
    // adding again is a no-op
    a.send('MODE #lists +b bad!*@*');
    await a.expectNone('MODE', 150);
    a.send('MODE #lists b');
    const ban = parse(await a.expect('367'));
    assert.deepEqual(ban.params.slice(0, 4), ['lsop', '#lists', 'bad!*@*', `lsop!lsop@${G}`]);
    assert.ok(Math.abs(Number(ban.params[4]) - t0) <= 2, `set time ${ban.params[4]}`);
    assert.equal(await a.expect('368'), ':irc.test 368 lsop #lists :End of channel ban list');
    a.send('MODE #lists e');
    assert.match(await a.expect('348'), new RegExp(`^:irc\\.test 348 lsop #lists \\*!evil@\\* lsop!lsop@${esc(G)} \\d+$`));
    assert.equal(await a.expect('349'), ':irc.test 349 lsop #lists :End of channel exception list');
    a.send('MODE #lists +I');
    assert.match(await a.expect('346'), new RegExp(`^:irc\\.test 346 lsop #lists \\*!\\*@friend\\.example lsop!lsop@${esc(G)} \\d+$`));
    assert.equal(await a.expect('347'), ':irc.test 347 lsop #lists :End of channel invite list');
    a.send('MODE #lists -b BAD');
    assert.equal(await a.expect('MODE'), `:lsop!lsop@${G} MODE #lists -b bad!*@*`);
    a.send('MODE #lists b');
    const lines = await a.collectUntil('368');
    assert.deepEqual(lines, [':irc.test 368 lsop #lists :End of channel ban list']);
  });

  test('bans are enforced on JOIN, exceptions override them', async () => {
    const a = await joined(srv, 'enfop', '#enf');
    const b = await srv.client('enfbad');
    a.send('MODE #enf +b enfbad');
    await a.expect('MODE');
    b.send('JOIN #enf');
    assert.equal(await b.expect('474'), ':irc.test 474 enfbad #enf :Cannot join channel (+b)');
    a.send('MODE #enf +e enfbad!*@*');
    await a.expect('MODE');
    b.send('JOIN #enf');
    assert.equal(await b.expect('JOIN'), `:enfbad!enfbad@${G} JOIN #enf`);
  });

  test('100 entries per list, the 101st gets 478 (C8)', async () => {
    const a = await joined(srv, 'fullop', '#full');
    for (let i = 0; i < 100; i += 20) {
      const masks = Array.from({ length: 20 }, (_, j) => `m${i + j}!*@*`);
      a.send(`MODE #full +${'b'.repeat(20)} ${masks.join(' ')}`);
      const m = parse(await a.expect('MODE'));
      assert.equal(m.params.length, 22, 'one MODE line with 20 bans');
    }
    a.send('MODE #full +bb m100!*@* m101!*@*');
    assert.equal(await a.expect('478'), ':irc.test 478 fullop #full b :Channel list is full');
    assert.equal(await a.expect('478'), ':irc.test 478 fullop #full b :Channel list is full');
    a.send('MODE #full b');
    const lines = await a.collectUntil('368');
    assert.equal(lines.filter((l) => parse(l).command === '367').length, 100);
    // exceptions have their own budget
    a.send('MODE #full +e x!*@*');
    assert.equal(await a.expect('MODE'), `:fullop!fullop@${G} MODE #full +e x!*@*`);
  });

  test('lists of a secret channel are hidden from non-members: 403, as for a missing channel (#12)', async () => {
    const a = await joined(srv, 'secop', '#sec');
    const out = await srv.client('secout');
    a.send('MODE #sec +sb spam');
    await a.expect('MODE');
    out.send('MODE #sec b');
    assert.equal(await out.expect('403'), ':irc.test 403 secout #sec :No such channel');
    await out.expectNone('367', 150);
    a.send('MODE #sec b');
    assert.match(await a.expect('367'), /^:irc\.test 367 secop #sec spam!\*@\* /);
  });
});

describe('MODE: MODES limit', () => {
  let srv: TestServer;
  let G: string;
  before(async () => { srv = await bootServer({ 'max-modes': 3 }); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('ISUPPORT advertises the configured MODES', async () => {
    const c = await srv.connect();
    c.send('NICK lim0', 'USER lim0 0 * :x');
    const lines = await c.collectUntil(/ (376|422) /);
    assert.ok(lines.some((l) => parse(l).command === '005' && parse(l).params.includes('MODES=3')));
  });

  test('parameter changes beyond MODES are dropped; broadcast is split per MODES changes', async () => {
    const a = await joined(srv, 'limop', '#lim');
    const b = await joined(srv, 'limmem', '#lim');
    a.send('MODE #lim +bbbb m1 m2 m3 m4');
    assert.equal(await b.expect('MODE'), `:limop!limop@${G} MODE #lim +bbb m1!*@* m2!*@* m3!*@*`);
    a.send('MODE #lim b');
    const lines = await a.collectUntil('368');
    assert.deepEqual(lines.filter((l) => parse(l).command === '367').map((l) => parse(l).params[2]), ['m1!*@*', 'm2!*@*', 'm3!*@*']);
    a.send('MODE #lim +imv-bb limmem m1 m2');
    assert.equal(await b.expect('MODE'), `:limop!limop@${G} MODE #lim +imv limmem`);
    assert.equal(await b.expect('MODE'), `:limop!limop@${G} MODE #lim -bb m1!*@* m2!*@*`);
  });
});
