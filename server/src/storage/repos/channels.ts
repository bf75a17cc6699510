import type { Channel, ChannelStamps, DidGrant, ListEntry, ListMode } from '../../state/channel.js';
import type { Stamp } from '../../state/hlc.js';
import type { ChannelStore, PersistedChannel } from '../../state/store.js';
import type { Db } from '../db.js';
import { aadFor, type FieldCipher } from '../crypto.js';

interface ChannelRow {
  name_folded: string; name: string; created_at: number; topic: string | null; topic_set_by: string | null;
  topic_set_at: number | null; modes: string; chan_key: string | null; user_limit: number | null; founder_did: string | null;
  empty_since: number | null;
  topic_hlc: string | null; topic_origin: string | null; modes_hlc: string | null; modes_origin: string | null;
  key_hlc: string | null; key_origin: string | null; limit_hlc: string | null; limit_origin: string | null;
  founder_hlc: string | null; founder_origin: string | null;
  bans_hlc: string | null; bans_origin: string | null; excepts_hlc: string | null; excepts_origin: string | null;
  invex_hlc: string | null; invex_origin: string | null; didops_hlc: string | null; didops_origin: string | null;
}
/** a stamp's two columns (migration 8); both NULL in rows from before it */
interface StampCols { hlc: string | null; origin: string | null }
interface ListRow extends StampCols { channel: string; mode: ListMode; mask: string; set_by: string; set_at: number }
interface DidOpRow extends StampCols { channel: string; did: string; granted_by: string; granted_at: number }
interface DidInviteRow extends StampCols { channel: string; did: string; invited_by: string; invited_at: number }

/** the channel registers that carry a stamp, each stored in `<register>_hlc` / `<register>_origin` */
const REGISTERS = ['topic', 'modes', 'key', 'limit', 'founder', 'bans', 'excepts', 'invex', 'didops'] as const satisfies ReadonlyArray<keyof ChannelStamps>;

/**
 * state/hlc.ts decodeHlc's format, repeated here because storage/ may import state/ only
 * type-only (.dependency-cruiser.cjs); test/unit/storage/channel-stamps.test.ts checks they agree.
 */
const HLC_FORMAT = /^\d{13}\.\d{6}$/;
/** a peer id (keys/peer-identity.ts): an ed25519 public key in lower-case hex */
const ORIGIN_FORMAT = /^[0-9a-f]{64}$/;

/**
 * The stamp stored in a pair of columns, or undefined when there is none or it is malformed (a
 * damaged or hand-edited row loses its stamp — it then loses every LWW comparison — rather than
 * stopping the server or carrying garbage into the merge).
 */
export function readStamp(hlc: string | null, origin: string | null): Stamp | undefined {
  if (hlc === null || origin === null || !HLC_FORMAT.test(hlc) || !ORIGIN_FORMAT.test(origin)) return undefined;
  return { hlc, origin };
}

/** `{ stamp }` when the row has a valid one, else nothing (so entries without one stay as before) */
const stampField = (r: StampCols): { stamp?: Stamp } => {
  const stamp = readStamp(r.hlc, r.origin);
  return stamp ? { stamp } : {};
};

/**
 * All channel SQL lives here; prepared statements only. User content (the topic text and the
 * channel key) is stored encrypted (storage/crypto.ts; AAD `channels.<column>:<name_folded>`).
 * Names, modes, who set a topic, list masks (part of a primary key) and DIDs stay plaintext:
 * they are identifiers and metadata, not what users wrote. So are the HLC stamps of #13
 * (`*_hlc` / `*_origin`, migration 8): ordering metadata, stored in plain columns.
 */
export class SqliteChannelStore implements ChannelStore {
  private readonly upsert;
  private readonly del;
  private readonly addEntry;
  private readonly delEntry;
  private readonly setTomb;
  private readonly delTomb;
  private readonly addOp;
  private readonly delOp;
  private readonly addInvite;
  private readonly delInvite;

