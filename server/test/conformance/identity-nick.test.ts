import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { didCloak, guestCloak } from '../harness/cloaks.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { body, connectLoggedIn, DID_A, DID_B, DID_C, login } from './identity-helpers.js';

// Nick ownership: a DID owns one nick (persisted in `accounts`). Users are logged in through
// ops.login, the op the SASL code calls (see identity-helpers.ts).

const GUEST_NOTICE = (old: string, now: string): string =>
  `:irc.test NOTICE ${now} :Nick ${old} is registered to another identity; you are now ${now}. Log in with SASL to use it.`;

describe('identity: nick ownership', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('a guest registering with an owned nick becomes a collision-free Guest<digits>, with a NOTICE', async () => {
    const owner = await connectLoggedIn(srv, 'nOwner', DID_A);
    assert.equal(owner.nick, 'nOwner');
    owner.send('QUIT');
    await owner.waitClosed();
    // pin the random start and occupy it twice: once by a connected user, once by an owned nick
    srv.server.context.ops.guestNumber = () => 31337;
    const squat = await srv.client('Guest31337');
    const ownedGuest = await connectLoggedIn(srv, 'Guest31338', DID_B);
    assert.equal(ownedGuest.nick, 'Guest31338');
    ownedGuest.send('QUIT');
    await ownedGuest.waitClosed();

    const g = await srv.connect();
    g.send('NICK nowner', 'USER g 0 * :g');
    assert.equal(await g.expect('001'), `:irc.test 001 Guest31339 :Welcome to the freeq IRC Network Guest31339!g@${guestCloak(srv)}`);
    await g.expect(/ (376|422) /);
    assert.equal(await g.expect('NOTICE'), GUEST_NOTICE('nowner', 'Guest31339'));
    srv.server.context.ops.guestNumber = () => 10000 + Math.floor(Math.random() * 90000);
    squat.destroy(); g.destroy();
  });

  test('after registration, NICK to an owned nick is 433 (any case); a nick change rebinds', async () => {
    const D = 'did:plc:kkkkkkkkkkkkkkkk';
    const owner = await connectLoggedIn(srv, 'kOwner', D);
    const g = await srv.client('kGuest');
    owner.send('NICK kOwner2');
    assert.equal(body(await owner.expect('NICK')), `:kOwner!kowner@${didCloak(srv, D)} NICK kOwner2`);
    owner.send('QUIT');
    await owner.waitClosed();
    // rebinding: the DID now owns kOwner2 (even while offline), and kOwner is free
    g.send('NICK KOWNER2');
    assert.equal(await g.expect('433'), ':irc.test 433 kGuest KOWNER2 :Nickname is registered to another identity');
    g.send('NICK kOwner');
    assert.equal(await g.expect('NICK'), `:kGuest!kguest@${guestCloak(srv)} NICK kOwner`);
    // a different DID may not take it either
    const other = await connectLoggedIn(srv, 'kOther', DID_B);
    other.send('NICK kowner2');
    assert.equal(await other.expect('433'), ':irc.test 433 kOther kowner2 :Nickname is registered to another identity');
    // the owner gets it back, and may change its case
    const back = await connectLoggedIn(srv, 'kOwner2', D);
    assert.equal(back.nick, 'kOwner2');
    back.send('NICK kowner2');
    assert.equal(body(await back.expect('NICK')), `:kOwner2!kowner2@${didCloak(srv, D)} NICK kowner2`);
    for (const c of [back, g, other]) c.destroy();
  });

  test('a logged-in non-owner registering with an owned nick gets its own nick if free, else Guest<digits>', async () => {
    const owner = await connectLoggedIn(srv, 'lnOwn', DID_A);
    owner.send('QUIT');
    await owner.waitClosed();
    const mine = await connectLoggedIn(srv, 'lnMine', 'did:plc:mmmmmmmmmmmmmmmm');
    mine.send('QUIT');
    await mine.waitClosed();
    const c = await connectLoggedIn(srv, 'lnOwn', 'did:plc:mmmmmmmmmmmmmmmm');
    assert.equal(c.nick, 'lnMine');
    assert.equal(await c.expect('NOTICE'), ':irc.test NOTICE lnMine :Nick lnOwn is registered to another identity; you are now lnMine.');
    const d = await connectLoggedIn(srv, 'lnOwn', 'did:plc:nnnnnnnnnnnnnnnn'); // owns nothing yet
    assert.match(d.nick, /^Guest\d+$/);
    assert.equal(await d.expect('NOTICE'), `:irc.test NOTICE ${d.nick} :Nick lnOwn is registered to another identity; you are now ${d.nick}.`);
    // a Guest nick is not bound to the DID: the next nick change binds
    d.send('NICK lnNew');
    await d.expect('NICK');
    const guestNick = d.nick;
    d.send('QUIT');
    await d.waitClosed();
    const g = await srv.client('lnG');
    g.send(`NICK ${guestNick}`);
    assert.equal(await g.expect('NICK'), `:lnG!lng@${guestCloak(srv)} NICK ${guestNick}`);
    g.send('NICK lnNew');
    assert.equal(await g.expect('433'), `:irc.test 433 ${guestNick} lnNew :Nickname is registered to another identity`);
    for (const x of [c, g]) x.destroy();
  });

  test('the owner reclaims its nick on login: the holder becomes Guest<digits> with a NOTICE', async () => {
    const first = await connectLoggedIn(srv, 'rcNick', DID_C);
    first.send('QUIT');
    await first.waitClosed();
    // someone sits on the nick before registering (NICK without USER)
    const squatter = await srv.connect();
    squatter.send('NICK rcNick');
    await squatter.sync();
    const watcher = await srv.client('rcWatch');
    const owner = await srv.client('rcNick_');
    owner.send('NICK rcNick');
    assert.equal(await owner.expect('433'), ':irc.test 433 rcNick_ rcNick :Nickname is already in use');
    owner.send('JOIN #rc');
    watcher.send('JOIN #rc');
    await watcher.expect('366');
    login(srv, 'rcNick_', DID_C);
    assert.equal(body(await owner.expect('NICK')), `:rcNick_!rcnick_@${didCloak(srv, DID_C)} NICK rcNick`);
    assert.equal(await watcher.expect('NICK'), `:rcNick_!rcnick_@${didCloak(srv, DID_C)} NICK rcNick`);
    const notice = await squatter.expect('NOTICE');
    const m = /^:irc\.test NOTICE (Guest\d+) :Nick rcNick is registered to another identity; you are now (Guest\d+)\. Log in with SASL to use it\.$/.exec(notice);
    assert.ok(m && m[1] === m[2], notice);
    squatter.send('USER s 0 * :s');
    assert.equal(await squatter.expect('001'), `:irc.test 001 ${m[1]} :Welcome to the freeq IRC Network ${m[1]}!s@${guestCloak(srv)}`);
    for (const c of [squatter, watcher, owner]) c.destroy();
  });

  test('reclaim at registration: an owner logged in before CAP END gets its nick in 001; the holder is renamed', async () => {
    const D = 'did:plc:rrrrrrrrrrrrrrrr';
    const first = await connectLoggedIn(srv, 'regNick', D);
    first.send('QUIT');
    await first.waitClosed();
    const squatter = await srv.connect();
    squatter.send('NICK regNick');
    await squatter.sync();
    const owner = await connectLoggedIn(srv, 'regNick_', D);
    assert.equal(owner.nick, 'regNick', '001 carries the reclaimed nick');
    assert.match(await squatter.expect('NOTICE'), /^:irc\.test NOTICE Guest\d+ :Nick regNick is registered to another identity; you are now Guest\d+\. Log in with SASL to use it\.$/);
    squatter.destroy(); owner.destroy();
  });

  test('a second session of the same DID keeps its own nick and does not move the binding', async () => {
    const D = 'did:plc:ssssssssssssssss';
    const own1 = await connectLoggedIn(srv, 'twoA', D);
    const own2 = await connectLoggedIn(srv, 'twoB', D);
    assert.equal(own2.nick, 'twoB');
    const g = await srv.client('twoG');
    own1.send('QUIT');
    await own1.waitClosed();
    g.send('NICK twoA');
    assert.equal(await g.expect('433'), ':irc.test 433 twoG twoA :Nickname is registered to another identity');
    g.send('NICK twoC');
    await g.expect('NICK');
    for (const c of [own2, g]) c.destroy();
  });

  test('ownership survives a restart', async () => {
    srv = await srv.restart();
    const g = await srv.connect();
    g.send('NICK KOwner2', 'USER g 0 * :g');
    const w = await g.expectMsg('001');
    assert.match(w.params[0]!, /^Guest\d+$/);
    assert.equal(await g.expect('NOTICE'), GUEST_NOTICE('KOwner2', w.params[0]!));
    const owner = await connectLoggedIn(srv, 'kOwner2', 'did:plc:kkkkkkkkkkkkkkkk');
    assert.equal(owner.nick, 'kOwner2');
    g.send('NICK rcNick');
    assert.equal(await g.expect('433'), `:irc.test 433 ${w.params[0]} rcNick :Nickname is registered to another identity`);
    g.destroy(); owner.destroy();
  });
});
