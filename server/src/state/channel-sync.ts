import { MAX_TOMBSTONES, type Channel, type DidGrant, type ListEntry, type ListMode } from './channel.js';
import { stampAfter, type Stamp } from './hlc.js';
import type { ModeChange, StateEvent } from './events.js';
import type { ChannelStore } from './store.js';

/**
 * Durable channel state as it travels between servers (#14 "State"): last-writer-wins registers,
 * each with the HLC stamp of its last change (state/hlc.ts; a change applied from a peer keeps
 * the origin's stamp: Ops.withStamp). A server sends its channels' registers when a link comes
 * up (federation/peers.ts burst); the receiver keeps, per register, whichever stamp is later, so
 * any order of delivery, duplicates and concurrent edits end in the same state everywhere.
 */
export interface ChannelStateDelta {
  channel: string;
  topic?: { value: { text: string; setBy: string; setAt: number } | null; stamp: Stamp };
  /** the flag modes that are on, a subset of `imnpst` */
  flags?: { value: string; stamp: Stamp };
  key?: { value: string | null; stamp: Stamp };
  limit?: { value: number | null; stamp: Stamp };
  /**
   * the +b/+e/+I lists entry by entry: each entry with the stamp of its addition, each removed one
   * (tombstone) with the stamp of its removal; per mask, the later of the two wins
   */
  lists?: Partial<Record<ListMode, ListState>>;
  /** the DID ops, whole */
  didops?: { value: { did: string; by: string; at: number }[]; stamp: Stamp };
  /** the founder: the earliest stamped claim wins everywhere (a deterministic min-register) */
  founder?: { value: string; stamp: Stamp };
}

export interface ListState {
  entries: { mask: string; setBy: string; setAt: number; stamp: Stamp }[];
  removed: { mask: string; stamp: Stamp }[];
}

export const LIST_MODES: readonly ListMode[] = ['b', 'e', 'I'];

/** the stamp of an entry from before entries were stamped: older than any change */
export const ZERO_STAMP: Stamp = { hlc: '0000000000000.000000', origin: '0'.repeat(64) };

const FLAGS = ['i', 'm', 'n', 'p', 's', 't'] as const;

/** the registers of `ch` that have a stamp (a register nobody changed is the same default everywhere) */
export function channelStateOf(ch: Channel): ChannelStateDelta {
  const s = ch.stamps;
  return {
    channel: ch.name,
    ...(s.topic ? { topic: { value: ch.topic ? { ...ch.topic } : null, stamp: s.topic } } : {}),
    ...(s.modes ? { flags: { value: FLAGS.filter((f) => ch.modes[f]).join(''), stamp: s.modes } } : {}),
    ...(s.key ? { key: { value: ch.modes.k ?? null, stamp: s.key } } : {}),
    ...(s.limit ? { limit: { value: ch.modes.l ?? null, stamp: s.limit } } : {}),
    ...(LIST_MODES.some((m) => ch.lists[m].length || ch.removed[m].size) ? { lists: Object.fromEntries(LIST_MODES.flatMap((m) => (ch.lists[m].length || ch.removed[m].size ? [[m, {
      entries: ch.lists[m].entries.map((e) => ({ mask: e.mask, setBy: e.setBy, setAt: e.setAt, stamp: e.stamp ?? ZERO_STAMP })),
      removed: [...ch.removed[m]].map(([mask, stamp]) => ({ mask, stamp })),
    }]] : []))) } : {}),
    ...(s.didops ? { didops: { value: [...ch.didOps].map(([did, g]) => ({ did, by: g.by, at: g.at })), stamp: s.didops } } : {}),
    ...(ch.founder !== undefined && s.founder ? { founder: { value: ch.founder, stamp: s.founder } } : {}),
  };
}

/** the stamps a delta carries (each is checked against the clock before a merge: federation/apply.ts) */
export function deltaStamps(d: ChannelStateDelta): Stamp[] {
  const lists = LIST_MODES.flatMap((m) => [...(d.lists?.[m]?.entries ?? []), ...(d.lists?.[m]?.removed ?? [])].map((e) => e.stamp));
  return [...[d.topic, d.flags, d.key, d.limit, d.didops, d.founder].flatMap((r) => r ? [r.stamp] : []), ...lists];
}

/**
 * What the sender may change here, as its users on the channel could now (#14: each delta is
 * authorized before it is merged): `op` when one of the origin's users is a channel operator
 * here, `member` when one is on the channel. Modes and +t topics need `op`, a -t topic `member`.
 */
export interface SyncAuthority { op: boolean; member: boolean }

