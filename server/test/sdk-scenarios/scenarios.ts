/**
 * The SDK's integration scenarios (#15), written once against its public API and run against a
 * real server in Node (test/unit/sdk/scenarios-node.test.ts: the Node client over ws:// and
 * irc://) and in a browser (test/browser/sdk-browser.test.ts: the browser client in headless
 * Chromium over the platform WebSocket). A scenario gets a client factory for its environment,
 * the server's URL, and the server side's operations (control.ts), which always run in Node.
 * Nothing here imports from Node or from an SDK entry (the entry is the caller's): from the SDK
 * only what both entries export (sdk/src/common.ts).
 */
import {
  ed25519Signer, generateSecretKey,
  type CryptoSasl, type FreeqClientBaseOptions, type FreeqClientCore, type HistoryMessage, type Signer,
} from '../../../sdk/src/common.js';
import { deepEqual, equal, eventually, match, ok, rejects, sleep, until } from './check.js';
import type { ServerControl } from './control.js';

export interface ScenarioContext {
  /** the URL the clients of this run connect to (ws://…/irc, or irc://… for Node's TCP run) */
  url: string;
  /** a new client of this environment, not connected yet (destroyed after the scenario) */
  client(options: FreeqClientBaseOptions): FreeqClientCore;
  server: ServerControl;
}

export interface Scenario {
  name: string;
  /** server options (bootServer's, on top of the test defaults) */
  serverOptions?: Record<string, unknown>;
  run(ctx: ScenarioContext): Promise<void>;
}

/** what both environments provide to run a scenario */
export interface ScenarioEnv {
  url: string;
  makeClient(options: FreeqClientBaseOptions): FreeqClientCore;
  server: ServerControl;
}

/** a client of the run, connected (registered) */
async function connected(ctx: ScenarioContext, nick: string, extra: Partial<FreeqClientBaseOptions> = {}): Promise<FreeqClientCore> {
  const c = ctx.client({ url: ctx.url, nick, ...extra });
  await c.connect();
  return c;
}

/** `c` joins `channel`; resolves on its own JOIN */
async function joined(c: FreeqClientCore, channel: string): Promise<void> {
  const j = until(c, 'join', (ev) => ev.self && ev.channel === channel);
  c.join(channel);
  await j;
}

const texts = (ms: HistoryMessage[]): string[] => ms.map((m) => m.text);

/** capabilities the SDK asks for by default that the scenarios rely on (this server offers them all) */
const NEEDED_CAPS = ['account-tag', 'batch', 'draft/chathistory', 'extended-join', 'labeled-response', 'message-tags', 'server-time'];

