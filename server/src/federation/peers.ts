import type { EventBus, EventMeta } from '../state/bus.js';
import type { StateEvent } from '../state/events.js';
import type { HybridClock } from '../state/hlc.js';
import type { Ops } from '../state/ops.js';
import { toWire, wireUser, type WireEvent } from '../state/wire.js';
import type { Channel } from '../state/channel.js';
import { channelStateOf } from '../state/channel-sync.js';
import type { World } from '../state/world.js';
import { RemoteApplier, type Trust } from './apply.js';
import { ReplayGuard, sealEnvelope, verifyEnvelope } from './envelope.js';
import type { EnvelopeMessage, S2sMessage } from './messages.js';
import type { LinkEvents, LinkLog, S2sLink } from './link.js';
import { Topology, type Reach } from './topology.js';
import type { AuditRecord } from './audit.js';

/** A peer allowed to link: how far it is trusted, and the operator's name for it (config/s2s.ts). */
export interface PeerPolicy { trust: Trust; name?: string }

/** Per-peer counters (the observability layer implements it: freeq_s2s_* metrics). */
export interface PeerCounters {
  eventIn(peer: string): void;
  eventOut(peer: string): void;
  refused(peer: string, reason: string): void;
  throttled(peer: string): void;
  /** how far behind the origin's clock an applied event is (ms) */
  lag(peer: string, ms: number): void;
  linkUp(peer: string, up: boolean): void;
}

/** the event kinds this server sends its peers (what happened here; never state only a peer could apply) */
const OUTBOUND: ReadonlySet<WireEvent['kind']> = new Set(['register', 'quit', 'nick', 'join', 'part', 'message', 'topic', 'away', 'setname', 'kick', 'channel-mode', 'invite', 'account', 'chghost', 'handle', 'nick-owner']);

/**
 * The peers of this server (#14): what goes out and what comes in over the links.
 * - Out: every change made here (a bus subscriber) becomes an envelope signed with this server's
 *   federation key, sent to every link that is up. Changes this server made while applying a
 *   peer's event are not sent again (no echo, no loop). A link that comes up first gets a burst:
 *   every registered local user and the channels it is on.
 * - In: an envelope must come from a configured peer (this first version links peers directly;
 *   relayed envelopes from further origins come with multi-hop), be new for its origin (replay
 *   guard), carry the origin's valid signature and a clock stamp not far in the future; then
 *   RemoteApplier applies it through Ops under that origin's trust. Every refusal is logged with
 *   the origin and the reason and changes nothing.
 */
export class Peers implements LinkEvents {
  private readonly links = new Map<string, S2sLink>();
  private readonly replay = new ReplayGuard();
  private readonly throttleLoggedAt = new Map<string, number>();
  /** who links with whom, as announced; who is reachable (multi-hop) */
  private readonly topo: Topology;
  private reach = new Map<string, Reach>();
  readonly applier: RemoteApplier;
  /** set while a peer's event is applied: what Ops emits then is that peer's change, not ours */
  private applying = false;
  /**
   * The sequence number of this server's envelopes: one counter for the burst and live events
   * alike, started from the clock (ms × 1000) so it keeps rising across restarts and a peer's
   * replay guard never drops what comes after one.
   */
  private outSeq: number;

  constructor(private readonly d: {
    self: { peerId: string; seed: Uint8Array; name: string };
    ops: Ops;
    world: World;
    bus: EventBus;
    hlc: HybridClock;
    /** the allowed peer's trust, undefined for any other */
    policy(peerId: string): PeerPolicy | undefined;
    log: LinkLog;
    now: () => number;
    /** most users one origin may introduce (s2s-max-users-per-origin) */
    maxUsersPerOrigin?: number;
    counters?: PeerCounters;
    /** the audit log: every envelope whose signature verified, applied or refused */
    audit?: (r: AuditRecord) => void;
    /** run `fn` (a netsplit's QUITs) inside a `netsplit` batch for batch clients (session/fanout.ts) */
    netsplit?: (servers: [string, string], fn: () => void) => void;
  }) {
    this.applier = new RemoteApplier(d.ops, d.world, d.now, d.maxUsersPerOrigin ?? Infinity);
    this.topo = new Topology(d.self.peerId);
    this.outSeq = d.now() * 1000;
    d.bus.subscribe('federation', (ev, meta) => this.outbound(ev, meta));
  }

