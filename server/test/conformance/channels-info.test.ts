import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { between, chanMode, join, suiteMasks, tracked, userMode } from './channels-helpers.js';

/** guest cloak of the current suite's server and alice's mask built from it (set in each `before`) */
let G = '';
let A = '';

describe('TOPIC', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); ({ G, A } = suiteMasks(srv)); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('331 without a topic; set relays to members; query gives 332 + 333', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#t');
    await join(b, '#t');
    a.send('TOPIC #t');
    assert.equal(await a.expect('331'), ':irc.test 331 alice #t :No topic is set');
    const before = Math.floor(Date.now() / 1000);
    a.send('TOPIC #t :hello world');
    assert.equal(await a.expect('TOPIC'), `:${A} TOPIC #t :hello world`);
    assert.equal(await b.expect('TOPIC'), `:${A} TOPIC #t :hello world`);
    b.send('TOPIC #T');
    assert.equal(await b.expect('332'), ':irc.test 332 bob #t :hello world');
    const m = /^:irc\.test 333 bob #t (\S+) (\d+)$/.exec(await b.expect('333'));
    assert.ok(m, '333 shape');
    assert.equal(m[1], A);
    assert.ok(Math.abs(Number(m[2]) - before) <= 2, 'setAt is unix seconds');
  });

  test('403 for an unknown channel; outsiders read a visible topic, and a secret or private one is unknown to them (#12)', async () => {
    const a = await client('alice');
    const c = await client('carol');
    c.send('TOPIC #nope');
    assert.equal(await c.expect('403'), ':irc.test 403 carol #nope :No such channel');
    await join(a, '#vis');
    a.send('TOPIC #vis :open topic');
    await a.expect('TOPIC');
    c.send('TOPIC #vis');
    assert.equal(await c.expect('332'), ':irc.test 332 carol #vis :open topic');
    await join(a, '#sec');
    await chanMode(a, '#sec', '+s');
    c.send('TOPIC #sec');
    assert.equal(await c.expect('403'), ':irc.test 403 carol #sec :No such channel');
    await join(a, '#prv');
    await chanMode(a, '#prv', '+p');
    c.send('TOPIC #prv');
    assert.equal(await c.expect('403'), ':irc.test 403 carol #prv :No such channel');
  });

  test('setting needs membership (442) and, with +t, operator status (482)', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#tt');
    b.send('TOPIC #tt :outsider');
    assert.equal(await b.expect('442'), ":irc.test 442 bob #tt :You're not on that channel");
    await join(b, '#tt');
    b.send('TOPIC #tt :not an op');
    assert.equal(await b.expect('482'), ":irc.test 482 bob #tt :You're not channel operator");
    await chanMode(a, '#tt', '-t');
    b.send('TOPIC #tt :now anyone');
    assert.equal(await a.expect('TOPIC'), `:bob!bob@${G} TOPIC #tt :now anyone`);
  });

  test('long topics are clipped to TOPICLEN bytes at a UTF-8 boundary', async () => {
    const a = await client('alice');
    await join(a, '#long');
    const text = 'a' + 'é'.repeat(239); // 479 bytes; byte 390 falls inside an 'é'
    a.send(`TOPIC #long :${text}`);
    const relayed = (await a.expectMsg('TOPIC')).params[1]!;
    assert.equal(relayed, 'a' + 'é'.repeat(194));
    assert.equal(Buffer.byteLength(relayed), 389);
    a.send('TOPIC #long');
    assert.equal(await a.expect('332'), `:irc.test 332 alice #long ${relayed}`);
  });

  test('TOPIC #c : clears the topic', async () => {
    const a = await client('alice');
    await join(a, '#clr');
    a.send('TOPIC #clr :something');
    await a.expect('TOPIC');
    a.send('TOPIC #clr :');
    assert.equal(await a.expect('TOPIC'), `:${A} TOPIC #clr :`);
    a.send('TOPIC #clr');
    assert.equal(await a.expect('331'), ':irc.test 331 alice #clr :No topic is set');
  });
});

