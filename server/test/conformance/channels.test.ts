import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { between, chanMode, join, suiteMasks, tracked } from './channels-helpers.js';

/** guest cloak of the current suite's server and the alice/bob masks built from it (set in each `before`) */
let G = '';
let A = '';
let B = '';

describe('JOIN', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); ({ G, A, B } = suiteMasks(srv)); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('creating a channel: JOIN echo, creator is @ in NAMES, no topic lines', async () => {
    const a = await client('alice');
    a.send('JOIN #new');
    const lines = await a.collectUntil('366');
    assert.deepEqual(lines, [
      `:${A} JOIN #new`,
      ':irc.test 353 alice = #new @alice',
      ':irc.test 366 alice #new :End of /NAMES list',
    ]);
    const b = await client('bob');
    b.send('JOIN #NEW');
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #new`, 'the channel keeps its original case');
    assert.equal(await b.expect('353'), ':irc.test 353 bob = #new :@alice bob');
    assert.equal(await a.expect('JOIN'), `:${B} JOIN #new`);
    b.send('JOIN #new');
    await b.expectNone('JOIN', 200); // already there: silently ignored
  });

  test('topic is sent on join', async () => {
    const a = await client('alice');
    await join(a, '#jt');
    a.send('TOPIC #jt :hello there');
    await a.expect('TOPIC');
    const b = await client('bob');
    b.send('JOIN #jt');
    const lines = await b.collectUntil('366');
    assert.equal(lines[1], ':irc.test 332 bob #jt :hello there');
    assert.match(lines[2]!, new RegExp(`^:irc\\.test 333 bob #jt ${A.replace(/[.]/g, '\\.')} \\d+$`));
  });

  test('keys: JOIN #a,#b key1,key2 and 475 on a wrong key', async () => {
    const a = await client('alice');
    await join(a, '#ka');
    await join(a, '#kb');
    await chanMode(a, '#ka', '+k key1');
    await chanMode(a, '#kb', '+k key2');
    const b = await client('bob');
    b.send('JOIN #ka,#kb nope,key2');
    assert.equal(await b.expect('475'), ':irc.test 475 bob #ka :Cannot join channel (+k)');
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #kb`);
    b.send('PART #kb', 'JOIN #kb');
    assert.equal(await b.expect('475'), ':irc.test 475 bob #kb :Cannot join channel (+k)');
    b.send('JOIN #ka,#kb key1,key2');
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #ka`);
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #kb`);
  });

  test('JOIN 0 parts every channel', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#z1'); await join(a, '#z2');
    await join(b, '#z1'); await join(b, '#z2');
    b.send('JOIN 0');
    assert.equal(await b.expect('PART'), `:${B} PART #z1 :Left all channels`);
    assert.equal(await b.expect('PART'), `:${B} PART #z2 :Left all channels`);
    assert.equal(await a.expect('PART'), `:${B} PART #z1 :Left all channels`);
    b.send('NAMES #z1');
    assert.equal(await b.expect('353'), ':irc.test 353 bob = #z1 @alice');
  });

  test('403 for a name without #, 476 for bad or over-long names', async () => {
    const a = await client('alice');
    a.send('JOIN foo');
    assert.equal(await a.expect('403'), ':irc.test 403 alice foo :No such channel');
    a.send('JOIN #a:b');
    assert.equal(await a.expect('476'), ':irc.test 476 alice #a:b :Bad Channel Mask');
    a.send('JOIN #');
    assert.equal(await a.expect('476'), ':irc.test 476 alice # :Bad Channel Mask');
    const long = '#' + 'x'.repeat(64); // 65 bytes > CHANNELLEN=64
    a.send(`JOIN ${long}`);
    assert.equal(await a.expect('476'), `:irc.test 476 alice ${long} :Bad Channel Mask`);
    a.send(`JOIN ${long.slice(0, 64)}`);
    assert.equal(await a.expect('JOIN'), `:${A} JOIN ${long.slice(0, 64)}`);
  });

  test('471 when +l is reached', async () => {
    const a = await client('alice');
    await join(a, '#full');
    await chanMode(a, '#full', '+l 1');
    const b = await client('bob');
    b.send('JOIN #full');
    assert.equal(await b.expect('471'), ':irc.test 471 bob #full :Cannot join channel (+l)');
  });

  test('473 on +i; +I invex lets a matching user in', async () => {
    const a = await client('alice');
    await join(a, '#inv');
    await chanMode(a, '#inv', '+i');
    const b = await client('bob');
    b.send('JOIN #inv');
    assert.equal(await b.expect('473'), ':irc.test 473 bob #inv :Cannot join channel (+i)');
    await chanMode(a, '#inv', '+I bob!*@*');
    b.send('JOIN #inv');
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #inv`);
    const c = await client('carol');
    c.send('JOIN #inv');
    assert.equal(await c.expect('473'), ':irc.test 473 carol #inv :Cannot join channel (+i)');
  });

  test('474 for a cloaked-host ban and for a real-IP ban; +e overrides', async () => {
    const a = await client('alice');
    await join(a, '#ban1');
    await join(a, '#ban2');
    await chanMode(a, '#ban1', `+b *!*@${G}`);
    await chanMode(a, '#ban2', '+b *!*@127.0.0.1');
    const b = await client('bob');
    b.send('JOIN #ban1');
    assert.equal(await b.expect('474'), ':irc.test 474 bob #ban1 :Cannot join channel (+b)');
    b.send('JOIN #ban2');
    assert.equal(await b.expect('474'), ':irc.test 474 bob #ban2 :Cannot join channel (+b)');
    await chanMode(a, '#ban1', '+e bob!*@*');
    b.send('JOIN #ban1');
    assert.equal(await b.expect('JOIN'), `:${B} JOIN #ban1`);
  });
});

