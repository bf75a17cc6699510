// #16 draft/message-redaction across federation (docs/federation.md): a REDACT made on one server
// reaches the linked servers' clients and their stored history, and each server applies a peer's
// redaction with the same rules as a local REDACT (state/redact-ops.ts, through
// federation/apply.ts): a peer cannot redact what its user has no right to.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fedDirs, FAST_LINKS, freeTcpPort, until } from '../harness/federation.js';
import { hlcAt, LyingPeer, peerKey, wire, type PeerKey, type RegisteredUser } from '../harness/lying-peer.js';
import { bootServer, type LogRecord, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { tagsOf, untagged } from './history-helpers.js';

const CAP = 'draft/message-redaction';
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&');

/** the stored content of `msgid` on a server (its own SQLite file, read-only beside it: WAL); undefined: no such row */
function body(dataDir: string, msgid: string): { body: string | null; redacted: number } | undefined {
  const db = new Database(join(dataDir, 'freeq.db'), { readonly: true });
  try {
    return db.prepare('SELECT body, redacted FROM messages WHERE msgid = ?').get(msgid) as { body: string | null; redacted: number } | undefined;
  } finally {
    db.close();
  }
}

describe('REDACT between two linked servers', () => {
  const { dataDir, cleanup } = fedDirs('freeq-redact-fed-');
  const running: TestServer[] = [];
  after(async () => {
    for (const s of running) await s.stop().catch(() => {});
    cleanup();
  });

  test('a redaction on one server reaches the other\'s clients and history, both ways; a non-op is refused at home', async () => {
    const a = dataDir();
    const b = dataDir();
    const aPort = await freeTcpPort();
    const A = await bootServer({ ...FAST_LINKS, 'server-name': 'a.test', 's2s-listen-addr': `127.0.0.1:${aPort}`, 's2s-allowed-peers': b.id }, a.dir);
    running.push(A);
    const B = await bootServer({ ...FAST_LINKS, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${aPort}`, 's2s-allowed-peers': a.id }, b.dir);
    running.push(B);
    await until(() => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1, 'linked');
    const alice = await A.client('alice', { caps: ['message-tags', 'echo-message', CAP] });
    const bob = await B.client('bob', { caps: ['message-tags', 'echo-message', CAP] });
    const carol = await B.client('carol', { caps: ['message-tags'] });
    alice.send('JOIN #fed');
    await alice.expect(/ 366 alice #fed /);
    await until(() => B.server.context.world.findChannel('#fed')?.members.size === 1, '#fed at B');
    for (const c of [bob, carol]) {
      c.send('JOIN #fed');
      await c.expect(new RegExp(` 366 ${c.nick} #fed `));
    }
    await alice.expect(/^(@\S+ )?:carol!\S+ JOIN #fed$/);

    alice.send('PRIVMSG #fed :said on a');
    const msgid = tagsOf(await bob.expect((_l, m) => m.command === 'PRIVMSG')).msgid!;
    await until(() => body(b.dir, msgid)?.body != null, 'stored at B');
    // bob (not an operator) is refused by his own server, which sends nothing on
    bob.send(`REDACT #fed ${msgid}`);
    assert.equal(untagged(await bob.expect('FAIL')), `:b.test FAIL REDACT REDACT_FORBIDDEN #fed ${msgid} :You are not authorised to delete this message`);
    // the sender redacts on A: B's clients with the capability get the same REDACT (same msgid)
    alice.send(`REDACT #fed ${msgid} :oops`);
    const echo = await alice.expect((_l, m) => m.command === 'REDACT');
    const got = await bob.expect((_l, m) => m.command === 'REDACT');
    assert.match(untagged(got), new RegExp(`^:alice!\\S+ REDACT #fed ${msgid} :?oops$`));
    assert.equal(tagsOf(got).msgid, tagsOf(echo).msgid, 'one REDACT, one msgid on every server');
    // and B's history loses the content too
    await until(() => body(b.dir, msgid)?.body === null, 'redacted at B');
    assert.equal(body(a.dir, msgid)?.body, null);
    assert.equal(body(b.dir, msgid)?.redacted, 1);
    // carol (no capability) saw nothing of it
    const carolLines = (await carol.sync()).filter((l) => l.includes('REDACT'));
    assert.deepEqual(carolLines, []);

    // the other way: bob, made an operator of #fed, redacts alice's next message on B
    alice.send('MODE #fed +o bob');
    await bob.expect(/ MODE #fed \+o bob$/);
    alice.send('PRIVMSG #fed :second');
    const second = tagsOf(await bob.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === 'second')).msgid!;
    await until(() => body(a.dir, second)?.body != null, 'stored at A');
    bob.send(`REDACT #fed ${second} :moderated`);
    assert.match(untagged(await alice.expect((_l, m) => m.command === 'REDACT')), new RegExp(`^:bob!\\S+ REDACT #fed ${second} :?moderated$`));
    await until(() => body(a.dir, second)?.body === null, 'redacted at A');
  });
});

describe('a peer\'s REDACT is authorized here like a local one', () => {
  const FULL = peerKey();
  const RELAY = peerKey();
  const READONLY = peerKey();
  let srv: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  const liars: LyingPeer[] = [];
  let n = 0;

  before(async () => {
    srv = await bootServer(
      { 'server-name': 'a.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': FULL.id, 'channel-creation-per-connection': 1000 },
      undefined,
      { s2s: { peers: { [RELAY.id]: { trust: 'relay' }, [READONLY.id]: { trust: 'readonly' } } } },
      { captureLogs: true },
    );
    alice = await srv.client('alice', { caps: ['message-tags', 'echo-message', CAP] });
    bob = await srv.client('bob', { caps: ['message-tags', CAP] });
  });
  after(async () => {
    for (const l of liars) l.close();
    await srv.stop();
  });
  afterEach(async () => {
    for (const l of liars.splice(0)) l.close();
    await until(() => srv.server.federation!.peers.linked.length === 0, 'links closed');
    await alice.sync();
    await bob.sync();
  });

  /** alice (op) and bob on a fresh channel, and the peer's user `m` on it */
  async function scene(key: PeerKey = FULL): Promise<{ liar: LyingPeer; m: RegisteredUser; ch: string }> {
    const ch = `#redfed${++n}`;
    for (const c of [alice, bob]) {
      c.send(`JOIN ${ch}`);
      await c.expect(new RegExp(` 366 ${c.nick} ${esc(ch)} `));
    }
    const liar = await LyingPeer.connect({ port: srv.server.addresses.s2s!.port, key });
    liars.push(liar);
    const m = liar.register(`peeruser${n}`);
    liar.join(m, ch);
    await liar.sync();
    await bob.expect(new RegExp(`^(@\\S+ )?:${m.nick}!\\S+ JOIN ${esc(ch)}$`));
    await alice.expect(new RegExp(`^(@\\S+ )?:${m.nick}!\\S+ JOIN ${esc(ch)}$`));
    return { liar, m, ch };
  }

  function refusedLogged(mark: number, reason: RegExp): LogRecord {
    const hit = srv.logs.slice(mark).find((l) => l.msg === 'S2S event refused' && reason.test(String(l.reason)));
    assert.ok(hit, `no "S2S event refused" with ${reason}:\n${srv.logs.slice(mark).map((l) => JSON.stringify(l)).join('\n')}`);
    return hit;
  }

  /** nothing about a REDACT reached the local clients */
  async function noRedact(): Promise<void> {
    for (const c of [alice, bob]) assert.deepEqual((await c.sync()).filter((l) => l.includes('REDACT')), [], `${c.nick} saw a REDACT`);
  }

  test('its user redacts its own message: applied (relayed, history blanked); the same msgid as the origin\'s', async () => {
    const { liar, m, ch } = await scene();
    liar.say(m, ch, 'from the peer', { msgid: `peer-${n}-1` });
    await bob.expect(/ PRIVMSG \S+ :from the peer$/);
    await until(() => body(srv.dataDir, `peer-${n}-1`)?.body != null, 'stored');
    liar.emit({ kind: 'redact', user: wire(m), target: ch, msgid: `peer-${n}-1`, reason: 'mine', id: `peer-${n}-r`, at: Date.now() });
    const got = await bob.expect((_l, x) => x.command === 'REDACT');
    assert.match(untagged(got), new RegExp(`^:${m.nick}!\\S+ REDACT ${esc(ch)} peer-${n}-1 :?mine$`));
    assert.equal(tagsOf(got).msgid, `peer-${n}-r`);
    await alice.expect((_l, x) => x.command === 'REDACT');
    await until(() => body(srv.dataDir, `peer-${n}-1`)?.body === null, 'redacted');
  });

  test('refused, changing nothing: a local user\'s message (not an operator), as a local user, past the window, far ahead, from a readonly peer', async () => {
    const { liar, m, ch } = await scene();
    alice.send(`PRIVMSG ${ch} :local words`);
    const local = tagsOf(await alice.expect((_l, x) => x.command === 'PRIVMSG' && x.params[1] === 'local words')).msgid!;
    const u = srv.server.context.world.findUser('alice')!;
    const aliceWire = { uid: u.uid, nick: u.nick, username: u.username, host: u.host };
    // an old message (20 minutes: past the default redact-window of 15) of a logged-in user of the
    // peer's (a full peer is believed about DIDs: the message is that account's)
    const did = liar.register(`peerdid${n}`, { account: `did:plc:peer${n}` });
    liar.join(did, ch);
    liar.say(did, ch, 'old words', { msgid: `peer-${n}-old`, at: Date.now() - 20 * 60_000 });
    await bob.expect(/ PRIVMSG \S+ :old words$/);
    const cases: { send: () => void; reason: RegExp }[] = [
      { send: () => liar.emit({ kind: 'redact', user: wire(m), target: ch, msgid: local, id: `peer-${n}-a`, at: Date.now() }), reason: /^REDACT_FORBIDDEN / },
      { send: () => liar.emit({ kind: 'redact', user: aliceWire, target: ch, msgid: local, id: `peer-${n}-b`, at: Date.now() }), reason: /is not of origin/ },
      { send: () => liar.emit({ kind: 'redact', user: wire(did), target: ch, msgid: `peer-${n}-old`, id: `peer-${n}-c`, at: Date.now() }), reason: /^REDACT_WINDOW_EXPIRED \S+ \S+ 900 / },
      { send: () => liar.emit({ kind: 'redact', user: wire(did), target: ch, msgid: `peer-${n}-old`, id: `peer-${n}-d`, at: Date.now() + 3_600_000 }, { hlc: hlcAt(Date.now()) }), reason: /too far in the future/ },
    ];
    for (const c of cases) {
      const mark = srv.logs.length;
      c.send();
      await liar.sync();
      refusedLogged(mark, c.reason);
    }
    await noRedact();
    assert.notEqual(body(srv.dataDir, local)?.body, null);
    assert.notEqual(body(srv.dataDir, `peer-${n}-old`)?.body, null);

    const ro = await LyingPeer.connect({ port: srv.server.addresses.s2s!.port, key: READONLY });
    liars.push(ro);
    const mark = srv.logs.length;
    ro.emit({ kind: 'redact', user: wire(m), target: ch, msgid: local, id: `peer-${n}-e`, at: Date.now() });
    await ro.sync();
    refusedLogged(mark, /^redact is not accepted from a readonly peer$/);
    await noRedact();
    assert.notEqual(body(srv.dataDir, local)?.body, null);
  });

  test('a relay peer\'s user (a guest here) redacts its own message', async () => {
    const { liar, m, ch } = await scene(RELAY);
    liar.say(m, ch, 'relayed words', { msgid: `relay-${n}-1` });
    await bob.expect(/ PRIVMSG \S+ :relayed words$/);
    liar.emit({ kind: 'redact', user: wire(m), target: ch, msgid: `relay-${n}-1`, id: `relay-${n}-r`, at: Date.now() });
    await bob.expect((_l, x) => x.command === 'REDACT' && x.params[1] === `relay-${n}-1`);
    await until(() => body(srv.dataDir, `relay-${n}-1`)?.body === null, 'redacted');
  });
});