export interface MergeResult {
  /** mode changes to show members (by the server) */
  modes: ModeChange[];
  /** list entries added (or their stamp moved on) and removed; tombstones set and dropped (to persist) */
  listAdded: { mode: ListMode; entry: ListEntry }[];
  listRemoved: { mode: ListMode; mask: string }[];
  tombstonesSet: { mode: ListMode; mask: string; stamp: Stamp }[];
  tombstonesDropped: { mode: ListMode; mask: string }[];
  /** DID ops granted and revoked (to persist) */
  didOpsAdded: { did: string; grant: DidGrant }[];
  didOpsRemoved: string[];
  /** the topic changed (to `ch.topic`) */
  topic: boolean;
  /** the founder changed */
  founder?: boolean;
  /** registers left alone although newer, for want of authority (for the log) */
  refused: string[];
}

/**
 * Merge `d` into `ch`: each register whose stamp is later than ours, if `auth` allows it. Stamps
 * more than the allowed drift ahead were refused with the envelope (federation/peers.ts).
 */
export function mergeChannelState(ch: Channel, d: ChannelStateDelta, auth: SyncAuthority): MergeResult {
  const out: MergeResult = { modes: [], topic: false, refused: [], listAdded: [], listRemoved: [], tombstonesSet: [], tombstonesDropped: [], didOpsAdded: [], didOpsRemoved: [] };
  const newer = (incoming: Stamp | undefined, ours: Stamp | undefined): incoming is Stamp => incoming !== undefined && (ours === undefined || stampAfter(incoming, ours));
  if (d.flags && newer(d.flags.stamp, ch.stamps.modes)) {
    if (!auth.op) out.refused.push('modes');
    else {
      for (const f of FLAGS) {
        const on = d.flags.value.includes(f);
        if (ch.modes[f] !== on) {
          ch.modes[f] = on;
          out.modes.push({ adding: on, mode: f });
        }
      }
      ch.stamps.modes = d.flags.stamp;
    }
  }
  if (d.key && newer(d.key.stamp, ch.stamps.key)) {
    if (!auth.op) out.refused.push('key');
    else {
      const v = d.key.value ?? undefined;
      if (ch.modes.k !== v) {
        out.modes.push(v === undefined ? { adding: false, mode: 'k', param: ch.modes.k } : { adding: true, mode: 'k', param: v });
        ch.modes.k = v;
      }
      ch.stamps.key = d.key.stamp;
    }
  }
  if (d.limit && newer(d.limit.stamp, ch.stamps.limit)) {
    if (!auth.op) out.refused.push('limit');
    else {
      const v = d.limit.value ?? undefined;
      if (ch.modes.l !== v) {
        out.modes.push(v === undefined ? { adding: false, mode: 'l' } : { adding: true, mode: 'l', param: String(v) });
        ch.modes.l = v;
      }
      ch.stamps.limit = d.limit.stamp;
    }
  }
  for (const m of LIST_MODES) {
    const inc = d.lists?.[m];
    if (inc) mergeList(ch, m, inc, auth, out);
  }
  if (d.didops && newer(d.didops.stamp, ch.stamps.didops)) {
    if (!auth.op) out.refused.push('DID ops');
    else {
      const want = new Map(d.didops.value.map((g) => [g.did, g]));
      for (const did of [...ch.didOps.keys()]) if (!want.has(did)) { ch.didOps.delete(did); out.didOpsRemoved.push(did); }
      for (const [did, g] of want) {
        if (ch.didOps.has(did)) continue;
        const grant: DidGrant = { by: g.by, at: g.at, stamp: d.didops.stamp };
        ch.didOps.set(did, grant);
        out.didOpsAdded.push({ did, grant });
      }
      ch.stamps.didops = d.didops.stamp;
    }
  }
  // the founder: the earliest claim, the same on every server whatever the order of arrival
  if (d.founder && (ch.stamps.founder === undefined || ch.founder === undefined || stampAfter(ch.stamps.founder, d.founder.stamp)) && ch.founder !== d.founder.value) {
    if (!auth.op) out.refused.push('founder');
    else {
      ch.founder = d.founder.value;
      ch.stamps.founder = d.founder.stamp;
      out.founder = true;
    }
  }
  // the topic after the modes: whether it needs op depends on +t as merged
  if (d.topic && newer(d.topic.stamp, ch.stamps.topic)) {
    if (!(auth.op || (auth.member && !ch.modes.t))) out.refused.push('topic');
    else {
      const v = d.topic.value ?? undefined;
      if (ch.topic?.text !== v?.text) out.topic = true;
      ch.topic = v;
      ch.stamps.topic = d.topic.stamp;
    }
  }
  return out;
}

