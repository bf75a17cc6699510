import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Refusal, type EnvelopeMessage } from '../../src/federation/messages.js';
import { serverIdPrefix } from '../../src/state/ids.js';
import type { WireEvent, WireUser } from '../../src/state/wire.js';
import { hlcAt, LyingPeer, peerKey, rawFrame, wire, type PeerKey, type RegisteredUser } from './lying-peer.js';
import type { RawClient } from './raw-client.js';
import { bootServer, type LogRecord, type TestServer } from './server.js';

/**
 * The #14 lying-peer suite, run over one transport (test/conformance/federation-lying-peer*.test.ts
 * run it over TLS and over iroh). One real server (booted through the composition root, its
 * federation listener on 127.0.0.1) with two real local clients, and a fake peer speaking the S2S
 * protocol directly (test/harness/lying-peer.ts). Each lie must be refused with a log line naming
 * the reason, change nothing (no line reaches a local client, the world is as before), and leave
 * the server working.
 */
export function lyingPeerSuite(transport: 'tls' | 'iroh'): void {
  /** the server's federation listener for this transport */
  const listen: Record<string, unknown> = transport === 'tls'
    ? { 's2s-listen-addr': '127.0.0.1:0' }
    : { iroh: true, 'iroh-relay-mode': 'disabled', 'iroh-bind-addr': '127.0.0.1:0' };
  /** how a liar reaches a server over this transport */
  const to = (s: TestServer): { port?: number; transport: 'tls' | 'iroh'; irohAddr?: string; serverId?: string } => transport === 'tls'
    ? { port: s.server.addresses.s2s!.port, transport }
    : { transport, irohAddr: s.server.addresses.iroh!.find((a) => a.startsWith('127.0.0.1:'))!, serverId: s.server.context.peerId };
  // #14 "lying peer": one real server (booted through the composition root, TLS federation listener
  // on 127.0.0.1) with two real local clients, and a fake peer speaking the S2S protocol directly
  // (test/harness/lying-peer.ts). Each lie must be refused with a log line naming the reason, change
  // nothing (no line reaches a local client, the world is as before), and leave the server working.

  const FULL = peerKey();
  const OTHER = peerKey(); // another allowed server, whose identity the liar tries to borrow
  const RELAY = peerKey();
  const READONLY = peerKey();
  const STRANGER = peerKey(); // on no allowlist

  let srv: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  const liars: LyingPeer[] = [];

  before(async () => {
    srv = await bootServer(
      // a fresh channel per case: alice creates many
      { 'server-name': 'a.test', ...listen, 's2s-allowed-peers': `${FULL.id},${OTHER.id}`, 'channel-creation-per-connection': 1000 },
      undefined,
      { s2s: { peers: { [RELAY.id]: { trust: 'relay' }, [READONLY.id]: { trust: 'readonly' } } } },
      { captureLogs: true },
    );
    alice = await srv.client('alice');
    bob = await srv.client('bob');
  });
  after(async () => {
    for (const l of liars) l.close();
    await srv.stop();
  });
  // one link per key at a time: each test's liars are gone (and their users split off) before the next
  afterEach(async () => {
    for (const l of liars.splice(0)) l.close();
    await until(() => srv.server.federation!.peers.linked.length === 0, 'links closed');
    // what the split sent the local clients (the liars' users' QUITs) is not the next test's
    await alice.sync();
    await bob.sync();
  });

  async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  const world = () => srv.server.context.world;
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&');

  async function link(key: PeerKey = FULL, handshake = true): Promise<LyingPeer> {
    const l = await LyingPeer.connect({ ...to(srv), key, handshake });
    liars.push(l);
    return l;
  }

  /** what a lie must not change: users, channels with members, status, topic, modes and bans */
  function snapshot(): unknown {
    const w = world();
    return {
      users: [...w.users.values()].filter((u) => u.registered).map((u) => `${u.uid} ${u.nick} ${u.local ? 'local' : u.origin} ${u.account ?? ''}`).sort(),
      channels: [...w.channels.values()].map((ch) => ({
        name: ch.name, createdAt: ch.createdAt, topic: ch.topic ? `${ch.topic.text} ${ch.topic.setBy}` : null, modes: ch.modeString(true),
        bans: ch.lists.b.entries.map((e) => e.mask), members: [...ch.members].map(([u, m]) => `${m.prefix(true)}${u.nick}`).sort(),
      })).sort((a, b) => a.name.localeCompare(b.name)),
      lockdown: w.lockdown,
    };
  }

  /** a log line `msg` since `mark` whose reason matches (and, if given, about this peer) */
  function logged(mark: number, msg: string, reason: RegExp, peer?: string): LogRecord {
    const lines = srv.logs.slice(mark);
    const hit = lines.find((l) => l.msg === msg && reason.test(String(l.reason)) && (peer === undefined || l.peer === peer));
    assert.ok(hit, `no log line "${msg}" with reason ${reason}; logged:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
    return hit;
  }

  /** a PING round trip on each local client: it is answered (the server works) and nothing matching `bad` came before it */
  async function quiet(bad: RegExp): Promise<void> {
    for (const c of [alice, bob]) {
      const lines = (await c.sync()).slice(0, -1); // up to the PONG
      const hits = lines.filter((l) => bad.test(l));
      assert.deepEqual(hits, [], `${c.nick} got lines from the lie`);
    }
  }

  let n = 0;
  interface Scene { liar: LyingPeer; m: RegisteredUser; ch: string; chan: () => NonNullable<ReturnType<ReturnType<typeof world>['findChannel']>> }

  /** a fresh channel made by alice (op), bob on it, and the liar's user `m` joined to it */
  async function scene(key: PeerKey = FULL): Promise<Scene> {
    const ch = `#lie${++n}`;
    alice.send(`JOIN ${ch}`);
    await alice.expect(new RegExp(` 366 alice ${esc(ch)} `));
    bob.send(`JOIN ${ch}`);
    await bob.expect(new RegExp(` 366 bob ${esc(ch)} `));
    const liar = await link(key);
    const m = liar.register(`liar${n}`);
    liar.join(m, ch);
    await liar.sync();
    await alice.expect(new RegExp(`^:${m.nick}!\\S+ JOIN ${esc(ch)}$`));
    await bob.expect(new RegExp(`^:${m.nick}!\\S+ JOIN ${esc(ch)}$`));
    return { liar, m, ch, chan: () => world().findChannel(ch)! };
  }

  /** the link still carries honest events: the liar's user speaks and both local clients hear it */
  async function stillWorks(s: Scene): Promise<void> {
    s.liar.say(s.m, s.ch, 'honest again');
    await alice.expect(new RegExp(`^:${s.m.nick}!\\S+ PRIVMSG ${esc(s.ch)} :honest again$`));
    await bob.expect(new RegExp(`^:${s.m.nick}!\\S+ PRIVMSG ${esc(s.ch)} :honest again$`));
  }

  /** alice as a peer would name her */
  function aliceWire(): WireUser {
    const u = world().findUser('alice')!;
    return { uid: u.uid, nick: u.nick, username: u.username, host: u.host };
  }

  /**
   * Send `lies` (each an envelope refused with its reason) after a snapshot; then: each refusal is
   * logged, the world is unchanged, no local client saw `bad`, and the link still works.
   */
  async function refusedEach(s: Scene, lies: { send: () => void; reason: RegExp }[], bad: RegExp): Promise<void> {
    const before = snapshot();
    for (const lie of lies) {
      const mark = srv.logs.length;
      lie.send();
      await s.liar.sync();
      logged(mark, 'S2S event refused', lie.reason, s.liar.id);
    }
    assert.deepEqual(snapshot(), before);
    await quiet(bad);
    await stillWorks(s);
  }

  describe('a lying peer is refused at the door', () => {
    test('an unknown (not allowlisted) key is refused at connect', async () => {
      const mark = srv.logs.length;
      const l = await link(STRANGER, false);
      // an iroh listener meets the dialer's stream with its first bytes (QUIC opens streams lazily):
      // the stranger says hello, as any dialer does; over TLS it is refused before it can
      if (transport === 'iroh') l.send({ type: 'hello', version: 1, id: STRANGER.id, name: 'liar.test', caps: [] });
      assert.equal(await l.refused(), 'not in the allowlist');
      logged(mark, 'Rejecting S2S connection', /^not in the allowlist$/, STRANGER.id);
      assert.ok(!l.frames.some((f) => f.type === 'hello' || f.type === 'hello_ack'), 'a refused peer gets no hello, no ack');
      assert.equal(world().servers.has(STRANGER.id), false);
      await quiet(/./);
    });

    test('a hello claiming another id (not the certificate\'s) is refused; so is an ack or an envelope before the hello', async () => {
      const cases: { send: (l: LyingPeer) => void; reason: RegExp }[] = [
        { send: (l) => l.send({ type: 'hello', version: 1, id: OTHER.id, name: 'other.test', caps: [] }), reason: /^hello id does not match the certificate$/ },
        { send: (l) => l.send({ type: 'hello_ack', id: FULL.id }), reason: /^unexpected hello_ack$/ },
        { send: (l) => l.send(l.seal({ kind: 'register', user: l.user('early') })), reason: /^envelope before the link is up$/ },
      ];
      for (const c of cases) {
        const mark = srv.logs.length;
        const l = await link(FULL, false);
        c.send(l);
        assert.match((await l.refused()) ?? '', c.reason);
        logged(mark, 'Rejecting S2S connection', c.reason, FULL.id);
        assert.ok(!l.frames.some((f) => f.type === 'hello_ack'), 'never an ack');
        assert.equal(srv.server.federation!.peers.linkTo(FULL.id), undefined);
      }
      assert.equal(world().findUser('early'), undefined);
      await quiet(/./);
    });
  });

  describe('envelopes that are not what they claim', () => {
    test('forged origin: another server\'s id without its key is refused (bad signature); a server not allowed here is refused even with its own key', async () => {
      const s = await scene();
      const o = { uid: `${serverIdPrefix(OTHER.id)}000001`, nick: 'otheruser', username: 'o', host: 'other.example', realname: 'o', signonAt: Date.now() };
      const st = { uid: `${serverIdPrefix(STRANGER.id)}000001`, nick: 'stranger', username: 's', host: 'stranger.example', realname: 's', signonAt: Date.now() };
      await refusedEach(s, [
        { send: () => s.liar.emit({ kind: 'register', user: o }, { origin: OTHER.id }), reason: /^bad signature$/ },
        { send: () => s.liar.say(o, s.ch, 'forged other', {}, { origin: OTHER.id }), reason: /^bad signature$/ },
        { send: () => s.liar.emit({ kind: 'register', user: st }, { origin: STRANGER.id, seed: STRANGER.seed }), reason: /^origin is not allowed here/ },
        { send: () => s.liar.say(st, s.ch, 'forged stranger', {}, { origin: STRANGER.id, seed: STRANGER.seed }), reason: /^origin is not allowed here/ },
      ], /otheruser|stranger|forged/);
      assert.equal(world().findUser('otheruser'), undefined);
      // what an allowed server really signed may come through any linked peer (multi-hop): the
      // relay cannot change it, and it is applied under that server's own trust
      s.liar.emit({ kind: 'register', user: o }, { origin: OTHER.id, seed: OTHER.seed });
      await s.liar.sync();
      assert.equal(world().findUser('otheruser')?.origin, OTHER.id);
    });

    test('bad signatures: signed with another key, a signature altered, a payload or seq altered after signing', async () => {
      const s = await scene();
      const tamper = (sig: string): string => (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
      const altered = (): EnvelopeMessage => {
        const e = s.liar.seal({ kind: 'message', from: wire(s.m), command: 'PRIVMSG', target: s.ch, channel: s.ch, text: 'signed text', msgid: 'sig-1', at: Date.now() });
        return { ...e, payload: { ...e.payload, text: 'forged text' } as WireEvent };
      };
      await refusedEach(s, [
        { send: () => s.liar.say(s.m, s.ch, 'forged by another key', {}, { seed: OTHER.seed }), reason: /^bad signature$/ },
        { send: () => { const e = s.liar.seal({ kind: 'part', user: wire(s.m), channel: s.ch, reason: 'forged part' }); s.liar.send({ ...e, sig: tamper(e.sig) }); }, reason: /^bad signature$/ },
        { send: () => s.liar.send(altered()), reason: /^bad signature$/ },
        { send: () => { const e = s.liar.seal({ kind: 'part', user: wire(s.m), channel: s.ch }); s.liar.send({ ...e, seq: e.seq + 7 }); }, reason: /^bad signature$/ },
      ], /forged|signed text|PART/);
    });

    test('a missing or malformed signature fails the schema: refusal, link closed', async () => {
      for (const strip of [(e: EnvelopeMessage) => { const { sig: _sig, ...rest } = e; return rest; }, (e: EnvelopeMessage) => ({ ...e, sig: 'not-a-signature' })]) {
        const l = await link();
        const before = snapshot();
        const mark = srv.logs.length;
        l.send(strip(l.seal({ kind: 'register', user: l.user('unsigned') })));
        assert.match((await l.refused()) ?? '', /^invalid message: sig: /);
        logged(mark, 'Rejecting S2S connection', /^invalid message: sig: /, FULL.id);
        assert.deepEqual(snapshot(), before);
        liars.splice(liars.indexOf(l), 1);
        await until(() => srv.server.federation!.peers.linkTo(FULL.id) === undefined, 'link down');
      }
      await quiet(/unsigned/);
    });

    test('a replayed envelope (same seq again), and an older seq, are refused', async () => {
      const s = await scene();
      const env = s.liar.say(s.m, s.ch, 'only once');
      await alice.expect(/PRIVMSG #lie\d+ :only once$/);
      await bob.expect(/PRIVMSG #lie\d+ :only once$/);
      await refusedEach(s, [
        { send: () => s.liar.send(env), reason: /^replayed or old sequence number$/ },
      ], /only once/);
      // the next replay within 10 s is refused the same way, counted, not logged again
      const mark = srv.logs.length;
      s.liar.say(s.m, s.ch, 'from the past', {}, { seq: env.seq - 1 });
      await s.liar.sync();
      await quiet(/from the past/);
      assert.equal(srv.logs.slice(mark).filter((l) => l.msg === 'S2S event refused').length, 0);
      const metrics = await srv.server.context.metrics.text();
      const replays = new RegExp(`freeq_s2s_refused_total\\{peer="${s.liar.id}",reason="replay"\\} (\\d+)`).exec(metrics);
      assert.equal(Number(replays?.[1]), 2, 'both replays counted');
    });

    test('timestamps far in the future: an envelope stamp > 60 s ahead, a message dated > 60 s ahead', async () => {
      const s = await scene();
      await refusedEach(s, [
        { send: () => s.liar.say(s.m, s.ch, 'stamped 2 min ahead', {}, { hlc: hlcAt(Date.now() + 120_000) }), reason: /^clock stamp too far in the future$/ },
        { send: () => s.liar.say(s.m, s.ch, 'stamped in 2100', {}, { hlc: hlcAt(4_102_444_800_000) }), reason: /^clock stamp too far in the future$/ },
        { send: () => s.liar.say(s.m, s.ch, 'dated 2 min ahead', { at: Date.now() + 120_000 }), reason: /^message time too far in the future$/ },
        // a durable-state delta whose register stamp is ahead (it would win every later merge)
        { send: () => s.liar.emit({ kind: 'channel-state', channel: s.ch, topic: { value: { text: 'topic from 2 min ahead', setBy: s.m.nick, setAt: Date.now() }, stamp: { hlc: hlcAt(Date.now() + 120_000), origin: s.liar.id } } }), reason: /^channel-state stamp too far in the future$/ },
      ], /ahead|2100/);
      // the server's clock did not follow the liar's
      const wall = Number(srv.server.context.ops.hlc.now().slice(0, 13));
      assert.ok(wall < Date.now() + 5000, `HLC moved to ${wall}`);
    });
  });

  describe('a peer\'s users get exactly the local permission rules', () => {
    test('op grant (+o) from a non-op remote user is refused', async () => {
      const s = await scene();
      const mode = (changes: { adding: boolean; mode: string; param?: string }[]): WireEvent => ({ kind: 'channel-mode', source: `${s.m.nick}!x@liar.example`, by: { kind: 'user', user: wire(s.m) }, channel: s.ch, changes });
      await refusedEach(s, [
        { send: () => s.liar.emit(mode([{ adding: true, mode: 'o', param: s.m.nick }])), reason: /^(some changes refused: )?482 #lie\d+ / },
        { send: () => s.liar.emit(mode([{ adding: false, mode: 'o', param: 'alice' }])), reason: /^(some changes refused: )?482 #lie\d+ / },
        { send: () => s.liar.emit(mode([{ adding: true, mode: 'b', param: '*!*@*' }])), reason: /^(some changes refused: )?482 #lie\d+ / },
        // the same through the state sync: a newer modes register from a peer with no op on the channel
        { send: () => s.liar.emit({ kind: 'channel-state', channel: s.ch, flags: { value: 'i', stamp: { hlc: hlcAt(Date.now()), origin: s.liar.id } } }), reason: /^channel-state of #lie\d+: modes refused/ },
      ], / MODE /);
      assert.equal(s.chan().isOp(world().findUser(s.m.nick)!), false);
      assert.equal(s.chan().isOp(world().findUser('alice')!), true);
    });

    test('a +t topic from a non-op is refused; so is a topic with no actor', async () => {
      const s = await scene();
      alice.send(`TOPIC ${s.ch} :the real topic`);
      await bob.expect(/ TOPIC #lie\d+ :the real topic$/);
      await alice.sync();
      assert.equal(s.chan().modes.t, true);
      await refusedEach(s, [
        { send: () => s.liar.emit({ kind: 'topic', source: `${s.m.nick}!x@liar.example`, by: { kind: 'user', user: wire(s.m) }, channel: s.ch, topic: { text: 'hijacked', setBy: s.m.nick, setAt: Date.now() } }), reason: /^482 / },
        { send: () => s.liar.emit({ kind: 'topic', source: 'liar.test', channel: s.ch, topic: { text: 'hijacked', setBy: 'x', setAt: Date.now() } }), reason: /^FED +no actor$/ },
      ], /hijacked/);
      assert.equal(s.chan().topic?.text, 'the real topic');
    });

    test('a kick by a non-op is refused', async () => {
      const s = await scene();
      const kick = (target: WireUser): WireEvent => ({ kind: 'kick', source: `${s.m.nick}!x@liar.example`, by: { kind: 'user', user: wire(s.m) }, channel: s.ch, target, reason: 'begone' });
      const bobU = world().findUser('bob')!;
      await refusedEach(s, [
        { send: () => s.liar.emit(kick(aliceWire())), reason: /^48[24] / },
        { send: () => s.liar.emit(kick({ uid: bobU.uid, nick: 'bob', username: bobU.username, host: bobU.host })), reason: /^482 / },
      ], / KICK /);
    });

    test('speaking (or parting, quitting, renaming) as a local user is refused', async () => {
      const s = await scene();
      const a = aliceWire();
      await refusedEach(s, [
        { send: () => s.liar.say(a, s.ch, 'I am alice'), reason: /is not of origin/ },
        { send: () => s.liar.say(a, 'bob', 'I am alice, privately'), reason: /is not of origin/ },
        // the liar's own prefix with alice's nick: a uid it never introduced
        { send: () => s.liar.say({ ...a, uid: s.liar.user('x').uid }, s.ch, 'I am alice too'), reason: /is not of origin/ },
        { send: () => s.liar.emit({ kind: 'part', user: a, channel: s.ch, reason: 'alice leaves' }), reason: /is not of origin/ },
        { send: () => s.liar.emit({ kind: 'quit', user: a, reason: 'alice quits' }), reason: /is not of origin/ },
        { send: () => s.liar.emit({ kind: 'nick', user: { ...a, nick: 'alice_was_here' }, oldMask: 'alice!x@y' }), reason: /is not of origin/ },
      ], /I am alice|alice leaves|alice quits|alice_was_here/);
      assert.ok(world().findUser('alice')?.local);
    });
  });

  describe('trust levels', () => {
    test('a readonly peer links but originates nothing', async () => {
      const ch = `#ro${++n}`;
      alice.send(`JOIN ${ch}`);
      await alice.expect(new RegExp(` 366 alice ${esc(ch)} `));
      const l = await link(READONLY);
      const before = snapshot();
      const u = l.user('reader');
      const mark = srv.logs.length;
      l.emit({ kind: 'register', user: u });
      l.join(u, ch);
      l.say(u, ch, 'read only, speaking');
      l.say(u, 'alice', 'read only, whispering');
      await l.sync();
      for (const kind of ['register', 'join', 'message']) logged(mark, 'S2S event refused', new RegExp(`^${kind} is not accepted from a readonly peer$`), READONLY.id);
      assert.deepEqual(snapshot(), before);
      await quiet(/reader|read only/);
    });

    test('a relay peer: its users talk and join, but cannot set modes, kick, bring status, or set a +t topic', async () => {
      const s = await scene(RELAY);
      const r2 = s.liar.register('relayop');
      s.liar.join(r2, s.ch, { status: 'o' }); // status from a relay peer is dropped
      await alice.expect(/^:relayop!\S+ JOIN #lie\d+$/);
      await s.liar.sync();
      assert.equal(s.chan().isOp(world().findUser('relayop')!), false);
      await refusedEach(s, [
        { send: () => s.liar.emit({ kind: 'channel-mode', by: { kind: 'user', user: wire(s.m) }, channel: s.ch, changes: [{ adding: true, mode: 'o', param: s.m.nick }] }), reason: /^channel-mode is not accepted from a relay peer$/ },
        { send: () => s.liar.emit({ kind: 'channel-mode', by: { kind: 'server', name: 'liar.test' }, channel: s.ch, changes: [{ adding: false, mode: 't' }] }), reason: /^channel-mode is not accepted from a relay peer$/ },
        { send: () => s.liar.emit({ kind: 'kick', source: 'x', by: { kind: 'user', user: wire(s.m) }, channel: s.ch, target: aliceWire(), reason: 'r' }), reason: /^kick is not accepted from a relay peer$/ },
        { send: () => s.liar.emit({ kind: 'topic', source: 'x', by: { kind: 'user', user: wire(s.m) }, channel: s.ch, topic: { text: 'relay topic', setBy: 'x', setAt: Date.now() } }), reason: /^topic on a \+t channel from a relay peer$/ },
        { send: () => s.liar.emit({ kind: 'topic', source: 'x', by: { kind: 'server', name: 'liar.test' }, channel: s.ch, topic: { text: 'relay topic', setBy: 'x', setAt: Date.now() } }), reason: /^topic on a \+t channel from a relay peer$/ },
      ], / MODE | KICK | TOPIC /);
    });

    test('a relay peer cannot strip local ops through the channel-TS rule (a join claiming the channel is older)', async () => {
      const s = await scene(RELAY);
      const before = snapshot();
      const old = s.liar.register('timetraveller');
      s.liar.join(old, s.ch, { ts: 1 });
      await alice.expect(/^:timetraveller!\S+ JOIN #lie\d+$/);
      await s.liar.sync();
      // the join itself is relay's right; the local ops and the channel's creation time stay
      assert.equal(s.chan().isOp(world().findUser('alice')!), true, 'alice lost her +o to a relay peer\'s join');
      assert.equal(s.chan().createdAt, (before as { channels: { name: string; createdAt: number }[] }).channels.find((c) => c.name === s.ch)!.createdAt);
      await quiet(/ MODE /);
    });
  });

  describe('a full peer gets no more than its users could do', () => {
    test('a live join claiming the channel is older, with +o, neither ops the joiner nor takes status from members here', async () => {
      const s = await scene(FULL);
      const before = snapshot();
      const old = s.liar.register('tsthief');
      s.liar.join(old, s.ch, { ts: 1, status: 'o' });
      await alice.expect(/^:tsthief!\S+ JOIN #lie\d+$/);
      await s.liar.sync();
      assert.equal(s.chan().isOp(world().findUser('alice')!), true, 'alice lost her +o to a live join');
      assert.equal(s.chan().isOp(srv.server.federation!.peers.applier.user(old.uid)!), false, 'the live join got +o');
      assert.equal(s.chan().createdAt, (before as { channels: { name: string; createdAt: number }[] }).channels.find((c) => c.name === s.ch)!.createdAt);
      await quiet(/ MODE /);
    });

    test('a link announced with a server that is not allowed here is ignored (no ghost servers, no memory for made-up ids)', async () => {
      const s = await scene(FULL);
      s.liar.emit({ kind: 'peer-link', peer: STRANGER.id, name: 'ghost.test', up: true });
      for (let i = 0; i < 50; i++) s.liar.emit({ kind: 'peer-link', peer: peerKey().id, name: `ghost${i}.test`, up: true });
      await s.liar.sync();
      assert.equal(world().servers.has(STRANGER.id), false);
      assert.deepEqual([...world().servers.values()].map((x) => x.id), [s.liar.id]);
      await stillWorks(s);
    });

    test('a full peer acting as a server or an operator (modes, kick) is refused', async () => {
      const s = await scene(FULL);
      const a = aliceWire();
      await refusedEach(s, [
        { send: () => s.liar.emit({ kind: 'channel-mode', by: { kind: 'server', name: 'liar.test' }, channel: s.ch, changes: [{ adding: true, mode: 'o', param: s.m.nick }, { adding: false, mode: 'o', param: 'alice' }] }), reason: /may not act as a server/ },
        { send: () => s.liar.emit({ kind: 'kick', source: 'liar.test', by: { kind: 'operator', name: 'root' }, channel: s.ch, target: a, reason: 'bye' }), reason: /may not act as an operator/ },
      ], / MODE | KICK /);
    });

    test('a live registration claiming an early time cannot take a local nick (only a burst\'s time is believed)', async () => {
      const s = await scene(FULL);
      const a = world().findUser('alice')!;
      const liar = s.liar.register('ALICE', { signonAt: 0 });
      await s.liar.sync();
      assert.equal(world().findUser('alice'), a);
      assert.equal(a.nick, 'alice');
      assert.notEqual(srv.server.federation!.peers.applier.user(liar.uid)?.nick.toLowerCase(), 'alice');
      await quiet(/ NICK /);
    });
  });

  describe('registers', () => {
    test('a register with a uid of another origin\'s prefix (another server\'s, this server\'s, a local user\'s uid) is refused', async () => {
      const s = await scene();
      const a = world().findUser('alice')!;
      await refusedEach(s, [
        { send: () => s.liar.register('otherprefix', { uid: `${serverIdPrefix(OTHER.id)}00ZZZZ` }), reason: /is not of origin/ },
        { send: () => s.liar.register('localprefix', { uid: `${serverIdPrefix(s.liar.serverId!)}00ZZZZ` }), reason: /is not of origin/ },
        { send: () => s.liar.register('aliceuid', { uid: a.uid }), reason: /is not of origin/ },
      ], /otherprefix|localprefix|aliceuid/);
    });

    test('a register whose nick collides with a local user: the local user keeps its nick, the remote one is renamed', async () => {
      const s = await scene();
      const a = world().findUser('alice')!;
      const honest = s.liar.register('alice');
      await s.liar.sync();
      assert.equal(world().findUser('alice'), a);
      assert.equal(a.nick, 'alice');
      const renamed = srv.server.federation!.peers.applier.user(honest.uid);
      assert.ok(renamed && renamed.nick !== 'alice', `remote user's nick: ${renamed?.nick}`);
      await quiet(/ NICK /);
      await stillWorks(s);
    });

    test('a relay peer claiming an early registration cannot take a local nick either', async () => {
      const s = await scene(RELAY);
      const a = world().findUser('alice')!;
      const liar = s.liar.register('ALICE', { signonAt: 1 });
      await s.liar.sync();
      assert.equal(world().findUser('alice'), a);
      assert.equal(a.nick, 'alice');
      assert.notEqual(srv.server.federation!.peers.applier.user(liar.uid)?.nick.toLowerCase(), 'alice');
      await quiet(/ NICK /);
    });
  });

  describe('malformed input closes the link', () => {
    const NL = 'x\r\nPRIVMSG #all :INJECTED';
    test('CR, LF or NUL in any field is refused by the schema: refusal, link closed, nothing reaches a client', async () => {
      const ch = `#crlf${++n}`;
      alice.send(`JOIN ${ch}`);
      await alice.expect(new RegExp(` 366 alice ${esc(ch)} `));
      alice.send(`TOPIC ${ch} :clean topic`);
      await alice.sync();
      const u = (l: LyingPeer, o: Partial<RegisteredUser> = {}) => l.user('clean', o);
      const msg = (l: LyingPeer, o: Record<string, unknown>): WireEvent => ({ kind: 'message', from: wire(u(l)), command: 'PRIVMSG', target: ch, channel: ch, text: 'hi', msgid: 'm1', at: Date.now(), ...o });
      const cases: [string, (l: LyingPeer) => unknown][] = [
        ['register nick', (l) => l.seal({ kind: 'register', user: u(l, { nick: `evil${NL}` }) })],
        ['register username', (l) => l.seal({ kind: 'register', user: u(l, { username: 'ev\nil' }) })],
        ['register host', (l) => l.seal({ kind: 'register', user: u(l, { host: 'evil\0host' }) })],
        ['register realname', (l) => l.seal({ kind: 'register', user: u(l, { realname: `real${NL}` }) })],
        ['join channel', (l) => l.seal({ kind: 'join', user: wire(u(l)), channel: `${ch}\r\nINJECTED`, status: '', ts: Date.now() })],
        ['message text (CRLF)', (l) => l.seal(msg(l, { text: `hi${NL}` }))],
        ['message text (NUL)', (l) => l.seal(msg(l, { text: 'hi\0INJECTED' }))],
        ['message target', (l) => l.seal(msg(l, { target: `${ch}\nINJECTED` }))],
        ['message msgid', (l) => l.seal(msg(l, { msgid: 'id\rINJECTED' }))],
        ['message tag value', (l) => l.seal(msg(l, { tags: { '+x': `v${NL}` } }))],
        ['message tag key', (l) => l.seal(msg(l, { tags: { '+x\nINJECTED': 'v' } }))],
        ['message tag key (long)', (l) => l.seal(msg(l, { tags: { [`+${'k'.repeat(500)}\r\nINJECTED`]: 'v' } }))],
        ['multiline line text', (l) => l.seal(msg(l, { text: undefined, lines: [{ text: `a${NL}`, concat: false }] }))],
        ['topic text', (l) => l.seal({ kind: 'topic', source: 's', by: { kind: 'user', user: wire(u(l)) }, channel: ch, topic: { text: `t${NL}`, setBy: 's', setAt: 1 } })],
        ['topic source', (l) => l.seal({ kind: 'topic', source: `s${NL}`, channel: ch })],
        ['part reason', (l) => l.seal({ kind: 'part', user: wire(u(l)), channel: ch, reason: `bye${NL}` })],
        ['quit reason', (l) => l.seal({ kind: 'quit', user: wire(u(l)), reason: `bye${NL}` })],
        ['kick reason', (l) => l.seal({ kind: 'kick', source: 's', by: { kind: 'server', name: 'liar.test' }, channel: ch, target: aliceWire(), reason: `out${NL}` })],
        ['mode param', (l) => l.seal({ kind: 'channel-mode', by: { kind: 'server', name: 'liar.test' }, channel: ch, changes: [{ adding: true, mode: 'b', param: `*!*@*${NL}` }] })],
        ['away text', (l) => l.seal({ kind: 'away', user: wire(u(l)), away: `gone${NL}` })],
        ['actor server name', (l) => l.seal({ kind: 'kick', source: 's', by: { kind: 'server', name: `srv${NL}` }, channel: ch, target: aliceWire(), reason: 'r' })],
        ['ping token', () => ({ type: 'ping', token: 'p\r\nINJECTED' })],
        ['refusal reason', () => ({ type: 'refusal', reason: `no${NL}` })],
      ];
      const before = snapshot();
      for (const [what, make] of cases) {
        const l = await link();
        const mark = srv.logs.length;
        l.send(make(l));
        const reason = await l.refused();
        assert.match(reason ?? '', /^invalid message: .*(CR, LF or NUL|not a nick|not a channel name|Invalid key)/s, `${what}: refused with ${JSON.stringify(reason)}`);
        // the refusal itself holds to the schema (it may quote the peer's input: never its CR/LF)
        assert.ok(Refusal.safeParse(l.frames.find((f) => f.type === 'refusal')).success, `${what}: the server's refusal breaks its own schema: ${JSON.stringify(reason)}`);
        logged(mark, 'Rejecting S2S connection', /^invalid message: /, FULL.id);
        liars.splice(liars.indexOf(l), 1);
        await until(() => srv.server.federation!.peers.linkTo(FULL.id) === undefined, `${what}: link down`);
      }
      // hello with a CR/LF in its name (phase 1)
      const h = await link(FULL, false);
      h.send({ type: 'hello', version: 1, id: FULL.id, name: 'liar\r\n.test', caps: [] });
      assert.match((await h.refused()) ?? '', /^invalid message: name: /);
      assert.deepEqual(snapshot(), before);
      assert.equal(world().findChannel(ch)!.topic?.text, 'clean topic');
      await quiet(/INJECTED/);
    });

    test('a 2 MiB frame is refused from its header; so are frames that are not UTF-8 or not JSON', async () => {
      const cases: [Buffer, RegExp][] = [
        [rawFrame(JSON.stringify({ type: 'ping', token: 'x'.repeat(2 * 1024 * 1024) }).slice(0, 2 * 1024 * 1024)), /^bad frame: frame of 2097152 bytes announced \(max 1048576\)$/],
        [rawFrame(Buffer.alloc(0), 2 * 1024 * 1024), /^bad frame: frame of 2097152 bytes announced/],
        [rawFrame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /^bad frame: frame is not valid UTF-8$/],
        [rawFrame('{"type": "ping", '), /^bad frame: frame is not valid JSON$/],
      ];
      for (const [bytes, reason] of cases) {
        const l = await link();
        const before = snapshot();
        const mark = srv.logs.length;
        l.sendRaw(bytes);
        assert.match((await l.refused()) ?? '', reason);
        logged(mark, 'Rejecting S2S connection', reason, FULL.id);
        assert.deepEqual(snapshot(), before);
        liars.splice(liars.indexOf(l), 1);
        await until(() => srv.server.federation!.peers.linkTo(FULL.id) === undefined, 'link down');
      }
      await quiet(/./);
      // and the next honest link works
      const s = await scene();
      await stillWorks(s);
    });
  });

  describe('flow control', () => {
    test('a flood at 10x s2s-peer-rate is delayed (backpressure), not dropped: all arrive in order, logged, the server stays responsive', async () => {
      const key = peerKey();
      const F = await bootServer({ 'server-name': 'f.test', ...listen, 's2s-allowed-peers': key.id, 's2s-peer-rate': 50, 's2s-peer-burst': 10 }, undefined, undefined, { captureLogs: true });
      try {
        const carol = await F.client('carol');
        carol.send('JOIN #flood');
        await carol.expect(/ 366 carol #flood /);
        const l = await LyingPeer.connect({ ...to(F), key });
        liars.push(l);
        const m = l.register('flooder');
        l.join(m, '#flood');
        await carol.expect(/^:flooder!\S+ JOIN #flood$/);
        // 100 messages in ~200 ms: 500/s, 10x the rate of 50/s
        const from = carol.received.length;
        const t0 = Date.now();
        for (let b = 0; b < 10; b++) {
          for (let i = 0; i < 10; i++) l.say(m, '#flood', `flood ${b * 10 + i}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        // throttled now: the local client is served at once all the same
        const p0 = Date.now();
        await carol.sync();
        const pingMs = Date.now() - p0;
        // generous for loaded CI machines: a server blocked by the flood would take the whole flood (~2 s)
        assert.ok(pingMs < 1000, `PING answered in ${pingMs} ms during the flood`);
        await carol.expect(/ PRIVMSG #flood :flood 99$/, 8000);
        const lines = carol.received.slice(from);
        const elapsed = Date.now() - t0;
        const got = lines.filter((x) => / PRIVMSG #flood :flood \d+$/.test(x)).map((x) => Number(/(\d+)$/.exec(x)![1]));
        assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i), 'every message, in order');
        // ~90 envelopes over the burst at 50/s: about 1.8 s
        assert.ok(elapsed >= 1200, `the flood was not slowed down (${elapsed} ms)`);
        assert.ok(F.logs.some((x) => x.msg.startsWith('S2S peer over its rate') && x.peer === key.id), 'throttling logged');
        assert.ok(!F.logs.some((x) => x.msg === 'S2S event refused'), 'nothing refused or dropped');
        assert.ok(F.server.federation!.peers.linkTo(key.id), 'the link is still up');
        await l.sync();
        l.close();
      } finally {
        await F.stop();
      }
    });

    test('a burst (netjoin users and joins) has its own, larger rate: 300 users are never throttled by a live rate of 50 events/s', async () => {
      const key = peerKey();
      const F = await bootServer({ 'server-name': 'f.test', ...listen, 's2s-allowed-peers': key.id, 's2s-peer-rate': 50, 's2s-peer-burst': 10, 's2s-peer-burst-rate': 5000 }, undefined, undefined, { captureLogs: true });
      try {
        const l = await LyingPeer.connect({ ...to(F), key });
        liars.push(l);
        for (let i = 0; i < 300; i++) {
          const u = l.user(`b${i}`);
          l.emit({ kind: 'register', user: u, netjoin: true });
          l.emit({ kind: 'join', user: wire(u), channel: '#burst', status: '', ts: Date.now(), netjoin: true });
        }
        await l.sync(20_000);
        assert.equal(F.server.context.world.findChannel('#burst')?.members.size, 300);
        // 600 events against a live bucket of 10 at 50/s would pause the link many times; the
        // burst's own bucket (20,000 deep) never does (the count, not the time: no timed test)
        const metrics = await F.server.context.metrics.text();
        assert.doesNotMatch(metrics, new RegExp(`freeq_s2s_throttled_total\\{peer="${key.id}"\\} [1-9]`));
        assert.ok(!F.logs.some((x) => x.msg.startsWith('S2S peer over its rate')), 'not throttled');
        // live events from the same peer are still held to the live rate
        const m = l.register('live');
        for (let i = 0; i < 40; i++) l.emit({ kind: 'away', user: wire(m), away: `away ${i}` });
        await l.sync(20_000);
        assert.match(await F.server.context.metrics.text(), new RegExp(`freeq_s2s_throttled_total\\{peer="${key.id}"\\} [1-9]`));
        l.close();
      } finally {
        await F.stop();
      }
    });
  });
}