describe('JOIN with max-channels 2', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'max-channels': 2 }); ({ G, A, B } = suiteMasks(srv)); });
  after(async () => { await srv.stop(); });

  test('405 after the limit; parting frees a slot', async () => {
    const c = await srv.client('carol');
    c.send('JOIN #c1,#c2,#c3');
    assert.equal(await c.expect('405'), ':irc.test 405 carol #c3 :You have joined too many channels');
    c.send('PART #c1', 'JOIN #c3');
    assert.equal(await c.expect('JOIN'), `:carol!carol@${G} JOIN #c3`);
  });
});

describe('PART', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); ({ G, A, B } = suiteMasks(srv)); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('with a reason: everyone on the channel sees it', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#p');
    await join(b, '#p');
    b.send('PART #p :see you later');
    assert.equal(await a.expect('PART'), `:${B} PART #p :see you later`);
    assert.equal(await b.expect('PART'), `:${B} PART #p :see you later`);
    a.send('NAMES #p');
    assert.equal(await a.expect('353'), ':irc.test 353 alice = #p @alice');
  });

  test('without a reason, and several channels at once', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#pm1'); await join(a, '#pm2');
    await join(b, '#pm1'); await join(b, '#pm2');
    b.send('PART #pm1,#pm2');
    assert.equal(await b.expect('PART'), `:${B} PART #pm1`);
    assert.equal(await b.expect('PART'), `:${B} PART #pm2`);
    assert.equal(await a.expect('PART'), `:${B} PART #pm1`);
    assert.equal(await a.expect('PART'), `:${B} PART #pm2`);
  });

  test('442 when not on the channel, 403 when it does not exist; the rest still applies', async () => {
    const a = await client('alice');
    const b = await client('bob');
    await join(a, '#pe');
    await join(b, '#pf');
    b.send('PART #pe,#nowhere,#pf');
    assert.equal(await b.expect('442'), ":irc.test 442 bob #pe :You're not on that channel");
    assert.equal(await b.expect('403'), ':irc.test 403 bob #nowhere :No such channel');
    assert.equal(await b.expect('PART'), `:${B} PART #pf`);
  });

  test('an empty default channel disappears; one with a topic persists', async () => {
    const a = await client('alice');
    await join(a, '#gone');
    await join(a, '#kept');
    a.send('TOPIC #kept :still here');
    await a.expect('TOPIC');
    a.send('PART #gone,#kept');
    await a.expect((l) => l.includes('PART #kept'));
    a.send('LIST #gone,#kept');
    assert.deepEqual(await between(a, '321', '323'), [':irc.test 322 alice #kept 0 :[+nt] still here']);
    // the persisted channel is re-founded by the next joiner
    const b = await client('bob');
    b.send('JOIN #kept');
    assert.equal(await b.expect('332'), ':irc.test 332 bob #kept :still here');
    assert.equal(await b.expect('353'), ':irc.test 353 bob = #kept @bob');
  });
});
