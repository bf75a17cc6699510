import { foldCase } from '../protocol/casemap.js';
import type { Stamp } from './hlc.js';
import { MaskList } from './mask-list.js';
import type { PersistedChannel } from './store.js';
import type { User } from './user.js';

/** `stamp`: the HLC stamp and origin of the change that added it (#13, state/hlc.ts; absent in rows from before) */
export interface ListEntry { mask: string; setBy: string; setAt: number; stamp?: Stamp }
export type ListMode = 'b' | 'e' | 'I';
export interface Topic { text: string; setBy: string; setAt: number }
/** A DID-keyed grant (DID op or DID invite): who gave it (DID, or mask for a guest) and when. */
export interface DidGrant { by: string; at: number; stamp?: Stamp }

/**
 * The HLC stamp and origin of the last change of each last-writer-wins register of a channel
 * (#13; federation.md "State convergence"): the CRDT merge compares them. Persisted; absent
 * for a register nobody changed since the stamps were introduced.
 */
export interface ChannelStamps {
  topic?: Stamp;
  /** the flag modes i, m, n, p, s, t */
  modes?: Stamp;
  key?: Stamp;
  limit?: Stamp;
  founder?: Stamp;
  /** the +b, +e and +I lists and the DID ops, each as a whole (#14): the last entry added or removed */
  bans?: Stamp;
  excepts?: Stamp;
  invex?: Stamp;
  didops?: Stamp;
}

/** tombstones kept per list (Channel.removed) */
export const MAX_TOMBSTONES = 1000;

/** the stamp register of each list mode */
export const LIST_REGISTER = { b: 'bans', e: 'excepts', I: 'invex' } as const satisfies Record<ListMode, keyof ChannelStamps>;

/** Membership prefixes, highest first: PREFIX=(ov)@+ */
export const PREFIX_MODES = 'ov';
export const PREFIX_CHARS = '@+';

export class Membership {
  /** subset of PREFIX_MODES, kept in rank order */
  modes = '';
  constructor(readonly joinedAt: number) {}
  has(m: string): boolean { return this.modes.includes(m); }
  add(m: string): boolean {
    if (this.has(m)) return false;
    this.modes = [...PREFIX_MODES].filter((x) => x === m || this.modes.includes(x)).join('');
    return true;
  }
  remove(m: string): boolean {
    if (!this.has(m)) return false;
    this.modes = this.modes.replace(m, '');
    return true;
  }
  /** highest prefix, or all prefixes for multi-prefix */
  prefix(multi: boolean): string {
    let s = '';
    for (const m of this.modes) {
      s += PREFIX_CHARS[PREFIX_MODES.indexOf(m)];
      if (!multi) break;
    }
    return s;
  }
}

export interface ChannelModes {
  i: boolean; m: boolean; n: boolean; s: boolean; p: boolean; t: boolean;
  k?: string;
  l?: number;
}

export class Channel {
  members = new Map<User, Membership>();
  topic?: Topic;
  modes: ChannelModes = { i: false, m: false, n: true, s: false, p: false, t: true };
  /** +b / +e / +I: each compiles its masks once per change (mask-list.ts) */
  lists: Record<ListMode, MaskList> = { b: new MaskList(), e: new MaskList(), I: new MaskList() };
  /**
   * Entries removed from each list, with the stamp of the removal (#14: tombstones, so that a
   * removal made on one side of a split wins over the older addition the other side still has;
   * state/channel-sync.ts). Persisted, at most MAX_TOMBSTONES per list, the oldest go first.
   */
  removed: Record<ListMode, Map<string, Stamp>> = { b: new Map(), e: new Map(), I: new Map() };
  /**
   * DID of the founder: the first logged-in user to create the channel. Permanent while the
   * channel exists (an empty one expires after founded-channel-expiry); the founder
   * gets +o on every join, bypasses +b/+i/+k/+l, and cannot be de-opped or kicked by others.
   */
  founder?: string;
  /** DID → grant: users opped while logged in get +o again on every join (persisted) */
  didOps = new Map<string, DidGrant>();
  /** DID → grant: pending invites by identity, consumed on that DID's next join (persisted, bounded) */
  didInvites = new Map<string, DidGrant>();
  /**
   * When the last member left a channel that was kept for its state (topic, modes, lists, founder):
   * it is dropped `channel-expiry` (with a founder: `founded-channel-expiry`) later unless someone
   * joins (#12 finding 8).
   * Persisted, so a restart does not restart the grace period. Undefined while occupied.
   */
  emptySince?: number;
  /** when and where each register last changed (Ops sets them; persisted) */
  stamps: ChannelStamps = {};

  constructor(
    public name: string,
    readonly folded: string,
    public createdAt: number,
  ) {}

  isOp(u: User): boolean { return this.members.get(u)?.has('o') ?? false; }
  isVoiced(u: User): boolean { return this.members.get(u)?.has('v') ?? false; }

  /** Secret (+s) and private (+p) channels are hidden from non-members. */
  get hidden(): boolean { return this.modes.s || this.modes.p; }

  /** `+ntk key` style string; key/limit values only for members */
  modeString(showParams: boolean): string {
    let flags = '+';
    const params: string[] = [];
    for (const f of ['i', 'm', 'n', 'p', 's', 't'] as const) if (this.modes[f]) flags += f;
    if (this.modes.k !== undefined) { flags += 'k'; params.push(showParams ? this.modes.k : '*'); }
    if (this.modes.l !== undefined) { flags += 'l'; params.push(String(this.modes.l)); }
    return [flags, ...params].join(' ');
  }

  /** Is `u` logged in as this channel's founder? */
  isFounder(u: User): boolean { return this.founder !== undefined && u.account === this.founder; }

  /**
   * Nothing worth keeping once empty: default modes, no topic, empty lists, no founder, no DID ops.
   * (Pending DID invites alone do not keep a channel: with default modes there is nothing to bypass.)
   */
  get isDefault(): boolean {
    const m = this.modes;
    return this.founder === undefined && this.didOps.size === 0 && !this.topic && m.n && m.t && !m.i && !m.m && !m.s && !m.p && m.k === undefined && m.l === undefined
      && this.lists.b.length === 0 && this.lists.e.length === 0 && this.lists.I.length === 0;
  }
}

/** A channel as persisted, back in memory (Ops.restore). */
export function channelFromStore(p: PersistedChannel): Channel {
  const ch = new Channel(p.name, foldCase(p.name), p.createdAt);
  ch.topic = p.topic;
  for (const f of ['i', 'm', 'n', 'p', 's', 't'] as const) ch.modes[f] = p.modes.includes(f);
  ch.modes.k = p.key;
  ch.modes.l = p.limit;
  ch.lists = { b: new MaskList(p.lists.b), e: new MaskList(p.lists.e), I: new MaskList(p.lists.I) };
  for (const m of ['b', 'e', 'I'] as const) for (const r of p.listRemoved?.[m] ?? []) ch.removed[m].set(r.mask, r.stamp);
  ch.founder = p.founder;
  if (p.stamps) ch.stamps = { ...p.stamps };
  for (const o of p.didOps) ch.didOps.set(o.did, o.stamp ? { by: o.by, at: o.at, stamp: o.stamp } : { by: o.by, at: o.at });
  for (const i of p.didInvites) ch.didInvites.set(i.did, i.stamp ? { by: i.by, at: i.at, stamp: i.stamp } : { by: i.by, at: i.at });
  return ch;
}
