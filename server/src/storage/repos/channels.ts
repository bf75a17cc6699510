import type { Channel, ListEntry, ListMode } from '../../state/channel.js';
import type { ChannelStore, PersistedChannel } from '../../state/store.js';
import type { Db } from '../db.js';

interface ChannelRow {
  name_folded: string; name: string; created_at: number; topic: string | null; topic_set_by: string | null;
  topic_set_at: number | null; modes: string; chan_key: string | null; user_limit: number | null;
}
interface ListRow { channel: string; mode: ListMode; mask: string; set_by: string; set_at: number }

/** All channel SQL lives here; prepared statements only. */
export class SqliteChannelStore implements ChannelStore {
  private readonly upsert;
  private readonly del;
  private readonly addEntry;
  private readonly delEntry;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare(`
      INSERT INTO channels (name_folded, name, created_at, topic, topic_set_by, topic_set_at, modes, chan_key, user_limit)
      VALUES (@folded, @name, @createdAt, @topic, @topicSetBy, @topicSetAt, @modes, @key, @limit)
      ON CONFLICT (name_folded) DO UPDATE SET name = excluded.name, topic = excluded.topic, topic_set_by = excluded.topic_set_by,
        topic_set_at = excluded.topic_set_at, modes = excluded.modes, chan_key = excluded.chan_key, user_limit = excluded.user_limit`);
    this.del = db.prepare('DELETE FROM channels WHERE name_folded = ?');
    this.addEntry = db.prepare(`INSERT OR IGNORE INTO channel_lists (channel, mode, mask, set_by, set_at, position)
      VALUES (?, ?, ?, ?, ?, COALESCE((SELECT MAX(position) + 1 FROM channel_lists WHERE channel = ? AND mode = ?), 0))`);
    this.delEntry = db.prepare('DELETE FROM channel_lists WHERE channel = ? AND mode = ? AND mask = ?');
  }

  loadAll(): PersistedChannel[] {
    const rows = this.db.prepare('SELECT * FROM channels').all() as ChannelRow[];
    const lists = this.db.prepare('SELECT * FROM channel_lists ORDER BY position').all() as ListRow[];
    const byChan = new Map<string, Record<ListMode, ListEntry[]>>();
    for (const l of lists) {
      let rec = byChan.get(l.channel);
      if (!rec) { rec = { b: [], e: [], I: [] }; byChan.set(l.channel, rec); }
      rec[l.mode].push({ mask: l.mask, setBy: l.set_by, setAt: l.set_at });
    }
    return rows.map((r) => ({
      name: r.name,
      createdAt: r.created_at,
      topic: r.topic !== null ? { text: r.topic, setBy: r.topic_set_by ?? '', setAt: r.topic_set_at ?? 0 } : undefined,
      modes: r.modes,
      key: r.chan_key ?? undefined,
      limit: r.user_limit ?? undefined,
      lists: byChan.get(r.name_folded) ?? { b: [], e: [], I: [] },
    }));
  }

  saveChannel(ch: Channel): void {
    const m = ch.modes;
    const flags = (['i', 'm', 'n', 'p', 's', 't'] as const).filter((f) => m[f]).join('');
    this.upsert.run({
      folded: ch.folded, name: ch.name, createdAt: ch.createdAt,
      topic: ch.topic?.text ?? null, topicSetBy: ch.topic?.setBy ?? null, topicSetAt: ch.topic?.setAt ?? null,
      modes: flags, key: m.k ?? null, limit: m.l ?? null,
    });
  }

  deleteChannel(folded: string): void {
    this.del.run(folded);
  }

  addListEntry(ch: Channel, mode: ListMode, e: ListEntry): void {
    this.saveChannel(ch); // make sure the parent row exists
    this.addEntry.run(ch.folded, mode, e.mask, e.setBy, e.setAt, ch.folded, mode);
  }

  removeListEntry(ch: Channel, mode: ListMode, mask: string): void {
    this.delEntry.run(ch.folded, mode, mask);
  }
}