  constructor(private readonly db: Db, private readonly cipher: FieldCipher) {
    this.upsert = db.prepare(`
      INSERT INTO channels (name_folded, name, created_at, topic, topic_set_by, topic_set_at, modes, chan_key, user_limit, founder_did, empty_since,
        topic_hlc, topic_origin, modes_hlc, modes_origin, key_hlc, key_origin, limit_hlc, limit_origin, founder_hlc, founder_origin,
        bans_hlc, bans_origin, excepts_hlc, excepts_origin, invex_hlc, invex_origin, didops_hlc, didops_origin)
      VALUES (@folded, @name, @createdAt, @topic, @topicSetBy, @topicSetAt, @modes, @key, @limit, @founder, @emptySince,
        @topic_hlc, @topic_origin, @modes_hlc, @modes_origin, @key_hlc, @key_origin, @limit_hlc, @limit_origin, @founder_hlc, @founder_origin,
        @bans_hlc, @bans_origin, @excepts_hlc, @excepts_origin, @invex_hlc, @invex_origin, @didops_hlc, @didops_origin)
      ON CONFLICT (name_folded) DO UPDATE SET name = excluded.name, created_at = excluded.created_at, topic = excluded.topic, topic_set_by = excluded.topic_set_by,
        topic_set_at = excluded.topic_set_at, modes = excluded.modes, chan_key = excluded.chan_key, user_limit = excluded.user_limit,
        founder_did = excluded.founder_did, empty_since = excluded.empty_since,
        topic_hlc = excluded.topic_hlc, topic_origin = excluded.topic_origin, modes_hlc = excluded.modes_hlc, modes_origin = excluded.modes_origin,
        key_hlc = excluded.key_hlc, key_origin = excluded.key_origin, limit_hlc = excluded.limit_hlc, limit_origin = excluded.limit_origin,
        founder_hlc = excluded.founder_hlc, founder_origin = excluded.founder_origin,
        bans_hlc = excluded.bans_hlc, bans_origin = excluded.bans_origin, excepts_hlc = excluded.excepts_hlc, excepts_origin = excluded.excepts_origin,
        invex_hlc = excluded.invex_hlc, invex_origin = excluded.invex_origin, didops_hlc = excluded.didops_hlc, didops_origin = excluded.didops_origin`);
    // (children go by ON DELETE CASCADE; foreign_keys is on in storage/db.ts)
    this.del = db.prepare('DELETE FROM channels WHERE name_folded = ?');
    // an entry there already keeps its place and setter; its stamp moves on (a later addition: #14)
    this.addEntry = db.prepare(`INSERT INTO channel_lists (channel, mode, mask, set_by, set_at, hlc, origin, position)
      VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT MAX(position) + 1 FROM channel_lists WHERE channel = ? AND mode = ?), 0))
      ON CONFLICT (channel, mode, mask) DO UPDATE SET hlc = excluded.hlc, origin = excluded.origin`);
    this.setTomb = db.prepare(`INSERT INTO channel_list_removed (channel, mode, mask, hlc, origin) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (channel, mode, mask) DO UPDATE SET hlc = excluded.hlc, origin = excluded.origin`);
    this.delTomb = db.prepare('DELETE FROM channel_list_removed WHERE channel = ? AND mode = ? AND mask = ?');
    this.delEntry = db.prepare('DELETE FROM channel_lists WHERE channel = ? AND mode = ? AND mask = ?');
    this.addOp = db.prepare(`INSERT INTO channel_did_ops (channel, did, granted_by, granted_at, hlc, origin) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (channel, did) DO UPDATE SET granted_by = excluded.granted_by, granted_at = excluded.granted_at,
        hlc = excluded.hlc, origin = excluded.origin`);
    this.delOp = db.prepare('DELETE FROM channel_did_ops WHERE channel = ? AND did = ?');
    this.addInvite = db.prepare(`INSERT INTO channel_did_invites (channel, did, invited_by, invited_at, hlc, origin) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (channel, did) DO UPDATE SET invited_by = excluded.invited_by, invited_at = excluded.invited_at,
        hlc = excluded.hlc, origin = excluded.origin`);
    this.delInvite = db.prepare('DELETE FROM channel_did_invites WHERE channel = ? AND did = ?');
  }

  loadAll(): PersistedChannel[] {
    const rows = this.db.prepare('SELECT * FROM channels').all() as ChannelRow[];
    const lists = this.db.prepare('SELECT * FROM channel_lists ORDER BY position').all() as ListRow[];
    const byChan = new Map<string, Record<ListMode, ListEntry[]>>();
    for (const l of lists) {
      let rec = byChan.get(l.channel);
      if (!rec) { rec = { b: [], e: [], I: [] }; byChan.set(l.channel, rec); }
      rec[l.mode].push({ mask: l.mask, setBy: l.set_by, setAt: l.set_at, ...stampField(l) });
    }
    const tombs = this.db.prepare('SELECT * FROM channel_list_removed').all() as ListRow[];
    const tombsBy = new Map<string, Record<ListMode, Array<{ mask: string; stamp: Stamp }>>>();
    for (const t of tombs) {
      const stamp = readStamp(t.hlc, t.origin);
      if (!stamp) continue;
      let rec = tombsBy.get(t.channel);
      if (!rec) { rec = { b: [], e: [], I: [] }; tombsBy.set(t.channel, rec); }
      rec[t.mode].push({ mask: t.mask, stamp });
    }
    const ops = this.db.prepare('SELECT * FROM channel_did_ops ORDER BY granted_at, rowid').all() as DidOpRow[];
    const invites = this.db.prepare('SELECT * FROM channel_did_invites ORDER BY invited_at, rowid').all() as DidInviteRow[];
    const opsBy = new Map<string, Array<{ did: string } & DidGrant>>();
    for (const o of ops) {
      const arr = opsBy.get(o.channel) ?? [];
      arr.push({ did: o.did, by: o.granted_by, at: o.granted_at, ...stampField(o) });
      opsBy.set(o.channel, arr);
    }
    const invBy = new Map<string, Array<{ did: string } & DidGrant>>();
    for (const i of invites) {
      const arr = invBy.get(i.channel) ?? [];
      arr.push({ did: i.did, by: i.invited_by, at: i.invited_at, ...stampField(i) });
      invBy.set(i.channel, arr);
    }
    // a value that does not decrypt throws (DecryptError): never a placeholder (reference §1.10)
    return rows.map((r) => ({
      name: r.name,
      createdAt: r.created_at,
      topic: r.topic !== null ? { text: this.cipher.decrypt(r.topic, aadFor('channels', 'topic', r.name_folded)), setBy: r.topic_set_by ?? '', setAt: r.topic_set_at ?? 0 } : undefined,
      modes: r.modes,
      key: this.cipher.decryptOpt(r.chan_key, aadFor('channels', 'chan_key', r.name_folded)),
      limit: r.user_limit ?? undefined,
      lists: byChan.get(r.name_folded) ?? { b: [], e: [], I: [] },
      ...(tombsBy.has(r.name_folded) ? { listRemoved: tombsBy.get(r.name_folded)! } : {}),
      founder: r.founder_did ?? undefined,
      didOps: opsBy.get(r.name_folded) ?? [],
      didInvites: invBy.get(r.name_folded) ?? [],
      emptySince: r.empty_since ?? undefined,
      ...channelStamps(r),
    }));
  }