describe('NAMES', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); ({ G, A } = suiteMasks(srv)); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('no argument: only 366 with *; unknown channel: only 366', async () => {
    const a = await client('alice');
    await join(a, '#n0');
    a.send('NAMES');
    assert.deepEqual(await a.collectUntil('366'), [':irc.test 366 alice * :End of /NAMES list']);
    a.send('NAMES #missing');
    assert.deepEqual(await a.collectUntil('366'), [':irc.test 366 alice #missing :End of /NAMES list']);
  });

  test('multi-prefix and userhost-in-names', async () => {
    const a = await client('alice');
    const mp = await client('mp', ['multi-prefix']);
    const uh = await client('uh', ['userhost-in-names']);
    await join(a, '#np');
    await chanMode(a, '#np', '+v alice');
    a.send('NAMES #np');
    assert.equal(await a.expect('353'), ':irc.test 353 alice = #np @alice');
    mp.send('NAMES #np');
    assert.equal(await mp.expect('353'), ':irc.test 353 mp = #np @+alice');
    uh.send('NAMES #np');
    assert.equal(await uh.expect('353'), `:irc.test 353 uh = #np @${A}`);
  });

  test('several channels in one NAMES', async () => {
    const a = await client('alice');
    await join(a, '#m1');
    await join(a, '#m2');
    a.send('NAMES #m1,#m2');
    assert.deepEqual(await a.collectUntil((l) => l.includes(' 366 alice #m2 ')), [
      ':irc.test 353 alice = #m1 @alice',
      ':irc.test 366 alice #m1 :End of /NAMES list',
      ':irc.test 353 alice = #m2 @alice',
      ':irc.test 366 alice #m2 :End of /NAMES list',
    ]);
  });

  test('+s and +p channels show only 366 to outsiders; members see the channel symbol', async () => {
    const a = await client('alice');
    const c = await client('carol');
    await join(a, '#hs');
    await join(a, '#hp');
    await chanMode(a, '#hs', '+s');
    await chanMode(a, '#hp', '+p');
    c.send('NAMES #hs');
    assert.deepEqual(await c.collectUntil('366'), [':irc.test 366 carol #hs :End of /NAMES list']);
    c.send('NAMES #hp');
    assert.deepEqual(await c.collectUntil('366'), [':irc.test 366 carol #hp :End of /NAMES list']);
    a.send('NAMES #hs');
    assert.equal(await a.expect('353'), ':irc.test 353 alice @ #hs @alice');
    a.send('NAMES #hp');
    assert.equal(await a.expect('353'), ':irc.test 353 alice * #hp @alice');
  });

  test('353 lines stay within 512 bytes with a multi-byte channel name', async () => {
    const chan = '#' + '€'.repeat(21); // 64 bytes, 22 UTF-16 units
    // sized so that counting UTF-16 units instead of bytes would make one 541-byte line
    const q = await client('q');
    await join(q, chan);
    const nicks = Array.from({ length: 8 }, (_, i) => `n${i}`.padEnd(i === 0 ? 55 : 56, 'x'));
    for (const n of nicks) await join(await client(n), chan);
    q.send(`NAMES ${chan}`);
    const lines = (await q.collectUntil('366')).filter((l) => l.split(' ')[1] === '353');
    assert.ok(lines.length >= 2, 'split over several 353 lines');
    for (const l of lines) assert.ok(Buffer.byteLength(l) + 2 <= 512, `353 of ${Buffer.byteLength(l)} bytes`);
    const seen = lines.flatMap((l) => parse(l).params[3]!.split(' '));
    assert.deepEqual(seen, ['@q', ...nicks]);
  });

  test('invisible users are hidden from non-members only', async () => {
    const a = await client('alice');
    const b = await client('bob');
    const c = await client('carol');
    await join(a, '#iv');
    await join(b, '#iv');
    await userMode(b, '+i');
    c.send('NAMES #iv');
    assert.equal(await c.expect('353'), ':irc.test 353 carol = #iv @alice');
    a.send('NAMES #iv');
    assert.equal(await a.expect('353'), ':irc.test 353 alice = #iv :@alice bob');
  });
});