  /** the peers with a link up */
  get linked(): string[] {
    return [...this.links.keys()];
  }

  /** close every link (server shutdown) */
  close(reason: string): void {
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
    for (const link of [...this.links.values()]) link.close(reason);
  }

  // ---- LinkEvents (tls-link.ts) ---------------------------------------------------------------

  /** a link went over its rate and is no longer read for now (flow control) */
  throttled(peerId: string): void {
    this.d.counters?.throttled(peerId);
    // logged at most every 10 s per peer: a steady flood pauses the link many times a second
    if (this.logEvery(`rate:${peerId}`)) this.d.log.warn({ peer: peerId }, 'S2S peer over its rate: its link is not read until tokens return');
  }

  /** true at most once every 10 s per key (repeated log lines) */
  private logEvery(key: string): boolean {
    const now = this.d.now();
    if (now - (this.throttleLoggedAt.get(key) ?? -Infinity) < 10_000) return false;
    this.throttleLoggedAt.set(key, now);
    return true;
  }

  /** the link up with this peer, if any */
  linkTo(peerId: string): S2sLink | undefined {
    return this.links.get(peerId);
  }

  up(link: S2sLink): void {
    const old = this.links.get(link.peerId);
    if (old) {
      // both dialled at once: keep exactly one, the same one on both sides (the reference's rule:
      // the server with the lower id keeps the link it dialled, the higher one the link it accepted)
      const keepNew = (link.direction === 'out') === (this.d.self.peerId < link.peerId);
      const loser = keepNew ? old : link;
      this.d.log.info({ peer: link.peerId, kept: keepNew ? link.direction : old.direction }, 'S2S duplicate link closed');
      if (!keepNew) { loser.close('duplicate link'); return; }
      this.links.set(link.peerId, link);
      old.close('duplicate link');
    } else {
      this.links.set(link.peerId, link);
      this.d.counters?.linkUp(link.peerId, true);
    }
    this.topo.set(this.d.self.peerId, link.peerId, true);
    this.topo.names.set(link.peerId, link.peerName);
    // a burst on the kept link even if one went out on the other: the peer may have closed that
    // one before reading it (an introduced user and a member again are no-ops: apply.ts); what
    // it carries is relayed on to the servers behind the peer
    // to every link, not only the new one: every path then carries the same envelopes in the
    // same order, which is what the replay guard (highest sequence number seen) needs when an
    // envelope can come by two paths; the servers that knew us get duplicates, which are no-ops.
    // The burst includes this link (peer-link), so the others learn of it too.
    this.send(this.burst(), [...this.links.values()]);
    this.reconcile('');
  }

  message(link: S2sLink, msg: S2sMessage): void {
    if (msg.type === 'envelope') this.inbound(link, msg);
    else if (msg.type === 'ping') link.send({ type: 'pong', token: msg.token });
  }

  closed(link: S2sLink, reason: string): void {
    this.d.log.info({ peer: link.peerId, direction: link.direction, reason }, 'S2S link closed');
    if (this.links.get(link.peerId) !== link) return;
    this.links.delete(link.peerId);
    this.d.counters?.linkUp(link.peerId, false);
    this.topo.set(this.d.self.peerId, link.peerId, false);
    const peerName = link.peerName || this.d.policy(link.peerId)?.name || link.peerId.slice(0, 16);
    this.send([this.seal({ kind: 'peer-link', peer: link.peerId, name: link.peerName || peerName, up: false })], [...this.links.values()]);
    // netsplit: the servers no longer reachable leave with their users, with the classic reason
    // naming the two servers whose link broke
    this.reconcile(`${this.d.self.name} ${peerName}`);
  }

