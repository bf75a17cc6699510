// KNOCK (#16): numerics 710–714 (ratbox/charybdis, defs.ircdocs.horse "IRC Numerics"):
//   710 RPL_KNOCK        "<client> <channel> <nick>!<user>@<host> :<text>" — "Message delivered using KNOCK command"
//   711 RPL_KNOCKDLVR    "<client> <channel> :<text>" — "Message returned from using KNOCK command (KNOCK delivered)"
//   712 ERR_TOOMANYKNOCK "<client> <channel> :<text>" — "too many KNOCKs for a channel have been sent by a user"
//   713 ERR_CHANOPEN     "<client> <channel> :<text>" — "the channel can be freely joined by the user"
//   714 ERR_KNOCKONCHAN  "<client> <channel> :<text>" — "the user has used KNOCK on a channel they have already joined"
// The ISUPPORT token `KNOCK` says the command exists (charybdis: add_isupport("KNOCK", …)).
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { guestCloak } from '../harness/cloaks.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { chanMode, join, tracked } from './channels-helpers.js';

/** Lines `c` received up to a PING round trip, without the PONG. */
async function drained(c: RawClient): Promise<string[]> {
  return (await c.sync()).slice(0, -1);
}

/** the 005 tokens a client got at registration */
async function isupport(srv: TestServer, nick: string): Promise<string[]> {
  const c = await srv.connect();
  c.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  const lines = await c.collectUntil(/ (376|422) /);
  c.send('QUIT');
  return lines.filter((l) => / 005 /.test(l)).flatMap((l) => parse(l).params.slice(1, -1));
}