describe('LIST', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); ({ G, A } = suiteMasks(srv)); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('321 / 322 / 323 with modes and topic', async () => {
    const a = await client('alice');
    await join(a, '#l1');
    await join(a, '#l2');
    a.send('TOPIC #l2 :the topic');
    await a.expect('TOPIC');
    await chanMode(a, '#l2', '+k sekrit');
    a.send('LIST #l1,#l2');
    assert.deepEqual(await a.collectUntil('323'), [
      ':irc.test 321 alice Channel :Users  Name',
      ':irc.test 322 alice #l1 1 [+nt]',
      ':irc.test 322 alice #l2 1 :[+ntk] the topic',
      ':irc.test 323 alice :End of /LIST',
    ]);
  });

  test('+s and +p channels are listed only to members', async () => {
    const a = await client('alice');
    const c = await client('carol');
    await join(a, '#ls1'); await join(a, '#ls2'); await join(a, '#ls3');
    await chanMode(a, '#ls1', '+s');
    await chanMode(a, '#ls2', '+p');
    c.send('LIST #ls*');
    assert.deepEqual(await between(c, '321', '323'), [':irc.test 322 carol #ls3 1 [+nt]']);
    a.send('LIST #ls*');
    assert.deepEqual(await between(a, '321', '323'), [
      ':irc.test 322 alice #ls1 1 [+nst]',
      ':irc.test 322 alice #ls2 1 [+npt]',
      ':irc.test 322 alice #ls3 1 [+nt]',
    ]);
  });

  test('ELIST U: >n and <n on the user count', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#u1'); await join(a, '#u2'); await join(b, '#u2');
    a.send('LIST #u*,>1');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #u2 2 [+nt]']);
    a.send('LIST #u* <2');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #u1 1 [+nt]']);
    a.send('LIST #u*,>0,<3');
    assert.equal((await between(a, '321', '323')).length, 2);
  });

  test('ELIST M and N: masks, negated masks, several names', async () => {
    const a = await client('alice');
    for (const n of ['#mfoo', '#mbar', '#mfoobar']) await join(a, n);
    a.send('LIST *foo*');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #mfoo 1 [+nt]', ':irc.test 322 alice #mfoobar 1 [+nt]']);
    a.send('LIST #m*,!*bar*');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #mfoo 1 [+nt]']);
    a.send('LIST #MBAR,#mfoo');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #mfoo 1 [+nt]', ':irc.test 322 alice #mbar 1 [+nt]']);
  });

  test('ELIST C: channel creation time in minutes', async () => {
    const a = await client('alice');
    await join(a, '#cold'); await join(a, '#cnew');
    srv.server.context.world.findChannel('#cold')!.createdAt -= 30 * 60_000; // created 30 minutes ago
    a.send('LIST #c*,C>10');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #cold 1 [+nt]']);
    a.send('LIST #c*,C<10');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #cnew 1 [+nt]']);
    a.send('LIST #c*,C<60,C>10');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #cold 1 [+nt]']);
  });

  test('ELIST T: topic age in minutes; channels without a topic never match', async () => {
    const a = await client('alice');
    for (const n of ['#told', '#tnew', '#tnone']) await join(a, n);
    a.send('TOPIC #told :old', 'TOPIC #tnew :new');
    await a.expect((l) => l.includes('TOPIC #tnew'));
    srv.server.context.world.findChannel('#told')!.topic!.setAt -= 30 * 60_000;
    a.send('LIST #t*,T>10');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #told 1 :[+nt] old']);
    a.send('LIST #t*,T<10');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #tnew 1 :[+nt] new']);
  });

  test('unparseable filters are ignored', async () => {
    const a = await client('alice');
    await join(a, '#junk');
    a.send('LIST #junk,>x,C<,!');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #junk 1 [+nt]']);
  });
});