  /**
   * Reachability after a change of links (federation/topology.ts): servers newly reachable join
   * the network (LINKS, MAP) and, if any, this server sends its burst to every link so they learn
   * its users; servers no longer reachable leave with their users (QUIT `reason`). Returns
   * whether any server became reachable.
   */
  private reconcile(reason: string): boolean {
    const now = this.topo.reachable();
    const nameOf = (id: string): string => id === this.d.self.peerId ? this.d.self.name : this.topo.names.get(id) || id.slice(0, 16);
    let grew = false;
    for (const [id, r] of now) {
      if (!this.reach.has(id)) grew = true;
      this.d.ops.serverLinked(id, nameOf(id), r.hops, nameOf(r.via));
    }
    this.applying = true;
    try {
      const gone = [...this.reach.keys()].filter((id) => !now.has(id));
      const why = reason || (gone.length ? `${this.d.self.name} ${nameOf(gone[0]!)}` : '');
      const [a = this.d.self.name, b = a] = why.split(' ');
      const split = (): void => {
        for (const id of gone) {
          const n = this.applier.dropOrigin(id, why);
          this.d.ops.serverSplit(id);
          this.topo.forget(id);
          this.d.log.info({ peer: id, name: nameOf(id), users: n }, 'S2S netsplit: the server is no longer reachable; its users left');
        }
      };
      if (gone.length && this.d.netsplit) this.d.netsplit([a, b], split);
      else split();
    } finally {
      this.applying = false;
    }
    const before = this.reach;
    this.reach = now;
    // a server that came into reach through another's link has not had our users yet
    if (grew && [...now.keys()].some((id) => !before.has(id) && !this.links.has(id))) this.send(this.burst(), [...this.links.values()]);
    return grew;
  }

  // ---- out -----------------------------------------------------------------------------------

  private outbound(ev: StateEvent, meta: EventMeta): void {
    if (this.applying || this.links.size === 0 || !OUTBOUND.has(ev.kind)) return;
    // only what local users (or this server) did: a remote user's changes are its server's to send
    if (!isLocalChange(ev)) return;
    this.send([this.seal(withKey(ev, toWire(ev)), meta.hlc)], [...this.links.values()]);
  }

  private seal(payload: WireEvent, hlc = this.d.hlc.now()): EnvelopeMessage {
    return sealEnvelope(this.d.self.seed, this.d.self.peerId, ++this.outSeq, hlc, payload);
  }

  private send(envs: EnvelopeMessage[], links: S2sLink[]): void {
    for (const link of links) {
      for (const env of envs) link.send(env);
      for (let i = 0; i < envs.length; i++) this.d.counters?.eventOut(link.peerId);
    }
  }

  /** the up links other than `except` */
  private others(except: S2sLink): S2sLink[] {
    return [...this.links.values()].filter((l) => l !== except);
  }

  /** who is here: this server's links, each registered local user, its channels' registers */
  private burst(): EnvelopeMessage[] {
    const out: EnvelopeMessage[] = [];
    const send = (payload: WireEvent): void => { out.push(this.seal(payload)); };
    for (const l of this.links.values()) send({ kind: 'peer-link', peer: l.peerId, name: l.peerName, up: true });
    const channels = new Set<Channel>();
    for (const u of this.d.world.users.values()) {
      if (!u.registered || !u.local) continue;
      for (const ch of u.channels) channels.add(ch);
      // the nick its DID owns, before the user (the receiver's collision rule then knows it)
      if (u.account !== undefined && this.d.world.nickOwners.get(u.nickFolded) === u.account) send({ kind: 'nick-owner', did: u.account, nick: u.nick });
      send({ kind: 'register', user: { ...wireUser(u), realname: u.realname, signonAt: u.signonAt }, netjoin: true });
      for (const ch of u.channels) {
        send({ kind: 'join', user: wireUser(u), channel: ch.name, status: ch.members.get(u)?.modes ?? '', ts: ch.createdAt, netjoin: true });
      }
    }
    // then the durable registers of the channels our users are on, once their members are known
    // there (the receiver merges them as far as our channel operators could change them)
    for (const ch of channels) {
      const state = channelStateOf(ch);
      if (Object.keys(state).length > 1) send({ kind: 'channel-state', ...state });
    }
    return out;
  }

  // ---- in ------------------------------------------------------------------------------------