/**
 * One list, entry by entry (a last-writer-wins element set): per mask, an addition and a removal
 * compare their stamps and the later wins; an entry both sides have keeps the later addition's
 * stamp. Edits made on both sides of a split are all kept. Only with `auth.op`.
 */
function mergeList(ch: Channel, m: ListMode, inc: ListState, auth: SyncAuthority, out: MergeResult): void {
  const list = ch.lists[m];
  const tombs = ch.removed[m];
  const removals = inc.removed.filter((r) => {
    const i = list.indexOf(r.mask);
    if (i !== -1) return stampAfter(r.stamp, list.entries[i]!.stamp ?? ZERO_STAMP);
    const t = tombs.get(r.mask);
    return t === undefined || stampAfter(r.stamp, t);
  });
  const additions = inc.entries.filter((e) => {
    const i = list.indexOf(e.mask);
    if (i !== -1) return stampAfter(e.stamp, list.entries[i]!.stamp ?? ZERO_STAMP);
    const t = tombs.get(e.mask) ?? inc.removed.find((r) => r.mask === e.mask)?.stamp;
    return t === undefined || stampAfter(e.stamp, t);
  });
  if (!removals.length && !additions.length) return;
  if (!auth.op) { out.refused.push(`+${m} list`); return; }
  for (const r of removals) {
    const i = list.indexOf(r.mask);
    if (i !== -1) {
      list.removeAt(i);
      out.listRemoved.push({ mode: m, mask: r.mask });
      out.modes.push({ adding: false, mode: m, param: r.mask });
    }
    tombs.set(r.mask, r.stamp);
    out.tombstonesSet.push({ mode: m, mask: r.mask, stamp: r.stamp });
  }
  for (const e of additions) {
    const i = list.indexOf(e.mask);
    if (i !== -1) {
      // both have it: the later addition's stamp (a removal between the two then loses everywhere)
      const entry = list.entries[i]!;
      entry.stamp = e.stamp;
      out.listAdded.push({ mode: m, entry });
      continue;
    }
    const entry: ListEntry = { mask: e.mask, setBy: e.setBy, setAt: e.setAt, stamp: e.stamp };
    list.add(entry);
    out.listAdded.push({ mode: m, entry });
    out.modes.push({ adding: true, mode: m, param: e.mask });
    if (tombs.delete(e.mask)) out.tombstonesDropped.push({ mode: m, mask: e.mask });
  }
  pruneTombstones(ch, m, out.tombstonesDropped);
}

/** at most MAX_TOMBSTONES per list: the oldest removals are forgotten first */
export function pruneTombstones(ch: Channel, m: ListMode, dropped: { mode: ListMode; mask: string }[]): void {
  const tombs = ch.removed[m];
  if (tombs.size <= MAX_TOMBSTONES) return;
  const oldest = [...tombs].sort(([, a], [, b]) => (stampAfter(a, b) ? 1 : -1)).slice(0, tombs.size - MAX_TOMBSTONES);
  for (const [mask] of oldest) {
    tombs.delete(mask);
    dropped.push({ mode: m, mask });
  }
}

/**
 * Merge a peer's delta (Ops.mergeChannelState): what changed is persisted, and members see it (MODE
 * by the server, TOPIC by its setter). Returns the registers refused for want of authority.
 */
export function applyChannelState(ch: Channel, delta: ChannelStateDelta, auth: SyncAuthority, store: ChannelStore, emit: (ev: StateEvent) => void, origin: string): string[] {
  const r = mergeChannelState(ch, delta, auth);
  for (const l of r.listRemoved) store.removeListEntry(ch, l.mode, l.mask);
  for (const l of r.listAdded) store.addListEntry(ch, l.mode, l.entry);
  for (const t of r.tombstonesSet) store.setListTombstone(ch, t.mode, t.mask, t.stamp);
  for (const t of r.tombstonesDropped) store.removeListTombstone(ch, t.mode, t.mask);
  for (const did of r.didOpsRemoved) store.removeDidOp(ch, did);
  for (const g of r.didOpsAdded) store.addDidOp(ch, g.did, g.grant);
  if (r.modes.length || r.topic || r.founder || r.didOpsAdded.length || r.didOpsRemoved.length) store.saveChannel(ch);
  if (r.modes.length) emit({ kind: 'channel-mode', channel: ch, changes: r.modes });
  if (r.topic) emit({ kind: 'topic', source: ch.topic?.setBy ?? origin, channel: ch });
  return r.refused;
}
