// #16: who may REDACT what (state/redact-ops.ts), the matrix the command and federation share:
// sender (by account; a guest by network-wide id and connection time; a remote user within the
// clock drift), channel operator, server operator (local only: a peer's operators have no rights
// here), private conversations; each refusal with the spec's FAIL code, recording and emitting
// nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Channel, Membership } from '../../../src/state/channel.js';
import type { StateEvent } from '../../../src/state/events.js';
import { RedactOps, RedactRefusal, type RedactionRecord, type StoredRef } from '../../../src/state/redact-ops.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { World } from '../../../src/state/world.js';

const link: Recipient = { tagMask: 0, hasCap: () => false, deliver() {}, disconnect() {} };
const NOW = 10_000_000;
const WINDOW = 15 * 60_000;
let ids = 0;

function user(nick: string, o: { account?: string; uid?: string; signonAt?: number; origin?: string; oper?: boolean } = {}): User {
  const u = new User(++ids, o.origin ? '' : '192.0.2.1', false, link, o.signonAt ?? NOW - 3_600_000, 'h');
  u.nick = nick;
  u.username = nick;
  u.registered = true;
  u.uid = o.uid ?? `AAAAAAAA${String(ids).padStart(6, '0')}`;
  if (o.account) u.account = o.account;
  if (o.origin) u.origin = o.origin;
  if (o.oper) u.modes.add('o');
  return u;
}

function setup() {
  const world = new World();
  const ch = new Channel('#Room', '#room', 1);
  world.channels.set('#room', ch);
  const rows = new Map<string, StoredRef>();
  const recorded: RedactionRecord[] = [];
  const events: StateEvent[] = [];
  const ops = new RedactOps(world, (ev) => events.push(ev), {
    find: (id) => rows.get(id),
    record: (r) => { recorded.push(r); return true; },
    newMsgid: () => `r${recorded.length + 1}`,
    channelVenue: (name) => name.toLowerCase(),
    visibility: (c) => (c.modes.s ? 1 : 0),
    windowMs: WINDOW,
  }, () => NOW);
  const join = (u: User, op = false): void => {
    const m = new Membership(1);
    if (op) m.add('o');
    ch.members.set(u, m);
    world.nicks.set(u.nick.toLowerCase(), u);
  };
  const said = (msgid: string, by: User, o: Partial<StoredRef> = {}): void => {
    rows.set(msgid, { msgid, venue: '#room', time: NOW - 60_000, command: 'PRIVMSG', source: by.mask, vis: 0, redacted: false, uid: by.uid, ...(by.account ? { account: by.account } : {}), ...o });
  };
  return { world, ch, ops, rows, recorded, events, join, said };
}

/** the FAIL code of a refusal (nothing recorded, nothing emitted), or 'ok' */
function outcome(s: ReturnType<typeof setup>, by: User, req: Parameters<RedactOps['redact']>[1]): string {
  const before = [s.recorded.length, s.events.length];
  try {
    s.ops.redact(by, req);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof RedactRefusal, String(e));
    assert.deepEqual([s.recorded.length, s.events.length], before, 'a refusal changes nothing');
    return e.code;
  }
}