  /**
   * An envelope from a link: from the peer itself or relayed by it from further away (multi-hop).
   * Its origin must be allowed here (s2s-allowed-peers: list every server of the network, also
   * those you do not dial) and its signature the origin's own; it must be new for that origin and
   * its clock stamp not far ahead. Then it is applied under the origin's trust and forwarded,
   * unchanged, to every other link (not back, not to the origin): relays cannot alter or forge.
   * The same envelope arriving again by another path is dropped quietly.
   */
  private inbound(link: S2sLink, env: EnvelopeMessage): void {
    if (env.origin === this.d.self.peerId) return; // our own, come round a loop
    const peer = this.d.policy(env.origin);
    const relayed = env.origin !== link.peerId;
    this.d.counters?.eventIn(link.peerId);
    const refuse = (reason: string): void => {
      this.d.counters?.refused(link.peerId, reasonClass(reason));
      this.d.log.warn({ peer: link.peerId, origin: env.origin, seq: env.seq, kind: env.payload.kind, reason }, 'S2S event refused');
    };
    if (!peer) return refuse(relayed ? 'origin is not allowed here (relayed)' : 'origin is not the linked peer');
    if (!verifyEnvelope(env)) return refuse('bad signature');
    // Every envelope of an origin goes to all its links and is relayed on, so its sequence numbers
    // arrive without gaps while the network holds together. One that arrives ahead of the next
    // expected (a relay path that came up mid-stream can be faster than the path still carrying
    // the one before) is held until the gap fills, at most HOLD_MS: then it is taken as it is (a
    // gap that stays is what a split or a restart leaves). Without this, the earlier one would be
    // dropped as old when it came.
    const last = this.replay.lastSeq(env.origin);
    if (last !== undefined && env.seq > last + 1) return this.hold(link, env);
    this.accepted(link, env, peer.trust, relayed, refuse);
    this.release(env.origin);
  }

  /** envelopes held per origin until the gap before them fills (inbound) */
  private readonly held = new Map<string, { envs: Map<number, { link: S2sLink; env: EnvelopeMessage }>; timer: NodeJS.Timeout }>();

  private hold(link: S2sLink, env: EnvelopeMessage): void {
    let h = this.held.get(env.origin);
    if (!h) {
      const timer = setTimeout(() => this.release(env.origin, true), HOLD_MS);
      timer.unref();
      this.held.set(env.origin, h = { envs: new Map(), timer });
    }
    if (!h.envs.has(env.seq)) h.envs.set(env.seq, { link, env });
    if (h.envs.size > MAX_HELD) this.release(env.origin, true);
  }

  /** hand on the held envelopes that now follow without a gap (all of them, in order, when `force`) */
  private release(origin: string, force = false): void {
    const h = this.held.get(origin);
    if (!h) return;
    for (;;) {
      const last = this.replay.lastSeq(origin) ?? 0;
      const seqs = [...h.envs.keys()].sort((a, b) => a - b);
      const next = seqs.find((x) => x > last);
      for (const x of seqs) if (x <= last) h.envs.delete(x);
      if (next === undefined || (!force && next !== last + 1)) break;
      const { link, env } = h.envs.get(next)!;
      h.envs.delete(next);
      const peer = this.d.policy(origin);
      if (peer) this.accepted(link, env, peer.trust, origin !== link.peerId, (reason) => {
        this.d.counters?.refused(link.peerId, reasonClass(reason));
        this.d.log.warn({ peer: link.peerId, origin, seq: env.seq, kind: env.payload.kind, reason }, 'S2S event refused');
      });
    }
    if (h.envs.size === 0) {
      clearTimeout(h.timer);
      this.held.delete(origin);
    }
  }