describe('KNOCK', () => {
  let srv: TestServer;
  let G = '';
  const { client, quitAll } = tracked(() => srv);
  before(async () => {
    srv = await bootServer({ 'knock-rate': 3, 'knock-channel-rate': 4 });
    G = guestCloak(srv);
  });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  /** alice creates `chan` (operator), carol joins it (member); then `modes` are set */
  async function room(chan: string, modes: string): Promise<{ alice: RawClient; carol: RawClient }> {
    const alice = await client('alice');
    const carol = await client('carol');
    await join(alice, chan);
    await join(carol, chan);
    if (modes) await chanMode(alice, chan, modes);
    await carol.sync();
    return { alice, carol };
  }

  test('advertised as KNOCK in 005; HELP KNOCK', async () => {
    assert.ok((await isupport(srv, 'adv')).includes('KNOCK'));
    const c = await client('helpme');
    c.send('HELP KNOCK');
    assert.equal(await c.expect('704'), ':irc.test 704 helpme KNOCK :KNOCK <#channel> [:<reason>]');
    c.send('KNOCK');
    assert.equal(await c.expect('461'), ':irc.test 461 helpme KNOCK :Not enough parameters');
  });

  test('+i: delivered to the operators only (710), 711 to the knocker; an INVITE then lets them in', async () => {
    const { alice, carol } = await room('#crew', '+i');
    const dave = await client('dave');
    dave.send('KNOCK #crew :hi, alice sent me');
    assert.deepEqual(await drained(dave), [':irc.test 711 dave #crew :Your KNOCK has been delivered']);
    assert.equal(await alice.expect('710'), `:irc.test 710 alice #crew dave!dave@${G} :has asked for an invite: hi, alice sent me`);
    assert.deepEqual(await drained(carol), [], 'a member without +o gets nothing');
    // without a reason
    dave.send('KNOCK #crew');
    assert.equal(await dave.expect('711'), ':irc.test 711 dave #crew :Your KNOCK has been delivered');
    assert.equal(await alice.expect('710'), `:irc.test 710 alice #crew dave!dave@${G} :has asked for an invite`);
    alice.send('INVITE dave #crew');
    await dave.expect('INVITE');
    await join(dave, '#crew');
  });

  test('+k and a full +l are closed too; +l with room is open', async () => {
    const { alice } = await room('#keyed', '+k sesame');
    const dave = await client('dave');
    dave.send('KNOCK #keyed');
    assert.equal(await dave.expect('711'), ':irc.test 711 dave #keyed :Your KNOCK has been delivered');
    assert.equal(await alice.expect('710'), `:irc.test 710 alice #keyed dave!dave@${G} :has asked for an invite`);
    await chanMode(alice, '#keyed', '-k sesame');
    await chanMode(alice, '#keyed', '+l 2'); // alice and carol: full
    dave.send('KNOCK #keyed');
    assert.equal(await dave.expect('711'), ':irc.test 711 dave #keyed :Your KNOCK has been delivered');
    await chanMode(alice, '#keyed', '+l 3');
    dave.send('KNOCK #keyed');
    assert.deepEqual(await drained(dave), [':irc.test 713 dave #keyed :Channel is open']);
  });

  test('713 when the user could join anyway: open channel, +I match, pending INVITE; 714 on the channel', async () => {
    const { alice, carol } = await room('#door', '');
    const dave = await client('dave');
    dave.send('KNOCK #door');
    assert.deepEqual(await drained(dave), [':irc.test 713 dave #door :Channel is open']);
    await chanMode(alice, '#door', '+i');
    await chanMode(alice, '#door', '+I dave!*@*');
    dave.send('KNOCK #door');
    assert.deepEqual(await drained(dave), [':irc.test 713 dave #door :Channel is open'], 'an invite exception matches');
    await chanMode(alice, '#door', '-I dave!*@*');
    alice.send('INVITE dave #door');
    await dave.expect('INVITE');
    dave.send('KNOCK #door');
    assert.deepEqual(await drained(dave), [':irc.test 713 dave #door :Channel is open'], 'already invited');
    carol.send('KNOCK #door');
    assert.deepEqual((await drained(carol)).filter((l) => / 7\d\d /.test(l)), [':irc.test 714 carol #door :You are already on that channel']);
    await alice.sync();
    assert.deepEqual((await drained(alice)).filter((l) => / 710 /.test(l)), [], 'nothing reached the operator');
  });

  test('+s and +p channels answer exactly as a missing one (403), to anyone outside, and reach nobody', async () => {
    // #12 finding 14: a +s/+p channel is answered to outsiders as if it did not exist
    const { alice } = await room('#hidden', '+si');
    await chanMode(alice, '#hidden', '-s+p');
    const dave = await client('dave');
    dave.send('KNOCK #nowhere', 'KNOCK #hidden');
    assert.deepEqual(await drained(dave), [
      ':irc.test 403 dave #nowhere :No such channel',
      ':irc.test 403 dave #hidden :No such channel',
    ]);
    await chanMode(alice, '#hidden', '-p+s');
    dave.send('KNOCK #HIDDEN');
    assert.deepEqual(await drained(dave), [':irc.test 403 dave #HIDDEN :No such channel'], 'the name as typed, as for a missing channel');
    assert.deepEqual((await drained(alice)).filter((l) => / 710 /.test(l)), []);
  });

  test('banned: 404 and the operators hear nothing; an exception (+e) lets the knock through', async () => {
    const { alice } = await room('#noban', '+i');
    await chanMode(alice, '#noban', '+b dave!*@*');
    const dave = await client('dave');
    dave.send('KNOCK #noban :please');
    assert.deepEqual(await drained(dave), [':irc.test 404 dave #noban :Cannot knock on channel (+b)']);
    assert.deepEqual((await drained(alice)).filter((l) => / 710 /.test(l)), []);
    await chanMode(alice, '#noban', '+e dave!*@*');
    dave.send('KNOCK #noban :please');
    assert.equal(await dave.expect('711'), ':irc.test 711 dave #noban :Your KNOCK has been delivered');
    assert.equal(await alice.expect('710'), `:irc.test 710 alice #noban dave!dave@${G} :has asked for an invite: please`);
  });

  test('rate limits: per user (knock-rate) and per channel (knock-channel-rate); refused knocks do not count', async () => {
    const { alice } = await room('#busy', '+i');
    await join(alice, '#busy2');
    await chanMode(alice, '#busy2', '+i');
    const dave = await client('dave');
    // refusals (713, 403) are not counted
    dave.send('KNOCK #nowhere', 'KNOCK #nowhere', 'KNOCK #nowhere');
    await dave.sync();
    dave.send('KNOCK #busy', 'KNOCK #busy2', 'KNOCK #busy');
    const ok = await drained(dave);
    assert.deepEqual(ok.map((l) => parse(l).command), ['711', '711', '711']);
    dave.send('KNOCK #busy2');
    assert.deepEqual(await drained(dave), [':irc.test 712 dave #busy2 :Too many KNOCKs (user)'], 'the 4th of one user (knock-rate 3)');
    const seen = (await drained(alice)).filter((l) => / 710 /.test(l));
    assert.equal(seen.length, 3, 'the refused knock reached nobody');
    // #busy has had 2 knocks; 2 more from other users fill knock-channel-rate (4); the next is refused
    const erin = await client('erin');
    const fred = await client('fred');
    const gina = await client('gina');
    erin.send('KNOCK #busy');
    assert.equal(await erin.expect('711'), ':irc.test 711 erin #busy :Your KNOCK has been delivered');
    fred.send('KNOCK #busy');
    assert.equal(await fred.expect('711'), ':irc.test 711 fred #busy :Your KNOCK has been delivered');
    gina.send('KNOCK #busy');
    assert.deepEqual(await drained(gina), [':irc.test 712 gina #busy :Too many KNOCKs (channel)']);
    gina.send('KNOCK #busy2');
    assert.equal(await gina.expect('711'), ':irc.test 711 gina #busy2 :Your KNOCK has been delivered', 'another channel is not affected');
  });

  test('a long reason is cut so that 710 fits in 512 bytes, at a UTF-8 boundary', async () => {
    const { alice } = await room('#long', '+i');
    const nick = `d${'x'.repeat(40)}`;
    const dave = await client(nick);
    // 390 bytes (KICKLEN): with this nick and host the 710 line would be over 512
    dave.send(`KNOCK #long :${'€'.repeat(130)}`);
    await dave.expect('711');
    const line = await alice.expect('710');
    assert.ok(Buffer.byteLength(line) + 2 <= 512 && Buffer.byteLength(line) + 2 > 509, `${Buffer.byteLength(line)} bytes: cut, and only as much as needed`);
    assert.match(line, new RegExp(`^:irc\\.test 710 alice #long ${nick}!\\S+ :has asked for an invite: (€)+$`));
  });
});

describe('KNOCK disabled', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ knock: false }); });
  after(async () => { await srv.stop(); });

  test('knock = false: not advertised, 421, not in HELP', async () => {
    assert.ok(!(await isupport(srv, 'noadv')).includes('KNOCK'));
    const c = await srv.client('nok');
    c.send('KNOCK #x');
    assert.equal(await c.expect('421'), ':irc.test 421 nok KNOCK :Unknown command');
    c.send('HELP KNOCK');
    assert.equal(await c.expect('524'), ':irc.test 524 nok KNOCK :No help available on this topic');
  });
});