export const scenarios: Scenario[] = [
  {
    name: 'registers with the default capabilities; a taken nick is retried; quit() closes',
    async run(ctx) {
      const a = ctx.client({ url: ctx.url, nick: 'reggie' });
      const registered = until(a, 'registered');
      await a.connect();
      const [info] = await registered;
      equal(info.nick, 'reggie');
      ok(info.server.length > 0, 'the registered event names the server');
      equal(a.registered, true);
      equal(a.connected, true);
      for (const cap of NEEDED_CAPS) ok(a.enabledCaps.has(cap), `${cap} enabled by default`);
      for (const cap of a.enabledCaps) ok(a.serverCaps.has(cap), `${cap} enabled, and offered by the server`);
      ok(!a.enabledCaps.has('echo-message'), 'echo-message is not asked for by default');
      const b = await connected(ctx, 'reggie', { caps: ['server-time'] });
      equal(b.nick, 'reggie_', 'the SDK answers 433 with another nick');
      deepEqual([...b.enabledCaps], ['server-time']);
      const closed = until(a, 'close');
      await a.quit('done here');
      const [ev] = await closed;
      equal(ev.error, undefined, 'a quit is no error');
      equal(a.connected, false);
      equal(b.connected, true);
    },
  },
  {
    name: 'joins and talks both ways with a plain IRC client and another SDK client: channel, private, notice, part',
    async run(ctx) {
      const web = await connected(ctx, 'webby');
      const selfJoin = until(web, 'join', (ev) => ev.self);
      web.join('#web');
      const [j] = await selfJoin;
      deepEqual([j.nick, j.channel, j.account], ['webby', '#web', null], 'its own JOIN, as a guest (extended-join)');

      await ctx.server.peerConnect('nody');
      const peerJoin = until(web, 'join', (ev) => !ev.self);
      await ctx.server.peerSend('nody', 'JOIN #web');
      const [pj] = await peerJoin;
      deepEqual([pj.nick, pj.channel, pj.self], ['nody', '#web', false]);
      match(pj.source, /^nody!/);

      const heard = until(web, 'message', (m) => m.target === '#web');
      await ctx.server.peerSend('nody', 'PRIVMSG #web :hello sdk');
      const [m] = await heard;
      deepEqual([m.from, m.target, m.text, m.isChannel], ['nody', '#web', 'hello sdk', true]);
      ok(m.tags.msgid, 'a msgid tag (message-tags)');
      match(m.tags.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'a time tag (server-time)');
      web.privmsg('#web', 'hello irc');
      await ctx.server.peerExpect('nody', /^:webby!\S+ PRIVMSG #web :hello irc$/);

      const dm = until(web, 'message', (msg) => !msg.isChannel);
      await ctx.server.peerSend('nody', 'PRIVMSG webby :psst');
      const [d] = await dm;
      deepEqual([d.from, d.target, d.text], ['nody', 'webby', 'psst']);
      web.privmsg('nody', 'psst back');
      await ctx.server.peerExpect('nody', /^:webby!\S+ PRIVMSG nody :psst back$/);

      const note = until(web, 'notice', (n) => n.from === 'nody');
      await ctx.server.peerSend('nody', 'NOTICE #web :a notice');
      const [n] = await note;
      deepEqual([n.target, n.text, n.isChannel], ['#web', 'a notice', true]);
      web.notice('#web', 'a notice back');
      await ctx.server.peerExpect('nody', /^:webby!\S+ NOTICE #web :a notice back$/);

      // two clients of the SDK, both ways
      const other = await connected(ctx, 'webtoo');
      await joined(other, '#web');
      const toOther = until(other, 'message', (msg) => msg.from === 'webby');
      web.privmsg('#web', 'between two sdks');
      deepEqual((await toOther)[0].text, 'between two sdks');
      const toWeb = until(web, 'message', (msg) => msg.from === 'webtoo');
      other.privmsg('webby', 'and back');
      const [back] = await toWeb;
      deepEqual([back.target, back.text, back.isChannel], ['webby', 'and back', false]);

      const parted = until(web, 'part', (ev) => ev.self);
      const seenPart = until(other, 'part', (ev) => ev.nick === 'webby');
      web.part('#web', 'bye now');
      const [p] = await parted;
      deepEqual([p.nick, p.channel, p.reason], ['webby', '#web', 'bye now']);
      equal((await seenPart)[0].self, false);
      await ctx.server.peerExpect('nody', /^:webby!\S+ PART #web :bye now$/);
    },
  },
  {
    name: 'logs in with SASL ATPROTO-CHALLENGE (crypto, a did:key): the account in joins and tags; private history between accounts',
    async run(ctx) {
      const aliceKey = ed25519Signer(generateSecretKey('ed25519'));
      const bobKey = ed25519Signer(generateSecretKey('ed25519'));
      const login = (signer: Signer, sign: Signer = signer): CryptoSasl => ({ mechanism: 'ATPROTO-CHALLENGE', method: 'crypto', did: signer.did, sign });
      const alice = ctx.client({ url: ctx.url, nick: 'alice', sasl: login(aliceKey), requireSasl: true });
      const authenticated = until(alice, 'authenticated');
      await alice.connect();
      deepEqual(await authenticated, [aliceKey.did]);
      equal(alice.did, aliceKey.did);
      ok(alice.enabledCaps.has('sasl'));
      const bob = await connected(ctx, 'bob', { sasl: login(bobKey), requireSasl: true });
      equal(bob.did, bobKey.did);

      await joined(alice, '#acct');
      const bobJoins = until(alice, 'join', (ev) => ev.nick === 'bob');
      await joined(bob, '#acct');
      equal((await bobJoins)[0].account, bobKey.did, 'extended-join: the DID');
      const said = until(bob, 'message', (m) => m.text === 'signed in');
      alice.privmsg('#acct', 'signed in');
      equal((await said)[0].tags.account, aliceKey.did, 'account-tag: the DID');

      const dm = until(bob, 'message', (m) => m.text === 'just for you');
      alice.privmsg('bob', 'just for you');
      await dm;
      const priv = await eventually(() => bob.history('alice'), (ms) => ms.length > 0, 'the private message stored');
      deepEqual(priv.map((m) => [m.from, m.target, m.text]), [['alice', 'bob', 'just for you']]);
      const targets = await bob.historyTargets('1970-01-01T00:00:00.000Z', new Date(Date.now() + 60_000).toISOString());
      deepEqual(targets.map((t) => t.target).sort(), ['#acct', 'alice']);

      // a wrong key: requireSasl makes connect() reject, and the client does not stay
      const mallory = ctx.client({ url: ctx.url, nick: 'mallory', sasl: login(aliceKey, bobKey), requireSasl: true });
      const failed = until(mallory, 'authFailed');
      await rejects(mallory.connect(), /SASL authentication failed/);
      match((await failed)[0], /^90[4-7]$/);
      equal(mallory.registered, false);
    },
  },
  {
    name: 'labeled requests resolve with their own answer: one line, an ACK, a batch, an error numeric',
    async run(ctx) {
      const c = await connected(ctx, 'asker');
      const pong = await c.request('PING', ['are-you-there']);
      deepEqual(pong.map((m) => [m.command, m.params.at(-1)]), [['PONG', 'are-you-there']]);
      // several in flight at once: each resolves with the answer carrying its label
      const many = await Promise.all(['one', 'two', 'three'].map((t) => c.request('PING', [t])));
      deepEqual(many.map((ls) => ls.map((m) => m.params.at(-1))), [['one'], ['two'], ['three']]);
      await joined(c, '#q');
      // a PRIVMSG to a channel (no echo-message) is answered by an ACK: no lines
      deepEqual(await c.request('PRIVMSG', ['#q', 'labeled']), []);
      // NAMES answers with two lines: a labeled-response batch, whole and in order
      const names = await c.request('NAMES', ['#q']);
      deepEqual(names.map((m) => m.command), ['353', '366']);
      match(names[0]!.params.at(-1) ?? '', /(^|\s)@?asker$/);
      const unknown = await c.request('FROBNICATE', ['x']);
      deepEqual(unknown.map((m) => m.command), ['421']);
      // without labeled-response the request API refuses (nothing would tell the answer apart)
      const plain = await connected(ctx, 'plain', { caps: ['batch'] });
      await rejects(plain.request('PING', ['x']), /labeled-response/);
      // a closed connection fails what is pending
      const pending = c.request('PING', ['never']);
      c.destroy();
      await rejects(pending, /connection closed/);
    },
  },
  {
    name: 'CHATHISTORY helpers: latest, before/after/around a msgid, paging back by msgid, targets; a FAIL rejects',
    async run(ctx) {
      const alice = await connected(ctx, 'alice');
      await joined(alice, '#h');
      for (let i = 1; i <= 6; i++) alice.privmsg('#h', `line ${i}`);
      const bob = await connected(ctx, 'bob');
      const live: string[] = [];
      bob.on('message', (m) => live.push(m.text));
      await joined(bob, '#h');
      const latest = await eventually(() => bob.history('#h', { limit: 3 }), (ms) => ms.at(-1)?.text === 'line 6', 'the six lines stored');
      deepEqual(texts(latest), ['line 4', 'line 5', 'line 6'], 'the latest three, oldest first');
      for (const m of latest) {
        deepEqual([m.command, m.from, m.target], ['PRIVMSG', 'alice', '#h']);
        match(m.source, /^alice!/);
        ok(m.msgid && m.tags.msgid === m.msgid, 'a msgid');
        match(m.time ?? '', /^\d{4}-\d\d-\d\dT/);
      }
      deepEqual(texts(await bob.history('#h', { before: latest[0]!.msgid!, limit: 2 })), ['line 2', 'line 3']);
      // page back from the latest by msgid until nothing is left: every line once, in order
      const all: HistoryMessage[] = [];
      let page = await bob.history('#h', { limit: 2 });
      for (let pages = 0; page.length > 0; pages++) {
        ok(pages < 6, 'paging ends');
        all.unshift(...page);
        page = await bob.history('#h', { before: page[0]!.msgid!, limit: 2 });
      }
      deepEqual(texts(all), ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
      equal(new Set(all.map((m) => m.msgid)).size, 6, 'six msgids');
      deepEqual(texts(await bob.history('#h', { after: all[1]!.msgid!, limit: 2 })), ['line 3', 'line 4']);
      deepEqual(texts(await bob.history('#h', { around: all[3]!.msgid!, limit: 3 })), ['line 3', 'line 4', 'line 5']);

      const targets = await bob.historyTargets('1970-01-01T00:00:00.000Z', new Date(Date.now() + 60_000).toISOString());
      deepEqual(targets.map((t) => t.target), ['#h']);
      match(targets[0]!.latest, /^\d{4}-\d\d-\d\dT/);
      // a guest has no private history (it is kept between accounts: the SASL scenario)
      await rejects(bob.history('alice'), /./);
      deepEqual(live, [], 'history is never a live message');
      await rejects(bob.history('#nowhere'), /./);
    },
  },
  {
    name: 'history replayed on JOIN (batch, no draft/chathistory) comes as `history` events, not `message` ones',
    serverOptions: { 'history-replay-on-join': 10 },
    async run(ctx) {
      const alice = await connected(ctx, 'alice');
      await joined(alice, '#r');
      alice.privmsg('#r', 'before you came');
      alice.privmsg('#r', 'and this too');
      await eventually(() => alice.history('#r'), (ms) => ms.length === 2, 'both stored');
      const carol = await connected(ctx, 'carol', { caps: ['batch', 'server-time', 'message-tags'] });
      const live: string[] = [];
      const replayed: HistoryMessage[] = [];
      carol.on('message', (m) => live.push(m.text));
      carol.on('history', (m) => replayed.push(m));
      const last = until(carol, 'history', (m) => m.text === 'and this too');
      carol.join('#r');
      await last;
      // a PING round trip: whatever the server sent after the replay has arrived too
      const pong = until(carol, 'raw', (_l, m) => m?.command === 'PONG' && m.params.at(-1) === 'sync');
      carol.raw('PING :sync');
      await pong;
      deepEqual(replayed.map((m) => [m.from, m.target, m.text]), [['alice', '#r', 'before you came'], ['alice', '#r', 'and this too']]);
      ok(replayed.every((m) => m.time !== undefined), 'replayed with their times');
      deepEqual(live, []);
      const now = until(carol, 'message', (m) => m.text === 'live now');
      alice.privmsg('#r', 'live now');
      await now;
      equal(replayed.length, 2, 'a live message is no history');
    },
  },
  {
    name: 'TAGMSG: client tags to a channel and to a nick, escaped values intact; none without message-tags',
    async run(ctx) {
      const typer = await connected(ctx, 'typer');
      const watcher = await connected(ctx, 'watcher');
      await joined(typer, '#t');
      await joined(watcher, '#t');
      await ctx.server.peerConnect('tagpeer', ['message-tags']);
      await ctx.server.peerSend('tagpeer', 'JOIN #t');
      await ctx.server.peerExpect('tagpeer', / 366 tagpeer #t /);

      const got = until(watcher, 'tagmsg', (t) => t.target === '#t');
      typer.tagmsg('#t', { '+typing': 'active' });
      const [t] = await got;
      deepEqual([t.from, t.target, t.isChannel, t.tags['+typing']], ['typer', '#t', true, 'active']);
      match(t.source, /^typer!/);
      await ctx.server.peerExpect('tagpeer', /^@(\S+;)?\+typing=active(;\S+)? :typer!\S+ TAGMSG #t$/);

      const dm = until(watcher, 'tagmsg', (x) => !x.isChannel);
      typer.tagmsg('watcher', { '+typing': 'paused', '+example.com/note': 'a b;c\\d' });
      const [d] = await dm;
      deepEqual([d.from, d.target, d.tags['+typing'], d.tags['+example.com/note']], ['typer', 'watcher', 'paused', 'a b;c\\d']);

      // a client without message-tags sends no TAGMSG: its next PRIVMSG is the first thing heard from it
      const bare = await connected(ctx, 'bare', { caps: [] });
      await joined(bare, '#t');
      const fromBare: string[] = [];
      watcher.on('tagmsg', (x) => { if (x.from === 'bare') fromBare.push('tagmsg'); });
      watcher.on('message', (x) => { if (x.from === 'bare') fromBare.push(`message ${x.text}`); });
      const said = until(watcher, 'message', (x) => x.from === 'bare');
      bare.tagmsg('#t', { '+typing': 'active' });
      bare.privmsg('#t', 'plain words');
      await said;
      deepEqual(fromBare, ['message plain words']);
    },
  },
  {
    name: 'reconnect after a lost connection (KILL): backoff, rejoin, the missed message once as history; quit() stays gone',
    async run(ctx) {
      const away = ctx.client({ url: ctx.url, nick: 'away', reconnect: { minMs: 1500, maxMs: 3000 } });
      await away.connect();
      const talker = await connected(ctx, 'talker');
      await joined(away, '#r');
      await joined(talker, '#r');
      const seen = until(away, 'message', (m) => m.text === 'before');
      talker.privmsg('#r', 'before');
      await seen;

      const history: string[][] = [];
      const live: string[] = [];
      away.on('history', (m) => history.push([m.from, m.target, m.text]));
      away.on('message', (m) => live.push(m.text));
      const closed = until(away, 'close');
      const back = until(away, 'reconnected', undefined, 30_000);
      await ctx.server.kill('away', 'testing resume');
      const [ev] = await closed;
      match(ev.reason ?? '', /testing resume/, 'the server said why');
      equal(away.connected, false);
      // said while away is gone (its first attempt comes after at least 1.1 s)
      talker.privmsg('#r', 'while you were away');
      await back;
      deepEqual(history, [['talker', '#r', 'while you were away']], 'the missed message, once');
      deepEqual(live, [], 'not as a live message');
      equal(away.registered, true);
      equal(away.nick, 'away');
      const names = await talker.request('NAMES', ['#r']);
      match(names.map((m) => m.params.at(-1)).join(' '), /(^|\s)@?away(\s|$)/, 'away is back on #r');
      const again = until(away, 'message', (m) => m.text === 'welcome back');
      talker.privmsg('#r', 'welcome back');
      await again;

      // quit() ends it for good: no attempt within the longest first backoff (1.5 s + 25 %)
      let registrations = 0;
      away.on('registered', () => registrations++);
      await away.quit('bye');
      equal(away.connected, false);
      await sleep(2500);
      equal(away.connected, false);
      equal(registrations, 0, 'no reconnect after quit()');
    },
  },
  {
    name: 'reconnect after a server restart: rejoins, and talks both ways again',
    async run(ctx) {
      const sticky = ctx.client({ url: ctx.url, nick: 'sticky', reconnect: { minMs: 300, maxMs: 2000 } });
      await sticky.connect();
      await joined(sticky, '#rs');
      const closed = until(sticky, 'close');
      const back = until(sticky, 'reconnected', undefined, 30_000);
      const rejoined = until(sticky, 'join', (ev) => ev.self && ev.channel === '#rs', 30_000);
      await ctx.server.restart();
      const [ev] = await closed;
      ok(ev.error !== undefined || ev.reason !== undefined, 'a lost connection, not a quit');
      await back;
      await rejoined;
      equal(sticky.registered, true);
      await ctx.server.peerConnect('watcher');
      await ctx.server.peerSend('watcher', 'JOIN #rs');
      await ctx.server.peerExpect('watcher', / 353 watcher [=*@] #rs :.*\bsticky\b/);
      const heard = until(sticky, 'message', (m) => m.text === 'you are back');
      await ctx.server.peerSend('watcher', 'PRIVMSG #rs :you are back');
      await heard;
      sticky.privmsg('#rs', 'back again');
      await ctx.server.peerExpect('watcher', /^:sticky!\S+ PRIVMSG #rs :back again$/);
    },
  },
];

/** Run scenario `name`; every client it made is destroyed afterwards, passed or failed. */
export async function runScenario(name: string, env: ScenarioEnv): Promise<void> {
  const s = scenarios.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${JSON.stringify(name)}`);
  const made: FreeqClientCore[] = [];
  const ctx: ScenarioContext = {
    url: env.url,
    server: env.server,
    client: (options) => {
      const c = env.makeClient(options);
      made.push(c);
      return c;
    },
  };
  try {
    await s.run(ctx);
  } finally {
    for (const c of made) c.destroy();
  }
}
