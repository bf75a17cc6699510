// #13: the HLC stamp and origin of each durable channel register (topic, modes, key, limit,
// founder) and of each list entry, DID op and DID invite are stored in SQLite (migration 8,
// storage/repos/channels.ts) and restored at startup — over a real database file, through Ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Channel, ChannelStamps } from '../../../src/state/channel.js';
import { Cloaks, DEFAULT_DID_CLOAK, DEFAULT_GUEST_CLOAK } from '../../../src/state/cloak.js';
import { decodeHlc, type Stamp } from '../../../src/state/hlc.js';
import { parseChannelModes } from '../../../src/state/modes.js';
import { Ops } from '../../../src/state/ops.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { World } from '../../../src/state/world.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { migrate, openDb } from '../../../src/storage/db.js';
import { MIGRATIONS } from '../../../src/storage/migrations/index.js';
import { SqliteAccountStore } from '../../../src/storage/repos/accounts.js';
import { readStamp, SqliteChannelStore } from '../../../src/storage/repos/channels.js';

const PEER = 'ab'.repeat(32); // a peer id: 64 hex
const DID = { founder: 'did:plc:founder', op: 'did:plc:op', visitor: 'did:plc:visitor' } as const;
const link: Recipient = { tagMask: 0, hasCap: () => false, deliver: () => {}, disconnect: () => {} };

