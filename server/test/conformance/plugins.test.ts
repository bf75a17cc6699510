import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { foldCase } from '../../src/protocol/casemap.js';
import { cryptoResponse, ed25519Signer, readChallenge, responseLines, startSasl, type Signer } from './sasl-helpers.js';
import type { AdmissionServer } from './admission-helpers.js';
import type { RawClient } from '../harness/raw-client.js';
import { bootWithPlugins, hooks } from './plugins-helpers.js';

// Plugins (plugins/, docs/plugins.md): each hook over real sockets through the production wiring.

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** SASL ATPROTO-CHALLENGE (crypto, did:key) → the 900 line; registration completes after CAP END. */
async function saslLogin(srv: AdmissionServer, nick: string, s: Signer): Promise<{ c: RawClient; loggedIn: string }> {
  const c = await srv.connect();
  await startSasl(c, nick);
  c.send('AUTHENTICATE ATPROTO-CHALLENGE');
  c.send(...responseLines(await cryptoResponse(s, await readChallenge(c))));
  const loggedIn = await c.expect(' 900 ');
  await c.expect(' 903 ');
  c.send('CAP END');
  await c.expect(/ (376|422) /);
  c.nick = nick;
  return { c, loggedIn };
}

describe('plugins: the five hooks', () => {
  let srv: AdmissionServer;
  const signer = ed25519Signer();
  before(async () => {
    srv = await bootWithPlugins({
      plugin: ['test-recorder:display=shown.example', 'word-filter:words=darn|heck,action=mask', 'greeter:message=Hello {nick} and welcome to {channel},channels=#lobby'],
      'oper-dids': signer.did,
    });
  });
  after(async () => { await srv.stop(); });

  test('onConnect: every accepted connection, with its address and transport', async () => {
    const before = hooks('onConnect').length;
    await srv.client('conny');
    await until(() => hooks('onConnect').length === before + 1, 'onConnect');
    const e = hooks('onConnect').at(-1)!;
    assert.equal(e.ip, '127.0.0.1');
    assert.equal(e.transport, 'tcp');
    assert.equal(typeof e.sessionId, 'number');
  });

  test('onJoin: the greeter NOTICEs the joining user after JOIN and NAMES, only in its channels', async () => {
    const a = await srv.client('greta');
    a.send('JOIN #lobby');
    const lines = await a.collectUntil(' 366 ');
    assert.match(lines[0]!, /^:greta!\S+ JOIN #lobby$/);
    assert.equal(await a.expect('NOTICE'), ':irc.test NOTICE greta :Hello greta and welcome to #lobby');
    a.send('JOIN #elsewhere');
    await a.expect(' 366 ');
    await a.expectNone('NOTICE', 300);
    const joins = hooks('onJoin').filter((e) => e.nick === 'greta');
    assert.deepEqual(joins.map((e) => [e.channel, e.created]), [['#lobby', true], ['#elsewhere', true]]);
    const b = await srv.client('gus');
    b.send('JOIN #lobby');
    await b.expect(' 366 ');
    assert.equal(await b.expect('NOTICE'), ':irc.test NOTICE gus :Hello gus and welcome to #lobby');
    assert.equal(hooks('onJoin').at(-1)!.created, false, 'second member: not created');
    // the other member does not get gus's greeting
    await a.expectNone('Hello gus', 200);
  });

  test('onMessage: the word filter masks whole words case-insensitively; other text passes unchanged', async () => {
    const a = await srv.client('wanda');
    const b = await srv.client('walt');
    a.send('JOIN #words'); await a.expect(' 366 ');
    b.send('JOIN #words'); await b.expect(' 366 ');
    a.send('PRIVMSG #words :well darn it, HECK!');
    assert.match(await b.expect('PRIVMSG'), /^(@\S+ )?:wanda!\S+ PRIVMSG #words :well \*\*\*\* it, \*\*\*\*!$/);
    a.send('PRIVMSG #words :darned darnit heckler');
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG #words :darned darnit heckler$/);
    // private messages too; the recorder (first in order) saw the original text
    a.send('PRIVMSG walt :oh heck');
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG walt :oh \*\*\*\*$/);
    const seen = hooks('onMessage').filter((e) => e.nick === 'wanda').map((e) => e.text);
    assert.deepEqual(seen, ['well darn it, HECK!', 'darned darnit heckler', 'oh heck']);
  });

  test('onNickChange: old and new nick', async () => {
    const a = await srv.client('nico');
    a.send('NICK nicola');
    await a.expect(/ NICK :?nicola$/);
    await until(() => hooks('onNickChange').some((e) => e.newNick === 'nicola'), 'onNickChange');
    assert.deepEqual(hooks('onNickChange').find((e) => e.newNick === 'nicola'), { oldNick: 'nico', newNick: 'nicola', account: undefined });
  });

  test('onAuth changes the displayed handle only: WHOIS 330 shows the DID, authorization uses the DID', async () => {
    const { c, loggedIn } = await saslLogin(srv, 'dora', signer);
    assert.ok(loggedIn.endsWith(`${signer.did} :You are now logged in as shown.example`), loggedIn);
    const auth = hooks('onAuth').at(-1)!;
    assert.equal(auth.did, signer.did);
    assert.equal(auth.nick, 'dora');
    // the account is still the DID
    const u = srv.server.context.world.nicks.get(foldCase('dora'))!;
    assert.equal(u.account, signer.did);
    assert.equal(u.handle, 'shown.example');
    c.send('WHOIS dora');
    const whois = await c.collectUntil(' 318 ');
    assert.ok(whois.some((l) => l === `:irc.test 330 dora dora ${signer.did} :is logged in as`), whois.join('\n'));
    assert.ok(whois.some((l) => l.includes(' 671 dora dora :is using AT Protocol handle shown.example')), whois.join('\n'));
    // oper-dids names the DID: the login made dora an operator
    assert.ok(whois.some((l) => / 313 dora dora /.test(l)), 'oper via DID');
    // founder by DID: dora creates #dorahome, leaves; a guest cannot take it; dora gets +o back on rejoin
    c.send('JOIN #dorahome'); await c.expect(' 366 ');
    c.send('PART #dorahome'); await c.expect(' PART ');
    const g = await srv.client('guesty');
    g.send('JOIN #dorahome');
    const names = await g.collectUntil(' 366 ');
    assert.ok(names.some((l) => / 353 guesty = #dorahome :?guesty$/.test(l)), names.join('\n'));
    c.send('JOIN #dorahome');
    const again = await c.collectUntil(' 366 ');
    assert.ok(again.some((l) => / 353 dora = #dorahome :.*@dora/.test(l)), again.join('\n'));
  });
});

describe('plugins: a failing plugin is contained', () => {
  let srv: AdmissionServer;
  before(async () => {
    srv = await bootWithPlugins({ plugin: ['test-thrower', 'word-filter:words=darn', 'test-bad-result'], 'plugin-max-strikes': 1000 });
  });
  after(async () => { await srv.stop(); });

  test('hooks that throw are logged and skipped; other plugins and clients carry on', async () => {
    const a = await srv.client('tina');
    const b = await srv.client('tom');
    a.send('JOIN #t'); await a.expect(' 366 ');
    b.send('JOIN #t'); await b.expect(' 366 ');
    a.send('PRIVMSG #t :darn');
    // the thrower is skipped, the word filter still runs, the CRLF rewrite is refused
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG #t :?\*\*\*\*$/);
    a.send('NICK tina2');
    await b.expect(/ NICK :?tina2$/);
    const c = await srv.client('late');
    c.send('PING :alive');
    assert.match(await c.expect('PONG'), / :?alive$/);
    await b.expectNone(/QUIT|injected/, 200);
    const logs = srv.logs();
    for (const hook of ['onConnect', 'onJoin', 'onMessage', 'onNickChange']) {
      assert.ok(logs.includes(`"hook":"${hook}"`) && logs.includes('plugin hook threw: skipped'), `${hook} failure logged`);
    }
    assert.match(logs, /"plugin":"test-bad-result".*invalid result/);
    assert.ok(await srv.limitHits('plugin-error') >= 7, 'errors counted');
  });

  test('after plugin-max-strikes consecutive errors a plugin is disabled', async () => {
    const s2 = await bootWithPlugins({ plugin: ['test-thrower'], 'plugin-max-strikes': 3 });
    try {
      for (const n of ['s1', 's2', 's3', 's4', 's5']) await s2.client(n);
      assert.equal(await s2.limitHits('plugin-error'), 3, 'no calls after it was disabled');
      assert.match(s2.logs(), /"level":50.*"plugin":"test-thrower".*plugin disabled after repeated errors/);
    } finally {
      await s2.stop();
    }
  });
});

describe('plugins: time budget', () => {
  let srv: AdmissionServer;
  before(async () => {
    srv = await bootWithPlugins({ plugin: ['test-slow:ms=60'], 'plugin-hook-budget': '20ms', 'plugin-max-strikes': 2 });
  });
  after(async () => { await srv.stop(); });

  test('a hook over its budget is logged and counted; repeated overruns disable the plugin', async () => {
    const a = await srv.client('sly');
    const b = await srv.client('sam');
    a.send('PRIVMSG sam :first');
    // the time is already spent when the overrun is noticed: the result is still used
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG sam :?SLOW$/);
    assert.equal(await srv.limitHits('plugin-overrun'), 1);
    assert.match(srv.logs(), /"level":40.*"plugin":"test-slow".*"budgetMs":20.*exceeded its time budget/);
    assert.doesNotMatch(srv.logs(), /plugin disabled/);
    a.send('PRIVMSG sam :second');
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG sam :?SLOW$/);
    assert.match(srv.logs(), /"level":50.*"plugin":"test-slow".*plugin disabled after repeated errors or overruns/);
    const t0 = performance.now();
    a.send('PRIVMSG sam :third');
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG sam :?third$/, 'the disabled plugin is skipped');
    assert.ok(performance.now() - t0 < 55, 'and no longer costs time');
    assert.equal(await srv.limitHits('plugin-overrun'), 2);
  });
});

describe('plugins: suppress', () => {
  let srv: AdmissionServer;
  before(async () => {
    srv = await bootWithPlugins({ plugin: ['word-filter:words=secret,action=suppress,notice=Not delivered: filtered word,channels=#quiet'] });
  });
  after(async () => { await srv.stop(); });

  test('a suppressed message reaches nobody; the sender gets the configured notice; other channels unaffected', async () => {
    const a = await srv.client('sue');
    const b = await srv.client('sid');
    for (const c of [a, b]) { c.send('JOIN #quiet,#loud'); await c.expect(/ 366 \S+ #loud /); }
    a.send('PRIVMSG #quiet :the Secret plan');
    assert.equal(await a.expect('NOTICE'), ':irc.test NOTICE sue :Not delivered: filtered word');
    a.send('PRIVMSG #loud :the secret plan', 'PRIVMSG #quiet :fine');
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG #loud :the secret plan$/);
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG #quiet :?fine$/);
    assert.ok(!b.received.some((l) => l.includes('Secret plan')), 'never delivered');
  });
});
