import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { chanMode, join, suiteMasks, tracked } from './channels-helpers.js';

/** guest cloak of the current suite's server and the alice/bob masks built from it (set in each `before`) */
let G = '';
let A = '';
let B = '';

describe('KICK', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); ({ G, A, B } = suiteMasks(srv)); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('an operator kicks with a reason; everyone sees it and the target is gone', async () => {
    const a = await client('alice');
    const b = await client('bob');
    const c = await client('carol');
    await join(a, '#k'); await join(b, '#k'); await join(c, '#k');
    a.send('KICK #k bob :go away');
    assert.equal(await a.expect('KICK'), `:${A} KICK #k bob :go away`);
    assert.equal(await b.expect('KICK'), `:${A} KICK #k bob :go away`);
    assert.equal(await c.expect('KICK'), `:${A} KICK #k bob :go away`);
    a.send('NAMES #k');
    assert.equal(await a.expect('353'), ':irc.test 353 alice = #k :@alice carol');
  });

  test('default reason is the kicker nick; several nicks in one KICK', async () => {
    const a = await client('alice');
    const b = await client('bob');
    const c = await client('carol');
    await join(a, '#km'); await join(b, '#km'); await join(c, '#km');
    a.send('KICK #km bob,carol');
    assert.equal(await a.expect('KICK'), `:${A} KICK #km bob alice`);
    assert.equal(await a.expect('KICK'), `:${A} KICK #km carol alice`);
    assert.equal(await c.expect('KICK'), `:${A} KICK #km bob alice`);
  });

  test('403, 401, 441, 482 and 442', async () => {
    const a = await client('alice');
    const b = await client('bob');
    const c = await client('carol');
    await join(a, '#ke'); await join(b, '#ke');
    a.send('KICK #nochan bob');
    assert.equal(await a.expect('403'), ':irc.test 403 alice #nochan :No such channel');
    a.send('KICK #ke nobody,carol,bob');
    assert.equal(await a.expect('401'), ':irc.test 401 alice nobody :No such nick/channel');
    assert.equal(await a.expect('441'), ":irc.test 441 alice carol #ke :They aren't on that channel");
    assert.equal(await a.expect('KICK'), `:${A} KICK #ke bob alice`, 'errors for one nick do not stop the others');
    await join(b, '#ke');
    b.send('KICK #ke alice,carol');
    assert.deepEqual(await b.collectUntil('482'), [":irc.test 482 bob #ke :You're not channel operator"]);
    await b.expectNone('482', 100); // reported once, not per nick
    c.send('KICK #ke alice');
    assert.equal(await c.expect('442'), ":irc.test 442 carol #ke :You're not on that channel");
  });

  test('more than MAXTARGETS nicks: 407 and nobody is kicked', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#kt'); await join(b, '#kt');
    a.send('KICK #kt bob,n2,n3,n4,n5'); // max-targets defaults to 4
    assert.equal(await a.expect('407'), ':irc.test 407 alice n5 :Too many targets. Maximum is 4');
    await b.expectNone('KICK', 200);
  });

  test('the reason is clipped to KICKLEN bytes', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#kl'); await join(b, '#kl');
    a.send(`KICK #kl bob :${'x '.repeat(220)}`);
    const reason = (await b.expectMsg('KICK')).params[2]!;
    assert.equal(reason, 'x '.repeat(195));
    assert.equal(Buffer.byteLength(reason), 390);
  });
});

describe('KICK with kick-len 10', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'kick-len': 10 }); ({ G, A, B } = suiteMasks(srv)); });
  after(async () => { await srv.stop(); });

  test('clips at a UTF-8 boundary', async () => {
    const a = await srv.client('alice');
    const b = await srv.client('bob');
    await join(a, '#kc'); await join(b, '#kc');
    a.send('KICK #kc bob :€€€€'); // 12 bytes; 10 would split the 4th €
    assert.equal(await b.expect('KICK'), `:${A} KICK #kc bob €€€`);
  });
});