describe('REDACT authorization', () => {
  test('the sender: by account from any connection; a guest by its id, only on the connection that said it', () => {
    const s = setup();
    const acct = user('a', { account: 'did:plc:a' });
    const sameAccount = user('a2', { account: 'did:plc:a' });
    const guest = user('g');
    const reused = user('g2', { uid: guest.uid, signonAt: NOW - 1000 }); // the id again, after a restart
    for (const u of [acct, sameAccount, guest, reused]) s.join(u);
    s.said('m1', acct);
    s.said('m2', guest);
    s.said('m3', guest);
    assert.equal(outcome(s, sameAccount, { target: '#room', msgid: 'm1' }), 'ok');
    assert.equal(outcome(s, reused, { target: '#room', msgid: 'm2' }), 'REDACT_FORBIDDEN');
    assert.equal(outcome(s, guest, { target: '#Room', msgid: 'm2', reason: 'typo' }), 'ok');
    const r = s.recorded.at(-1)!;
    assert.deepEqual([r.command, r.redacts, r.venue, r.target, r.text, r.msgid], ['REDACT', 'm2', '#room', '#Room', 'typo', 'r2']);
    assert.equal(s.events.at(-1)!.kind, 'redact');
  });

  test('the window: past it, REDACT_WINDOW_EXPIRED with the window in seconds; a channel operator and a server operator are not bound by it', () => {
    const s = setup();
    const u = user('u', { account: 'did:plc:u' });
    const op = user('op');
    const oper = user('oper', { oper: true });
    s.join(u);
    s.join(op, true);
    for (const id of ['old1', 'old2', 'old3']) s.said(id, u, { time: NOW - WINDOW - 1 });
    s.said('edge', u, { time: NOW - WINDOW });
    assert.equal(outcome(s, u, { target: '#room', msgid: 'edge' }), 'ok');
    assert.throws(() => s.ops.redact(u, { target: '#room', msgid: 'old1' }), (e: RedactRefusal) => e.code === 'REDACT_WINDOW_EXPIRED' && e.params.join(' ') === '#room old1 900');
    assert.equal(outcome(s, op, { target: '#room', msgid: 'old2' }), 'ok');
    assert.equal(outcome(s, oper, { target: '#room', msgid: 'old3' }), 'ok', 'a server operator, not even in the channel');
  });

  test('a peer\'s users: never a server operator here; a guest\'s message within the clock drift of its introduction', () => {
    const s = setup();
    const PEER = 'b'.repeat(64);
    const remoteOper = user('ro', { origin: PEER, oper: true });
    const remoteGuest = user('rg', { origin: PEER, signonAt: NOW - 30_000 });
    const local = user('l');
    for (const u of [remoteOper, remoteGuest, local]) s.join(u);
    s.said('l1', local);
    s.said('g1', remoteGuest, { time: NOW - 50_000 }); // before its introduction here, within the drift
    s.said('g2', remoteGuest, { time: NOW - 200_000 });
    assert.equal(outcome(s, remoteOper, { target: '#room', msgid: 'l1' }), 'REDACT_FORBIDDEN');
    assert.equal(outcome(s, remoteGuest, { target: '#room', msgid: 'g1' }), 'ok');
    assert.equal(outcome(s, remoteGuest, { target: '#room', msgid: 'g2' }), 'REDACT_FORBIDDEN');
    // a peer's redaction cannot be backdated into the window: at most the clock drift behind ours
    const remoteAcct = user('ra', { origin: PEER, account: 'did:plc:ra' });
    s.join(remoteAcct);
    s.said('old', remoteAcct, { time: NOW - WINDOW - 120_000 });
    s.said('recent', remoteAcct, { time: NOW - WINDOW + 30_000 });
    // claimed a minute after the message: taken as a minute before our clock, past the window
    assert.equal(outcome(s, remoteAcct, { target: '#room', msgid: 'old', fromOrigin: { msgid: 'peer-r1', at: NOW - WINDOW - 60_000 } }), 'REDACT_WINDOW_EXPIRED');
    // made 45 s ago on its server (a slow path), when 75 s of the window were left: believed
    assert.equal(outcome(s, remoteAcct, { target: '#room', msgid: 'recent', fromOrigin: { msgid: 'peer-r2', at: NOW - 45_000 } }), 'ok');
  });

  test('unknown, wrong venue, gone, a REDACT itself, a hidden channel seen from outside: UNKNOWN_MSGID; not a conversation: INVALID_TARGET', () => {
    const s = setup();
    const u = user('u');
    const out = user('out');
    s.join(u);
    s.said('m1', u);
    s.said('elsewhere', u, { venue: '#other' });
    s.said('gone', u, { redacted: true });
    s.said('aredact', u, { command: 'REDACT' });
    assert.equal(outcome(s, u, { target: '#room', msgid: 'nope' }), 'UNKNOWN_MSGID');
    assert.equal(outcome(s, u, { target: '#room', msgid: 'elsewhere' }), 'UNKNOWN_MSGID');
    assert.equal(outcome(s, u, { target: '#room', msgid: 'gone' }), 'UNKNOWN_MSGID');
    assert.equal(outcome(s, u, { target: '#room', msgid: 'aredact' }), 'UNKNOWN_MSGID');
    assert.equal(outcome(s, out, { target: '#room', msgid: 'm1' }), 'REDACT_FORBIDDEN', 'a visible channel: forbidden');
    s.ch.modes.s = true;
    assert.equal(outcome(s, out, { target: '#room', msgid: 'm1' }), 'UNKNOWN_MSGID', 'a secret one: as if unknown');
    assert.equal(outcome(s, u, { target: 'nobody', msgid: 'm1' }), 'INVALID_TARGET');
  });

  test('private conversations: the sender, or a server operator naming either side; the recipient and anyone else not', () => {
    const s = setup();
    const a = user('a', { account: 'did:plc:a' });
    const b = user('b', { account: 'did:plc:b' });
    const c = user('c', { account: 'did:plc:c' });
    const oper = user('oper', { oper: true });
    for (const u of [a, b, c]) s.world.nicks.set(u.nick, u);
    const dm = (id: string): void => s.said(id, a, { venue: 'dm:did:plc:a,did:plc:b' });
    for (const id of ['d1', 'd2', 'd3']) dm(id);
    assert.equal(outcome(s, b, { target: 'a', msgid: 'd1' }), 'REDACT_FORBIDDEN', 'the recipient');
    assert.equal(outcome(s, c, { target: 'a', msgid: 'd1' }), 'UNKNOWN_MSGID', 'not their conversation');
    assert.equal(outcome(s, a, { target: 'c', msgid: 'd1' }), 'UNKNOWN_MSGID', 'another conversation of the sender');
    assert.equal(outcome(s, a, { target: 'b', msgid: 'd1' }), 'ok');
    const ev = s.events.at(-1)!;
    assert.deepEqual(ev.kind === 'redact' && [ev.parties, ev.did, ev.channel], [['did:plc:a', 'did:plc:b'], 'did:plc:b', undefined]);
    assert.equal(outcome(s, a, { target: 'did:plc:b', msgid: 'd2' }), 'ok', 'by DID');
    assert.equal(outcome(s, oper, { target: 'b', msgid: 'd3' }), 'ok');
  });
});