  saveChannel(ch: Channel): void {
    const m = ch.modes;
    const flags = (['i', 'm', 'n', 'p', 's', 't'] as const).filter((f) => m[f]).join('');
    this.upsert.run({
      folded: ch.folded, name: ch.name, createdAt: ch.createdAt,
      topic: this.cipher.encryptOpt(ch.topic?.text, aadFor('channels', 'topic', ch.folded)),
      topicSetBy: ch.topic?.setBy ?? null, topicSetAt: ch.topic?.setAt ?? null,
      modes: flags, key: this.cipher.encryptOpt(m.k, aadFor('channels', 'chan_key', ch.folded)), limit: m.l ?? null, founder: ch.founder ?? null,
      emptySince: ch.emptySince ?? null,
      ...stampParams(ch.stamps),
    });
  }

  deleteChannel(folded: string): void {
    this.del.run(folded);
  }

  addListEntry(ch: Channel, mode: ListMode, e: ListEntry): void {
    this.saveChannel(ch); // make sure the parent row exists
    this.addEntry.run(ch.folded, mode, e.mask, e.setBy, e.setAt, e.stamp?.hlc ?? null, e.stamp?.origin ?? null, ch.folded, mode);
  }

  removeListEntry(ch: Channel, mode: ListMode, mask: string): void {
    this.delEntry.run(ch.folded, mode, mask);
  }

  setListTombstone(ch: Channel, mode: ListMode, mask: string, stamp: Stamp): void {
    this.saveChannel(ch); // make sure the parent row exists
    this.setTomb.run(ch.folded, mode, mask, stamp.hlc, stamp.origin);
  }

  removeListTombstone(ch: Channel, mode: ListMode, mask: string): void {
    this.delTomb.run(ch.folded, mode, mask);
  }

  addDidOp(ch: Channel, did: string, g: DidGrant): void {
    this.saveChannel(ch);
    this.addOp.run(ch.folded, did, g.by, g.at, g.stamp?.hlc ?? null, g.stamp?.origin ?? null);
  }

  removeDidOp(ch: Channel, did: string): void {
    this.delOp.run(ch.folded, did);
  }

  addDidInvite(ch: Channel, did: string, g: DidGrant): void {
    this.saveChannel(ch);
    this.addInvite.run(ch.folded, did, g.by, g.at, g.stamp?.hlc ?? null, g.stamp?.origin ?? null);
  }

  removeDidInvite(ch: Channel, did: string): void {
    this.delInvite.run(ch.folded, did);
  }
}

/** `{ stamps }` with the registers whose stored stamp is valid; nothing when none is (not stamped yet) */
function channelStamps(r: ChannelRow): { stamps?: ChannelStamps } {
  const stamps: ChannelStamps = {};
  for (const reg of REGISTERS) {
    const stamp = readStamp(r[`${reg}_hlc`], r[`${reg}_origin`]);
    if (stamp) stamps[reg] = stamp;
  }
  return Object.keys(stamps).length ? { stamps } : {};
}

/** the upsert's `@<register>_hlc` / `@<register>_origin` parameters (NULL: not stamped) */
function stampParams(stamps: ChannelStamps): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const reg of REGISTERS) {
    out[`${reg}_hlc`] = stamps[reg]?.hlc ?? null;
    out[`${reg}_origin`] = stamps[reg]?.origin ?? null;
  }
  return out;
}