describe('INVITE', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); ({ G, A, B } = suiteMasks(srv)); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('341 to the inviter, INVITE to the target, and the invite bypasses +i once', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#i');
    await chanMode(a, '#i', '+i');
    a.send('INVITE bob #i');
    assert.equal(await a.expect('341'), ':irc.test 341 alice bob #i');
    assert.equal(await b.expect('INVITE'), `:${A} INVITE bob #i`);
    b.send('JOIN #i');
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #i`);
    b.send('PART #i', 'JOIN #i');
    assert.equal(await b.expect('473'), ':irc.test 473 bob #i :Cannot join channel (+i)', 'the invite is used up');
  });

  test('an invite dies with its channel: a re-created +i channel does not honour it', async () => {
    const a = await client('alice');
    const b = await client('bob');
    const c = await client('carol');
    await join(a, '#gone');
    a.send('INVITE bob #gone');
    await a.expect('341');
    await b.expect('INVITE');
    a.send('PART #gone');
    await a.expect('PART');             // default state, last member: the channel is deleted
    await join(c, '#gone');             // a new channel with the same name
    await chanMode(c, '#gone', '+i');
    b.send('JOIN #gone');
    assert.equal(await b.expect('473'), ':irc.test 473 bob #gone :Cannot join channel (+i)');
  });

  test('an invite also bypasses +k and +b', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#ikb');
    await chanMode(a, '#ikb', `+kb key *!*@${G}`);
    b.send('JOIN #ikb');
    assert.equal(await b.expect('474'), ':irc.test 474 bob #ikb :Cannot join channel (+b)');
    a.send('INVITE bob #ikb');
    await b.expect('INVITE');
    b.send('JOIN #ikb');
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #ikb`);
  });

  test('invite-notify: channel operators with the cap see it, others do not', async () => {
    const a = await client('alice');
    const op = await client('opn', ['invite-notify']);
    const plain = await client('plain', ['invite-notify']);
    const noCap = await client('nocap');
    const b = await client('bob');
    await join(a, '#in');
    for (const c of [op, plain, noCap]) await join(c, '#in');
    await chanMode(a, '#in', '+oo opn nocap');
    a.send('INVITE bob #in');
    await a.expect('341');
    assert.equal(await op.expect('INVITE'), `:${A} INVITE bob #in`);
    await b.expect('INVITE');
    await plain.expectNone('INVITE', 150);
    await noCap.expectNone('INVITE', 50);
    await a.expectNone('INVITE', 50);
  });

  test('any member may invite to a channel without +i', async () => {
    const a = await client('alice');
    const b = await client('bob');
    const c = await client('carol');
    await join(a, '#io'); await join(b, '#io');
    b.send('INVITE carol #io');
    assert.equal(await b.expect('341'), ':irc.test 341 bob carol #io');
    assert.equal(await c.expect('INVITE'), `:${B} INVITE carol #io`);
  });

  test('401, 403, 442, 482 and 443', async () => {
    const a = await client('alice');
    const b = await client('bob');
    const c = await client('carol');
    await join(a, '#ie'); await join(b, '#ie');
    a.send('INVITE nobody #ie');
    assert.equal(await a.expect('401'), ':irc.test 401 alice nobody :No such nick/channel');
    a.send('INVITE carol #nochan');
    assert.equal(await a.expect('403'), ':irc.test 403 alice #nochan :No such channel');
    c.send('INVITE carol #ie');
    assert.equal(await c.expect('442'), ":irc.test 442 carol #ie :You're not on that channel");
    a.send('INVITE bob #ie');
    assert.equal(await a.expect('443'), ':irc.test 443 alice bob #ie :is already on channel');
    await chanMode(a, '#ie', '+i');
    b.send('INVITE carol #ie');
    assert.equal(await b.expect('482'), ":irc.test 482 bob #ie :You're not channel operator");
    await c.expectNone('INVITE', 150);
    a.send('INVITE');
    assert.equal(await a.expect('461'), ':irc.test 461 alice INVITE :Not enough parameters');
  });

  test('RPL_AWAY follows 341 when the target is away', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#ia');
    srv.server.context.ops.setAway(srv.server.context.world.findUser('bob')!, 'gone fishing');
    a.send('INVITE bob #ia');
    assert.deepEqual(await a.collectUntil('301'), [':irc.test 341 alice bob #ia', ':irc.test 301 alice bob :gone fishing']);
    await b.expect('INVITE');
  });
});
