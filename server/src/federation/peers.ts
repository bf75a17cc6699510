import type { EventBus, EventMeta } from '../state/bus.js';
import type { StateEvent } from '../state/events.js';
import type { HybridClock } from '../state/hlc.js';
import type { Ops } from '../state/ops.js';
import { toWire, type WireEvent } from '../state/wire.js';
import type { World } from '../state/world.js';
import { RemoteApplier, type Trust } from './apply.js';
import { ReplayGuard, sealEnvelope, verifyEnvelope } from './envelope.js';
import type { EnvelopeMessage, S2sMessage } from './messages.js';
import type { LinkEvents, LinkLog, S2sLink } from './link.js';
import { Topology, type Reach } from './topology.js';
import { Burst } from './burst.js';
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
const OUTBOUND: ReadonlySet<WireEvent['kind']> = new Set(['register', 'quit', 'nick', 'join', 'part', 'message', 'topic', 'away', 'setname', 'kick', 'channel-mode', 'invite', 'knock', 'redact', 'account', 'chghost', 'handle', 'nick-owner']);

/**
 * The peers of this server (#14): what goes out and what comes in over the links.
 * - Out: every change made here (a bus subscriber) becomes an envelope signed with this server's
 *   federation key, sent to every link that is up. Changes this server made while applying a
 *   peer's event are not sent again (no echo, no loop). A link that comes up gets a burst (every
 *   registered local user and the channels they are on), streamed at the pace the links take it
 *   (federation/burst.ts).
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
  /** this server's burst, streamed to every link (federation/burst.ts) */
  private readonly burst: Burst;
  /** set while a peer's event is applied: what Ops emits then is that peer's change, not ours */
  private applying = false;
  /**
   * The sequence number of this server's envelopes: one counter for the burst and live events
   * alike, started from the clock (ms × 1000) so it keeps rising across restarts and a peer's
   * replay guard never drops what comes after one.
   */
  private outSeq: number;
  /** the first sequence number of this run (every envelope carries it: a gap before it is a restart) */
  private readonly since: number;

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
    /** s2s-sendq (link.ts): bursts are paced to an eighth of it, at most 512 KiB */
    sendqBytes?: number;
    counters?: PeerCounters;
    /** the audit log: every envelope whose signature verified, applied or refused */
    audit?: (r: AuditRecord) => void;
    /** run `fn` (a netsplit's QUITs) inside a `netsplit` batch for batch clients (session/fanout.ts) */
    netsplit?: (servers: [string, string], fn: () => void) => void;
  }) {
    this.applier = new RemoteApplier(d.ops, d.world, d.now, d.maxUsersPerOrigin ?? Infinity);
    this.topo = new Topology(d.self.peerId);
    this.burst = new Burst({
      world: d.world,
      lowWater: Math.min(512 * 1024, Math.floor((d.sendqBytes ?? 16 * 1024 * 1024) / 8)),
      links: () => [...this.links.values()],
      emit: (payloads) => this.send(payloads.map((p) => this.seal(p)), [...this.links.values()]),
    });
    this.outSeq = d.now() * 1000;
    this.since = this.outSeq + 1;
    d.bus.subscribe('federation', (ev, meta) => this.outbound(ev, meta));
  }

  /** the peers with a link up */
  get linked(): string[] {
    return [...this.links.keys()];
  }

  /** close every link (server shutdown) */
  close(reason: string): void {
    this.burst.stop();
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
    this.burst.start();
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
    if (grew && [...now.keys()].some((id) => !before.has(id) && !this.links.has(id))) this.burst.start();
    return grew;
  }

  // ---- out -----------------------------------------------------------------------------------

  private outbound(ev: StateEvent, meta: EventMeta): void {
    if (this.applying || this.links.size === 0 || !OUTBOUND.has(ev.kind)) return;
    // only what local users (or this server) did: a remote user's changes are its server's to send
    if (!isLocalChange(ev)) return;
    this.burst.cover(ev);
    this.send([this.seal(this.withAfter(ev, withKey(ev, toWire(ev))), meta.hlc)], [...this.links.values()]);
  }

  /**
   * A local user's join that a peer's INVITE admitted names that INVITE's envelope (`after`): a
   * server that has the join before the invite (they come from different servers, by different
   * paths) then waits for the invite instead of refusing the join (+i, +k, +l, bans).
   */
  private withAfter(ev: StateEvent, w: WireEvent): WireEvent {
    if (ev.kind !== 'join' || w.kind !== 'join' || this.invitedVia.size === 0) return w;
    const key = `${ev.user.id} ${ev.channel.folded}`;
    const after = this.invitedVia.get(key);
    if (!after) return w;
    this.invitedVia.delete(key);
    return { ...w, after };
  }

  private seal(payload: WireEvent, hlc = this.d.hlc.now()): EnvelopeMessage {
    return sealEnvelope(this.d.self.seed, this.d.self.peerId, ++this.outSeq, hlc, payload, this.since);
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
    // (what came before the origin's current run, before its last restart, is never coming)
    const last = expected(this.replay.lastSeq(env.origin), env);
    if (last !== undefined && env.seq > last + 1) return this.hold(link, env);
    // A join admitted by another server's INVITE waits for that INVITE (withAfter), and the
    // origin's later envelopes wait behind it: at most DEP_HOLD_MS, then it is taken as it is.
    if (this.waits(env)) return this.hold(link, env, DEP_HOLD_MS);
    this.accepted(link, env, peer.trust, relayed, refuse);
    this.release(env.origin);
    this.releaseWaiting();
  }

  /** a join whose INVITE (another origin's envelope) has not been applied here yet, while that origin is in reach */
  private waits(env: EnvelopeMessage): boolean {
    const p = env.payload;
    if (p.kind !== 'join' || !p.after) return false;
    const { origin, seq } = p.after;
    return origin !== env.origin && this.reach.has(origin) && (this.replay.lastSeq(origin) ?? 0) < seq;
  }

  /** after an envelope was applied: the joins that waited for it, with what their origins sent after them */
  private releaseWaiting(): void {
    if (this.releasing || this.held.size === 0) return;
    this.releasing = true;
    try {
      for (let before = -1, now = this.heldCount(); now !== before; before = now, now = this.heldCount()) {
        for (const origin of [...this.held.keys()]) this.release(origin);
      }
    } finally {
      this.releasing = false;
    }
  }

  private heldCount(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.envs.size;
    return n;
  }

  /** envelopes held per origin until the gap before them fills (inbound) */
  private releasing = false;
  /** `${user id} ${folded channel}` → the envelope of the peer's INVITE (withAfter) */
  private readonly invitedVia = new Map<string, { origin: string; seq: number }>();
  private readonly held = new Map<string, { envs: Map<number, { link: S2sLink; env: EnvelopeMessage }>; timer: NodeJS.Timeout }>();

  private hold(link: S2sLink, env: EnvelopeMessage, ms = HOLD_MS): void {
    let h = this.held.get(env.origin);
    const timer = (): NodeJS.Timeout => {
      const t = setTimeout(() => { this.release(env.origin, true); this.releaseWaiting(); }, ms);
      t.unref();
      return t;
    };
    if (!h) this.held.set(env.origin, h = { envs: new Map(), timer: timer() });
    else if (ms > HOLD_MS) { clearTimeout(h.timer); h.timer = timer(); }
    if (!h.envs.has(env.seq)) h.envs.set(env.seq, { link, env });
    if (h.envs.size > MAX_HELD) this.release(env.origin, true);
  }

  /** hand on the held envelopes that now follow without a gap (all of them, in order, when `force`) */
  private release(origin: string, force = false): void {
    const h = this.held.get(origin);
    if (!h) return;
    for (;;) {
      const seen = this.replay.lastSeq(origin) ?? 0;
      const seqs = [...h.envs.keys()].sort((a, b) => a - b);
      const next = seqs.find((x) => x > seen);
      for (const x of seqs) if (x <= seen) h.envs.delete(x);
      if (next === undefined) break;
      const { link, env } = h.envs.get(next)!;
      if (!force && (next !== (expected(seen, env) ?? 0) + 1 || this.waits(env))) break;
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
      else if (env.payload.kind === 'invite') this.invited(env.origin, env.seq, env.payload);
    } finally {
      this.applying = false;
    }
  }

  /** a peer's user invited one of ours: the join that follows names this envelope (withAfter) */
  private invited(origin: string, seq: number, ev: Extract<WireEvent, { kind: 'invite' }>): void {
    const u = this.d.world.findUser(ev.target.nick);
    const ch = this.d.world.findChannel(ev.channel);
    if (!u?.local || u.uid !== ev.target.uid || !ch) return;
    this.invitedVia.set(`${u.id} ${ch.folded}`, { origin, seq });
    if (this.invitedVia.size > MAX_INVITED) this.invitedVia.delete(this.invitedVia.keys().next().value!);
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
/** how long a join waits for the INVITE that admitted it (by another path, from another server) */
const DEP_HOLD_MS = 5000;
/** peers' INVITEs to local users remembered for the join that follows (the oldest go first) */
const MAX_INVITED = 1024;
/**
 * most envelopes held for one origin before they are all handed on: a reordering is a few
 * envelopes; a peer cannot make this server keep more than 64 frames (≤ 64 MiB) per origin
 */
const MAX_HELD = 64;

/**
 * The last sequence number of `env`'s origin this server has taken, for the gap check: what came
 * before the origin's current run (`since`: it restarted) is never coming, so it is not waited for.
 */
function expected(last: number | undefined, env: EnvelopeMessage): number | undefined {
  return last === undefined ? undefined : Math.max(last, env.since - 1);
}

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