function withDir(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-stamps-'));
  try {
    fn(join(dir, 'freeq.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A server's state over the database at `path`: a real Ops on the real SQLite stores, restored. */
function boot(path: string, key: Buffer, t: number) {
  const db = openDb(path);
  const world = new World();
  const clock = { now: () => t };
  const cloaks = new Cloaks(randomBytes(32), { guestCloak: DEFAULT_GUEST_CLOAK, didCloak: DEFAULT_DID_CLOAK });
  const store = new SqliteChannelStore(db, new FieldCipher(key));
  const accounts = new SqliteAccountStore(db, (err) => { throw err; });
  const ops = new Ops(world, store, accounts, () => {}, {
    maxListEntries: 10, whowasLen: 10, maxChannels: 5, operDids: [], cloaks,
    maxChannelsTotal: 100, maxChannelsPerAccount: 10, channelExpiry: 0, foundedChannelExpiry: 0, serverId: PEER,
  }, clock);
  const skipped = ops.restore();
  let id = 0;
  return {
    db, world, ops, store, skipped,
    /** a registered local user, logged in as `did` (as a session does it) */
    user(nick: string, did?: string): User {
      const ip = `192.0.2.${++id}`;
      const u = new User(id, ip, false, link, t, cloaks.guest(ip));
      ops.addUser(u);
      ops.setHost(u, nick.toLowerCase(), u.host);
      ops.setNick(u, nick);
      if (did !== undefined) ops.login(u, { did });
      ops.completeRegistration(u);
      ops.applyAccountPrivileges(u);
      return u;
    },
    mode(by: User, ch: Channel, modestr: string, ...params: string[]): void {
      const parsed = parseChannelModes(modestr, params, 100);
      ops.changeChannelModes(by, ch, parsed.changes, (e) => { throw e; });
    },
    close(): void { accounts.flush(); db.close(); },
  };
}

/** everything stamped on a channel, as plain data */
function stampsOf(ch: Channel) {
  return {
    registers: { ...ch.stamps },
    b: ch.lists.b.entries.map((e) => [e.mask, e.stamp]),
    didOps: [...ch.didOps].map(([did, g]) => [did, g.stamp]),
    didInvites: [...ch.didInvites].map(([did, g]) => [did, g.stamp]),
  };
}

/** the schema before migration 8, with one channel of each kind of row and no stamps */
function preMigrationDb(path: string): void {
  const old = new Database(path);
  migrate(old, {}, 7);
  old.prepare("INSERT INTO channels (name_folded, name, created_at, modes, user_limit, founder_did) VALUES ('#old', '#old', 1, 'nt', 5, ?)").run(DID.founder);
  old.prepare("INSERT INTO channel_lists (channel, mode, mask, set_by, set_at, position) VALUES ('#old', 'b', '*!*@bad.example', 'f!f@h', 2, 0)").run();
  old.prepare("INSERT INTO channel_did_ops (channel, did, granted_by, granted_at) VALUES ('#old', ?, ?, 3)").run(DID.op, DID.founder);
  old.prepare("INSERT INTO channel_did_invites (channel, did, invited_by, invited_at) VALUES ('#old', ?, ?, 4)").run(DID.visitor, DID.founder);
  old.close();
}

test('stamps set through Ops survive a restart: topic, modes, key, limit, founder, a +b entry, a DID op, a DID invite', () => {
  withDir((path) => {
    const key = randomBytes(32);
    const a = boot(path, key, 1_700_000_000_000);
    const founder = a.user('Founder', DID.founder);
    a.ops.join(founder, '#c', undefined);
    const ch = a.world.findChannel('#c')!;
    a.ops.setTopic(founder, ch, 'stamped');
    a.mode(founder, ch, '+mkl', 'sekrit', '7');
    a.mode(founder, ch, '+b', '*!*@bad.example');
    const op = a.user('Op', DID.op);
    a.ops.join(op, '#c', 'sekrit');
    a.mode(founder, ch, '+o', 'Op');
    a.ops.invite(founder, a.user('Visitor', DID.visitor), ch);

    const before = stampsOf(ch);
    const all: Stamp[] = [
      ...Object.values(before.registers), ...before.b.map((x) => x[1] as Stamp),
      ...before.didOps.map((x) => x[1] as Stamp), ...before.didInvites.map((x) => x[1] as Stamp),
    ];
    assert.deepEqual(Object.keys(before.registers).sort(), ['bans', 'didops', 'founder', 'key', 'limit', 'modes', 'topic'], 'every register is stamped');
    // the +b list's register has the stamp of its last change (the entry), the DID ops' of the grant
    assert.deepEqual(before.registers.bans, before.b[0]![1]);
    assert.deepEqual(before.registers.didops, before.didOps[0]![1]);
    assert.equal(all.length, 10);
    for (const s of all) {
      assert.ok(decodeHlc(s.hlc), `well-formed hlc ${s.hlc}`);
      assert.equal(s.origin, PEER);
    }
    // one fresh stamp per change (a list's and the DID ops' registers share their entry's)
    assert.equal(new Set(all.map((s) => s.hlc)).size, all.length - 2, 'one fresh stamp per change');
    a.close();

    // a second server on the same file, later
    const b = boot(path, key, 1_700_000_060_000);
    const back = b.world.findChannel('#c');
    assert.ok(back, 'the channel is restored');
    assert.deepEqual(stampsOf(back), before);
    assert.equal(back.topic?.text, 'stamped');
    assert.equal(back.modes.k, 'sekrit');
    b.close();
  });
});

test('stamps in the columns: a register cleared by a change keeps its stamp; a re-grant replaces the grant stamp', () => {
  withDir((path) => {
    const key = randomBytes(32);
    const a = boot(path, key, 1_700_000_000_000);
    const founder = a.user('Founder', DID.founder);
    a.ops.join(founder, '#c', undefined);
    const ch = a.world.findChannel('#c')!;
    a.mode(founder, ch, '+k', 'sekrit');
    a.mode(founder, ch, '-k');
    const cleared = ch.stamps.key!;
    const row = a.db.prepare('SELECT chan_key, key_hlc, key_origin FROM channels WHERE name_folded = ?').get('#c');
    assert.deepEqual(row, { chan_key: null, key_hlc: cleared.hlc, key_origin: PEER }, 'a removal is a stamped change too (LWW)');

    const first: Stamp = { hlc: '1700000000000.000001', origin: PEER };
    const second: Stamp = { hlc: '1700000000001.000000', origin: 'cd'.repeat(32) };
    a.store.addDidOp(ch, DID.op, { by: DID.founder, at: 1, stamp: first });
    a.store.addDidOp(ch, DID.op, { by: DID.founder, at: 2, stamp: second });
    a.store.addDidInvite(ch, DID.visitor, { by: DID.founder, at: 1, stamp: first });
    a.store.addDidInvite(ch, DID.visitor, { by: DID.founder, at: 2 });
    const p = a.store.loadAll().find((x) => x.name === '#c')!;
    assert.deepEqual(p.didOps, [{ did: DID.op, by: DID.founder, at: 2, stamp: second }]);
    assert.deepEqual(p.didInvites, [{ did: DID.visitor, by: DID.founder, at: 2 }], 'a grant without a stamp stores none');
    a.close();
  });
});

test('a database from before migration 8 migrates and loads with no stamps; new changes are stamped', () => {
  withDir((path) => {
    preMigrationDb(path);
    const key = randomBytes(32);
    const a = boot(path, key, 1_700_000_000_000);
    assert.equal(a.db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)!.version);
    const cols = (t: string) => (a.db.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string; notnull: number }>).filter((c) => /(_|^)(hlc|origin)$/.test(c.name));
    assert.deepEqual(cols('channels').map((c) => c.name), [
      'topic_hlc', 'topic_origin', 'modes_hlc', 'modes_origin', 'key_hlc', 'key_origin', 'limit_hlc', 'limit_origin', 'founder_hlc', 'founder_origin',
      'bans_hlc', 'bans_origin', 'excepts_hlc', 'excepts_origin', 'invex_hlc', 'invex_origin', 'didops_hlc', 'didops_origin',
    ]);
    for (const t of ['channel_lists', 'channel_did_ops', 'channel_did_invites']) assert.deepEqual(cols(t).map((c) => [c.name, c.notnull]), [['hlc', 0], ['origin', 0]], t);

    const [p] = a.store.loadAll();
    assert.ok(p);
    assert.equal(p.stamps, undefined);
    assert.deepEqual(p.lists.b, [{ mask: '*!*@bad.example', setBy: 'f!f@h', setAt: 2 }]);
    assert.deepEqual(p.didOps, [{ did: DID.op, by: DID.founder, at: 3 }]);
    assert.deepEqual(p.didInvites, [{ did: DID.visitor, by: DID.founder, at: 4 }]);
    const ch = a.world.findChannel('#old')!;
    assert.deepEqual(stampsOf(ch), {
      registers: {}, b: [['*!*@bad.example', undefined]], didOps: [[DID.op, undefined]], didInvites: [[DID.visitor, undefined]],
    });

    // a change after the upgrade stamps its register only
    const founder = a.user('Founder', DID.founder);
    a.ops.join(founder, '#old', undefined);
    a.mode(founder, ch, '+i');
    const modes = ch.stamps.modes;
    assert.ok(modes);
    a.close();
    const b = boot(path, key, 1_700_000_001_000);
    assert.deepEqual(b.world.findChannel('#old')!.stamps, { modes } satisfies ChannelStamps);
    b.close();
  });
});

test('a malformed stored stamp is ignored (read as not stamped), the rest of the channel loads', () => {
  withDir((path) => {
    const key = randomBytes(32);
    const a = boot(path, key, 1_700_000_000_000);
    const founder = a.user('Founder', DID.founder);
    a.ops.join(founder, '#c', undefined);
    const ch = a.world.findChannel('#c')!;
    a.ops.setTopic(founder, ch, 'kept');
    a.mode(founder, ch, '+mkl', 'sekrit', '7');
    a.mode(founder, ch, '+b', '*!*@bad.example');
    a.mode(founder, ch, '+b', '*!*@worse.example');
    const good = ch.stamps.founder!;
    const goodEntry = ch.lists.b.entries[1]!.stamp!;
    // damage: a bad hlc, a bad origin, a half-written pair, a too-long counter
    a.db.prepare(`UPDATE channels SET topic_hlc = 'yesterday', modes_origin = 'NOT-A-PEER', limit_origin = NULL,
      key_hlc = '1700000000000.0000001', bans_hlc = '1700000000000.00000x' WHERE name_folded = '#c'`).run();
    a.db.prepare("UPDATE channel_lists SET hlc = '1700000000000.00000' WHERE mask = '*!*@bad.example'").run();
    a.close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO channel_did_ops (channel, did, granted_by, granted_at, hlc, origin) VALUES ('#c', ?, ?, 5, ?, ?)")
      .run(DID.op, DID.founder, ' 1700000000000.000001', PEER);
    raw.close();

    const b = boot(path, key, 1_700_000_001_000);
    const p = b.store.loadAll().find((x) => x.name === '#c')!;
    assert.deepEqual(p.stamps, { founder: good }, 'only the well-formed stamp is read');
    assert.deepEqual(p.lists.b.map((e) => e.stamp), [undefined, goodEntry]);
    assert.ok(!('stamp' in p.lists.b[0]!), 'no stamp field at all');
    assert.deepEqual(p.didOps, [{ did: DID.op, by: DID.founder, at: 5 }]);
    const back = b.world.findChannel('#c')!;
    assert.deepEqual(back.stamps, { founder: good });
    assert.equal(back.topic?.text, 'kept');
    assert.equal(back.modes.l, 7);
    b.close();
  });
});

test("readStamp accepts exactly state/hlc.ts decodeHlc's encoding (storage keeps its own copy of the format)", () => {
  const samples = [
    '1733443200000.000000', '0000000000000.000000', '9999999999999.999999', '1733443200000.00000', '1733443200000.0000001',
    '173344320000.000000', '1733443200000-000000', ' 1733443200000.000000', '1733443200000.000000\n', '', 'x'.repeat(20),
    '１７３３４４３２００００.000000', '1733443200000.00000a',
  ];
  for (const s of samples) assert.equal(readStamp(s, PEER) !== undefined, decodeHlc(s) !== undefined, JSON.stringify(s));
  assert.deepEqual(readStamp('1733443200000.000000', PEER), { hlc: '1733443200000.000000', origin: PEER });
  for (const origin of [null, '', 'AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'zz'.repeat(32)]) {
    assert.equal(readStamp('1733443200000.000000', origin), undefined, `origin ${origin}`);
  }
  assert.equal(readStamp(null, PEER), undefined);
});
