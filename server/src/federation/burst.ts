import type { StateEvent } from '../state/events.js';
import { wireUser, type WireEvent } from '../state/wire.js';
import type { Channel } from '../state/channel.js';
import type { User } from '../state/user.js';
import { channelStateOf } from '../state/channel-sync.js';
import type { World } from '../state/world.js';

/** what the burst needs of a link: its ids for peer-link, its sendq for pacing */
export interface BurstLink { readonly peerId: string; readonly peerName: string; readonly pending: number }

/** most payloads sealed per turn of the event loop */
const CHUNK = 256;
/** how often a paused burst looks at the links' sendq again (ms) */
const POLL_MS = 5;

/**
 * This server's burst (#14, docs/federation.md "Bursts"): what a peer needs to know of it when a
 * link comes up or a server comes into reach: this server's links, every registered local user
 * (the nick its DID owns first), every other nick binding it knows, then, channel by channel, the local members' joins and the
 * channel's durable registers.
 *
 * It is streamed, not built at once: at most CHUNK payloads per turn of the event loop, computed from
 * the world as they are taken, and each only while every link has taken all but `lowWater` bytes
 * of what was written to it. A burst of any size then goes through a link's 16 MiB sendq (link.ts) without
 * closing it, and clients are served between chunks. (Built at once, a 10,000-channel burst was
 * ~23 MB: the link closed on its sendq, redialled, and closed again, forever.)
 *
 * Live events go on while a burst streams, on the same links in the same order (the peers' replay
 * guard needs every path to carry the same sequence). A live event that names a local user or a
 * channel the burst has not reached yet first takes that user's or channel's part of the burst
 * (`cover`), so a peer never hears of a user's message, or a change to a channel, before it knows
 * the user and the channel's members: causality is kept, nothing is refused as unknown.
 */
export class Burst {
  private users = new Set<User>();
  /** DIDs whose nick binding went out */
  private dids = new Set<string>();
  private channels = new Set<Channel>();
  private it: Iterator<WireEvent> | undefined;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(private readonly d: {
    world: World;
    /** a payload is sealed only while every link has at most this many bytes not yet taken by its peer */
    lowWater: number;
    /** every link that is up (the burst goes to all of them: see Peers.up) */
    links(): BurstLink[];
    /** seal `payloads` and send them to every link, in order */
    emit(payloads: WireEvent[]): void;
  }) {}

  /** a burst is streaming */
  get active(): boolean {
    return this.it !== undefined;
  }

  /** (re)start from the beginning: a link that just came up needs all of it */
  start(): void {
    this.stop();
    this.it = this.payloads();
    this.pump();
  }

  stop(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer as NodeJS.Timeout); clearImmediate(this.timer as NodeJS.Immediate); }
    this.timer = undefined;
    this.it = undefined;
    this.users.clear();
    this.dids.clear();
    this.channels.clear();
  }

  /** before live event `ev` goes out: the parts of the burst it depends on, if not sent yet */
  cover(ev: StateEvent): void {
    if (!this.it) return;
    const out: WireEvent[] = [];
    for (const u of usersOf(ev)) this.user(u, out);
    if ('channel' in ev && ev.channel && typeof ev.channel === 'object') this.channel(ev.channel, out);
    if (out.length) this.d.emit(out);
  }

  private pump(): void {
    this.timer = undefined;
    const it = this.it;
    if (!it) return;
    const links = this.d.links();
    if (links.length === 0) return this.stop();
    for (let i = 0; i < CHUNK; i++) {
      if (links.some((l) => l.pending > this.d.lowWater)) {
        // hand-written pacing: TLS sockets and iroh streams have no common drain event
        this.timer = setTimeout(() => this.pump(), POLL_MS);
        return;
      }
      const n = it.next();
      if (n.done) return this.stop();
      this.d.emit([n.value]);
      // a link that closed (its sendq, its peer) may have ended the burst meanwhile
      if (this.it !== it) return;
    }
    this.timer = setImmediate(() => this.pump());
  }

  private *payloads(): Generator<WireEvent> {
    for (const l of this.d.links()) yield { kind: 'peer-link', peer: l.peerId, name: l.peerName, up: true };
    const out: WireEvent[] = [];
    for (const u of this.d.world.users.values()) {
      this.user(u, out);
      yield* out.splice(0);
    }
    // every nick binding this server knows, also of DIDs not online (a binding made on one side
    // of a split reaches the other: state/nick-claims.ts)
    for (const did of this.d.world.accountNicks.keys()) {
      this.binding(did, out);
      yield* out.splice(0);
    }
    for (const ch of this.d.world.channels.values()) {
      this.channel(ch, out);
      yield* out.splice(0);
    }
  }

  /** a local user's part: the nick its DID owns (the receiver's collision rule then knows it), the user */
  private user(u: User, out: WireEvent[]): void {
    if (this.users.has(u) || !u.registered || !u.local || this.d.world.users.get(u.id) !== u) return;
    this.users.add(u);
    if (u.account !== undefined) this.binding(u.account, out);
    out.push({ kind: 'register', user: { ...wireUser(u), realname: u.realname, signonAt: u.signonAt }, netjoin: true });
  }

  /** the nick a DID owns, with its claim stamp */
  private binding(did: string, out: WireEvent[]): void {
    const b = this.d.world.accountNicks.get(did);
    if (!b || this.dids.has(did) || this.d.world.nickOwners.get(b.folded) !== did) return;
    this.dids.add(did);
    out.push({ kind: 'nick-owner', did, nick: b.nick, claimed: b.claimed });
  }

  /**
   * a channel's part, if it has local members: their joins (each after its user's part), then its
   * durable registers, once its members are known there (the receiver merges them as far as our
   * channel operators could change them)
   */
  private channel(ch: Channel, out: WireEvent[]): void {
    if (this.channels.has(ch) || this.d.world.channels.get(ch.folded) !== ch) return;
    this.channels.add(ch);
    let local = false;
    for (const [m, status] of ch.members) {
      if (!m.local || !m.registered) continue;
      local = true;
      this.user(m, out);
      out.push({ kind: 'join', user: wireUser(m), channel: ch.name, status: status.modes, ts: ch.createdAt, netjoin: true });
    }
    if (!local) return;
    const state = channelStateOf(ch);
    if (Object.keys(state).length > 1) out.push({ kind: 'channel-state', ...state });
  }
}

/** the local users an event names (its user, sender, recipient, target, actor) */
function usersOf(ev: StateEvent): User[] {
  const out: User[] = [];
  const r = ev as unknown as Record<string, unknown>;
  for (const k of ['user', 'from', 'to', 'source', 'target']) {
    const v = r[k];
    if (v && typeof v === 'object' && 'local' in v && (v as User).local) out.push(v as User);
  }
  const actor = r['actor'] as { kind?: string; user?: User } | undefined;
  if (actor?.kind === 'user' && actor.user?.local) out.push(actor.user);
  return out;
}
