import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { didCloak, guestCloak } from '../harness/cloaks.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { MAX_DID_INVITES } from '../../src/state/ops.js';
import { User, type Recipient } from '../../src/state/user.js';
import { connectLoggedIn, joined, login } from './identity-helpers.js';

// Founders, DID ops, DID bans and DID invites. Users are logged in through ops.login, the op the
// SASL code calls (see identity-helpers.ts).

const F = 'did:plc:founderfounderxx';
const O = 'did:plc:operatoroperator';
const X = 'did:plc:xbannedxbannedxx';

/** s with RegExp specials escaped */
function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function names(lines: string[]): string {
  const l = lines.find((x) => x.includes(' 353 '));
  return l ? parse(l).params.at(-1)! : '';
}

async function quit(c: RawClient): Promise<void> {
  c.send('QUIT');
  await c.waitClosed();
}

describe('identity: channel founder', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('a logged-in creator is founder: the channel outlives its members; a guest creator gets +o only', async () => {
    const f = await connectLoggedIn(srv, 'fnd', F);
    assert.equal(names(await joined(f, '#found')), '@fnd');
    assert.equal(srv.server.context.world.findChannel('#found')!.founder, F);
    const g = await srv.client('fGuest');
    assert.equal(names(await joined(g, '#guestmade')), '@fGuest');
    assert.equal(srv.server.context.world.findChannel('#guestmade')!.founder, undefined);
    await quit(g);
    await quit(f);
    const o = await srv.client('fOut');
    o.send('MODE #found');
    assert.match(await o.expect(/ (324|403) /), / 324 fOut #found \+nt$/);
    o.send('MODE #guestmade');
    assert.equal(await o.expect(/ (324|403) /), ':irc.test 403 fOut #guestmade :No such channel');
    o.destroy();
  });

  test('the founder is re-opped on join, and bypasses +i +k +l +b', async () => {
    const op = await srv.client('fOp');
    assert.equal(names(await joined(op, '#found')), 'fOp', 'no auto-op in a founded channel');
    // fOp is no op; the founder comes back, is opped, and locks the channel
    const f = await connectLoggedIn(srv, 'fnd', F);
    f.send('JOIN #found');
    assert.equal(await f.expect('JOIN'), `:fnd!fnd@${didCloak(srv, F)} JOIN #found`);
    // (the server MODE comes right after the JOIN, before NAMES, as for any join-time op)
    assert.equal(await f.expect('MODE'), ':irc.test MODE #found +o fnd');
    assert.equal(names(await f.collectUntil('366')), 'fOp @fnd');
    assert.equal(await op.expect('MODE'), ':irc.test MODE #found +o fnd');
    f.send('MODE #found +iklb door 1 *!*@*');
    await f.expect((_, m) => m.command === 'MODE' && m.params[1] === '+iklb');
    await quit(f);
    const f2 = await connectLoggedIn(srv, 'fnd', F);
    f2.send('JOIN #found');
    assert.equal(await f2.expect('JOIN'), `:fnd!fnd@${didCloak(srv, F)} JOIN #found`);
    assert.equal(await f2.expect('MODE'), ':irc.test MODE #found +o fnd');
    // a guest is stopped by the same modes
    const g = await srv.client('fLocked');
    g.send('JOIN #found door');
    assert.match(await g.expect(/ 47[1345] /), / 474 fLocked #found :Cannot join channel \(\+b\)$/);
    f2.send('MODE #found -iklb door *!*@*');
    await f2.expect((_, m) => m.command === 'MODE' && m.params[1] === '-iklb');
    for (const c of [op, f2, g]) c.destroy();
  });

  test('channel operators cannot de-op or kick the founder (484); the founder can kick them', async () => {
    const f = await connectLoggedIn(srv, 'fnd2', F);
    await joined(f, '#found');
    const op = await srv.client('fOp2');
    const v = await srv.client('fVictim');
    await joined(op, '#found');
    await joined(v, '#found');
    f.send('MODE #found +o fOp2');
    await op.expect((_, m) => m.command === 'MODE' && m.params[2] === 'fOp2');
    op.send('MODE #found -o fnd2');
    assert.equal(await op.expect('484'), ':irc.test 484 fOp2 fnd2 #found :Cannot kick or deop the channel founder');
    op.send('KICK #found fnd2,fVictim :bye');
    assert.equal(await op.expect('484'), ':irc.test 484 fOp2 fnd2 #found :Cannot kick or deop the channel founder');
    assert.equal(await op.expect('KICK'), `:fOp2!fop2@${guestCloak(srv)} KICK #found fVictim bye`, 'the other target is still kicked');
    f.send('KICK #found fOp2 :founder rules');
    assert.equal(await op.expect('KICK'), `:fnd2!fnd2@${didCloak(srv, F)} KICK #found fOp2 :founder rules`);
    // the founder may de-op itself (and is opped again on its next join)
    f.send('MODE #found -o fnd2');
    assert.equal(await f.expect((_, m) => m.command === 'MODE' && m.params[1] === '-o'), `:fnd2!fnd2@${didCloak(srv, F)} MODE #found -o fnd2`);
    for (const c of [f, op, v]) c.destroy();
  });

  test('after a restart a guest joining the empty founded channel first is not opped; the founder is', async () => {
    srv = await srv.restart();
    const g = await srv.client('fFirst');
    assert.equal(names(await joined(g, '#found')), 'fFirst');
    await g.expectNone('MODE', 150);
    g.send('MODE #found +i');
    assert.equal(await g.expect('482'), ":irc.test 482 fFirst #found :You're not channel operator");
    const f = await connectLoggedIn(srv, 'fnd', F);
    assert.equal(names(await joined(f, '#found')), 'fFirst @fnd');
    assert.equal(await g.expect('MODE'), ':irc.test MODE #found +o fnd');
    g.destroy(); f.destroy();
  });
});

describe('identity: DID ops, DID bans, DID invites', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('+o on a logged-in user is a DID op: re-applied on join and after a restart; -o removes it', async () => {
    // a guest-made channel with a DID op is not re-founded by a guest after a restart either
    const g = await srv.client('dGuest');
    await joined(g, '#dops');
    const o = await connectLoggedIn(srv, 'dOp', O);
    await joined(o, '#dops');
    g.send('MODE #dops +o dOp');
    assert.equal(await o.expect('MODE'), `:dGuest!dguest@${guestCloak(srv)} MODE #dops +o dOp`);
    o.send('PART #dops');
    await o.expect('PART');
    o.send('JOIN #dops');
    const rejoin = await o.collectUntil('366');
    assert.equal(names(rejoin), '@dGuest @dOp');
    assert.ok(rejoin.includes(':irc.test MODE #dops +o dOp'), rejoin.join('\n'));
    await quit(o);
    await quit(g);

    srv = await srv.restart();
    const first = await srv.client('dFirst');
    assert.equal(names(await joined(first, '#dops')), 'dFirst', 'not re-founded: the channel has a DID op');
    const o2 = await connectLoggedIn(srv, 'dOp', O);
    await joined(o2, '#dops');
    assert.equal(await first.expect('MODE'), ':irc.test MODE #dops +o dOp');
    // -o revokes the DID op
    o2.send('MODE #dops +o dFirst');
    await first.expect('MODE');
    first.send('MODE #dops -o dOp');
    assert.equal(await o2.expect((_, m) => m.command === 'MODE' && m.params[1] === '-o'), `:dFirst!dfirst@${guestCloak(srv)} MODE #dops -o dOp`);
    o2.send('PART #dops');
    await o2.expect('PART');
    o2.send('JOIN #dops');
    const again = await o2.collectUntil('366');
    assert.equal(names(again), '@dFirst dOp');
    assert.ok(!again.some((l) => l.includes(' MODE ')), again.join('\n'));
    await o2.expectNone('MODE', 150);
    first.destroy(); o2.destroy();
  });

  test('+b did:… bans the identity across nick changes and restarts, not its host', async () => {
    const op = await srv.client('bOp');
    await joined(op, '#dban');
    op.send('MODE #dban +b did:plc:xbannedxbannedxx');
    assert.equal(await op.expect('MODE'), `:bOp!bop@${guestCloak(srv)} MODE #dban +b did:plc:xbannedxbannedxx`);
    const x = await connectLoggedIn(srv, 'banned1', X);
    x.send('JOIN #dban');
    assert.equal(await x.expect('474'), ':irc.test 474 banned1 #dban :Cannot join channel (+b)');
    x.send('NICK banned2', 'JOIN #dban');
    assert.equal(await x.expect('474'), ':irc.test 474 banned2 #dban :Cannot join channel (+b)');
    // a guest on the same address, and another identity, get in
    const g = await srv.client('bGuest');
    assert.equal(names(await joined(g, '#dban')), '@bOp bGuest');
    await quit(x);
    srv = await srv.restart();
    const x2 = await connectLoggedIn(srv, 'banned3', X);
    x2.send('JOIN #dban');
    assert.equal(await x2.expect('474'), ':irc.test 474 banned3 #dban :Cannot join channel (+b)');
    x2.send('MODE #dban b');
    assert.match(await x2.expect('367'), new RegExp(`^:irc\\.test 367 banned3 #dban did:plc:xbannedxbannedxx bOp!bop@${esc(guestCloak(srv))} \\d+$`));
    x2.destroy();
  });

  test('INVITE of a logged-in user is kept by DID: it survives reconnect and restart, and is consumed by the join', async () => {
    const op = await srv.client('iOp');
    await joined(op, '#dinv');
    op.send('MODE #dinv +i');
    await op.expect('MODE');
    const u = await connectLoggedIn(srv, 'invited', O);
    op.send('INVITE invited #dinv');
    assert.equal(await op.expect('341'), ':irc.test 341 iOp invited #dinv');
    assert.equal(srv.server.context.world.findChannel('#dinv')!.didInvites.has(O), true);
    await quit(u);
    srv = await srv.restart();
    // the op is gone: the +i channel persists with its DID invite
    const u2 = await connectLoggedIn(srv, 'invited2', O);
    u2.send('JOIN #dinv');
    assert.equal(await u2.expect('JOIN'), `:invited2!invited2@${didCloak(srv, O)} JOIN #dinv`);
    await u2.expect('366');
    u2.send('PART #dinv');
    await u2.expect('PART');
    u2.send('JOIN #dinv');
    assert.equal(await u2.expect('473'), ':irc.test 473 invited2 #dinv :Cannot join channel (+i)', 'the invite was consumed');
    // a guest invite is per connection only
    const g = await srv.client('iGuest');
    assert.equal(srv.server.context.world.findChannel('#dinv')!.didInvites.size, 0);
    g.send('JOIN #dinv');
    assert.equal(await g.expect('473'), ':irc.test 473 iGuest #dinv :Cannot join channel (+i)');
    u2.destroy(); g.destroy();
  });

  test('logging in after joining gives no founder status or +o retroactively', async () => {
    const g = await srv.client('lateG');
    await joined(g, '#late');
    const l = await srv.client('late');
    await joined(l, '#late');
    login(srv, 'late', F);
    await l.sync();
    assert.equal(srv.server.context.world.findChannel('#late')!.founder, undefined);
    l.send('MODE #late +i');
    assert.equal(await l.expect('482'), ":irc.test 482 late #late :You're not channel operator");
    g.destroy(); l.destroy();
  });

  test(`DID invites are bounded per channel (${MAX_DID_INVITES}, oldest dropped), in memory and on disk`, async () => {
    const op = await srv.client('bndOp');
    await joined(op, '#bounded');
    op.send('MODE #bounded +i');
    await op.expect('MODE');
    const ctx = srv.server.context;
    const ch = ctx.world.findChannel('#bounded')!;
    const by = ctx.world.findUser('bndOp')!;
    const sink: Recipient = { tagMask: 0, hasCap: () => false, deliver: () => {}, disconnect: () => {} };
    for (let i = 0; i <= MAX_DID_INVITES; i++) {
      const t = new User(100000 + i, '127.0.0.9', false, sink, Date.now(), guestCloak(srv, '127.0.0.9'));
      t.nick = `bnd${i}`;
      t.registered = true;
      t.account = `did:plc:bounded${i}`;
      ctx.ops.invite(by, t, ch);
    }
    assert.equal(ch.didInvites.size, MAX_DID_INVITES);
    assert.equal(ch.didInvites.has('did:plc:bounded0'), false);
    assert.equal(ch.didInvites.has(`did:plc:bounded${MAX_DID_INVITES}`), true);
    op.destroy();
    srv = await srv.restart();
    const ch2 = srv.server.context.world.findChannel('#bounded')!;
    assert.equal(ch2.didInvites.size, MAX_DID_INVITES);
    assert.equal(ch2.didInvites.has('did:plc:bounded0'), false);
    assert.equal([...ch2.didInvites.keys()].at(-1), `did:plc:bounded${MAX_DID_INVITES}`, 'oldest first after reload');
  });
});
