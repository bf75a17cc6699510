import { LIST_REGISTER, type Channel, type DidGrant, type ListEntry, type ListMode } from './channel.js';
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
  /** the +b/+e/+I lists, each whole (last writer wins) */
  lists?: Partial<Record<ListMode, { value: { mask: string; setBy: string; setAt: number }[]; stamp: Stamp }>>;
  /** the DID ops, whole */
  didops?: { value: { did: string; by: string; at: number }[]; stamp: Stamp };
  /** the founder: the earliest stamped claim wins everywhere (a deterministic min-register) */
  founder?: { value: string; stamp: Stamp };
}

export const LIST_MODES: readonly ListMode[] = ['b', 'e', 'I'];

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
    ...(LIST_MODES.some((m) => s[LIST_REGISTER[m]]) ? { lists: Object.fromEntries(LIST_MODES.flatMap((m) => {
      const stamp = s[LIST_REGISTER[m]];
      return stamp ? [[m, { value: ch.lists[m].entries.map((e) => ({ mask: e.mask, setBy: e.setBy, setAt: e.setAt })), stamp }]] : [];
    })) } : {}),
    ...(s.didops ? { didops: { value: [...ch.didOps].map(([did, g]) => ({ did, by: g.by, at: g.at })), stamp: s.didops } } : {}),
    ...(ch.founder !== undefined && s.founder ? { founder: { value: ch.founder, stamp: s.founder } } : {}),
  };
}

/** the stamps a delta carries (each is checked against the clock before a merge: federation/apply.ts) */
export function deltaStamps(d: ChannelStateDelta): Stamp[] {
  return [d.topic, d.flags, d.key, d.limit, d.didops, d.founder, ...LIST_MODES.map((m) => d.lists?.[m])].flatMap((r) => r ? [r.stamp] : []);
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
  /** list entries added and removed (to persist) */
  listAdded: { mode: ListMode; entry: ListEntry }[];
  listRemoved: { mode: ListMode; mask: string }[];
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
  const out: MergeResult = { modes: [], topic: false, refused: [], listAdded: [], listRemoved: [], didOpsAdded: [], didOpsRemoved: [] };
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
    const reg = LIST_REGISTER[m];
    if (!inc || !newer(inc.stamp, ch.stamps[reg])) continue;
    if (!auth.op) { out.refused.push(`+${m} list`); continue; }
    const list = ch.lists[m];
    const want = new Set(inc.value.map((e) => e.mask));
    for (let i = list.length - 1; i >= 0; i--) {
      const mask = list.entries[i]!.mask;
      if (want.has(mask)) continue;
      list.removeAt(i);
      out.listRemoved.push({ mode: m, mask });
      out.modes.push({ adding: false, mode: m, param: mask });
    }
    for (const e of inc.value) {
      if (list.indexOf(e.mask) !== -1) continue;
      const entry: ListEntry = { mask: e.mask, setBy: e.setBy, setAt: e.setAt, stamp: inc.stamp };
      list.add(entry);
      out.listAdded.push({ mode: m, entry });
      out.modes.push({ adding: true, mode: m, param: e.mask });
    }
    ch.stamps[reg] = inc.stamp;
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
 * Merge a peer's delta (Ops.mergeChannelState): what changed is persisted, and members see it (MODE
 * by the server, TOPIC by its setter). Returns the registers refused for want of authority.
 */
export function applyChannelState(ch: Channel, delta: ChannelStateDelta, auth: SyncAuthority, store: ChannelStore, emit: (ev: StateEvent) => void, origin: string): string[] {
  const r = mergeChannelState(ch, delta, auth);
  for (const l of r.listRemoved) store.removeListEntry(ch, l.mode, l.mask);
  for (const l of r.listAdded) store.addListEntry(ch, l.mode, l.entry);
  for (const did of r.didOpsRemoved) store.removeDidOp(ch, did);
  for (const g of r.didOpsAdded) store.addDidOp(ch, g.did, g.grant);
  if (r.modes.length || r.topic || r.founder || r.didOpsAdded.length || r.didOpsRemoved.length) store.saveChannel(ch);
  if (r.modes.length) emit({ kind: 'channel-mode', channel: ch, changes: r.modes });
  if (r.topic) emit({ kind: 'topic', source: ch.topic?.setBy ?? origin, channel: ch });
  return r.refused;
}