  /** a verified envelope in its turn: new for its origin, then clock, relay, apply */
  private accepted(link: S2sLink, env: EnvelopeMessage, trust: PeerPolicy['trust'], relayed: boolean, refuse: (reason: string) => void): void {
    // a replay is dropped before it can move our clock; then the stamp is checked and taken
    if (!this.replay.accept(env.origin, env.seq)) {
      // by another path first (meshes): normal, quiet; straight from the origin: logged, at most
      // every 10 s per peer (a replay changes nothing either way)
      this.d.counters?.refused(link.peerId, 'replay');
      if (relayed || !this.logEvery(`replay:${link.peerId}`)) return;
      this.d.log.warn({ peer: link.peerId, origin: env.origin, seq: env.seq, kind: env.payload.kind, reason: 'replayed or old sequence number' }, 'S2S event refused');
      return;
    }
    const audit = (outcome: 'applied' | 'refused', reason?: string): void => this.d.audit?.({
      at: this.d.now(), via: link.peerId, origin: env.origin, seq: env.seq, hlc: env.hlc, kind: env.payload.kind, outcome,
      ...(reason !== undefined ? { reason } : {}), envelope: JSON.stringify(env),
    });
    if (!this.d.hlc.receive(env.hlc)) { audit('refused', 'clock stamp too far in the future'); return refuse('clock stamp too far in the future'); }
    this.d.counters?.lag(link.peerId, Math.max(0, this.d.now() - Number(env.hlc.slice(0, 13))));
    // relayed on first, as received: what each server makes of it is its own policy
    for (const l of this.others(link)) if (l.peerId !== env.origin) { l.send(env); this.d.counters?.eventOut(l.peerId); }
    if (env.payload.kind === 'peer-link') { audit('applied'); return this.peerLink(env.origin, env.payload); }
    this.applying = true;
    try {
      // the change keeps the origin's stamp here (last-writer-wins merges agree everywhere)
      const r = this.d.ops.withStamp({ hlc: env.hlc, origin: env.origin }, () => this.applier.apply(env.origin, trust, env.payload));
      audit(r.ok ? 'applied' : 'refused', r.ok ? undefined : r.reason);
      if (!r.ok) refuse(r.reason);
    } finally {
      this.applying = false;
    }
  }

  /** a server announced its link with another up or down */
  private peerLink(origin: string, ev: { peer: string; name: string; up: boolean }): void {
    // only links with servers allowed here count (and take memory): a peer announcing links with
    // made-up ids cannot grow the map, and a server we would refuse is never "reachable"
    if (ev.peer !== this.d.self.peerId && !this.d.policy(ev.peer)) return;
    this.topo.set(origin, ev.peer, ev.up);
    if (ev.peer !== this.d.self.peerId && !this.links.has(ev.peer)) this.topo.names.set(ev.peer, ev.name);
    const originName = this.topo.names.get(origin) ?? origin.slice(0, 16);
    this.reconcile(ev.up ? '' : `${originName} ${ev.name}`);
  }
}

/** how long an envelope that came ahead of its predecessor waits for it (inbound) */
const HOLD_MS = 1000;
/**
 * most envelopes held for one origin before they are all handed on: a reordering is a few
 * envelopes; a peer cannot make this server keep more than 64 frames (≤ 64 MiB) per origin
 */
const MAX_HELD = 64;

/**
 * A join to a +k channel carries the channel's key, so the receiving server checks it like a
 * local JOIN (servers hold the key anyway: +k travels as a mode change).
 */
function withKey(ev: StateEvent, w: WireEvent): WireEvent {
  return ev.kind === 'join' && w.kind === 'join' && ev.channel.modes.k !== undefined ? { ...w, key: ev.channel.modes.k } : w;
}

/** a refusal reason's class, for the metric label (bounded set) */
function reasonClass(reason: string): string {
  if (reason.includes('signature')) return 'signature';
  if (reason.includes('sequence')) return 'replay';
  if (reason.includes('future')) return 'clock';
  if (reason.includes('not accepted from')) return 'trust';
  if (reason.includes('origin')) return 'origin';
  if (/^\d{3} /.test(reason)) return 'permission';
  return 'other';
}

/** a change made by a local user, or by this server on its own */
function isLocalChange(ev: StateEvent): boolean {
  switch (ev.kind) {
    case 'message': return ev.from.local;
    case 'invite': return ev.source.local;
    case 'kick': case 'topic': case 'channel-mode': return ev.actor === undefined || ev.actor.kind !== 'user' || ev.actor.user.local;
    default: return 'user' in ev ? ev.user.local : true;
  }
}
