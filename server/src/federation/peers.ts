import type { EventBus, EventMeta } from '../state/bus.js';
import type { StateEvent } from '../state/events.js';
import type { HybridClock } from '../state/hlc.js';
import type { Ops } from '../state/ops.js';
import { toWire, wireUser, type WireEvent } from '../state/wire.js';
import type { World } from '../state/world.js';
import { RemoteApplier, type Trust } from './apply.js';
import { ReplayGuard, sealEnvelope, verifyEnvelope } from './envelope.js';
import type { EnvelopeMessage, S2sMessage } from './messages.js';
import type { LinkEvents, LinkLog, S2sLink } from './tls-link.js';

/** A configured peer: its id (the federation key) and how far it is trusted. */
export interface PeerConfig { id: string; trust: Trust }

/** the event kinds this server sends its peers (what happened here; never state only a peer could apply) */
const OUTBOUND: ReadonlySet<WireEvent['kind']> = new Set(['register', 'quit', 'nick', 'join', 'part', 'message', 'topic', 'away', 'setname', 'kick', 'channel-mode', 'invite', 'account', 'chghost', 'handle']);

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
    self: { peerId: string; seed: Uint8Array };
    ops: Ops;
    world: World;
    bus: EventBus;
    hlc: HybridClock;
    peers: ReadonlyMap<string, PeerConfig>;
    log: LinkLog;
    now: () => number;
  }) {
    this.applier = new RemoteApplier(d.ops, d.world, d.now);
    this.outSeq = d.now() * 1000;
    d.bus.subscribe('federation', (ev, meta) => this.outbound(ev, meta));
  }

  /** the peers with a link up */
  get linked(): string[] {
    return [...this.links.keys()];
  }

  /** close every link (server shutdown) */
  close(reason: string): void {
    for (const link of [...this.links.values()]) link.close(reason);
  }

  // ---- LinkEvents (tls-link.ts) ---------------------------------------------------------------

  up(link: S2sLink): void {
    this.links.set(link.peerId, link);
    this.burst(link);
  }

  message(link: S2sLink, msg: S2sMessage): void {
    if (msg.type === 'envelope') this.inbound(link, msg);
    else if (msg.type === 'ping') link.send({ type: 'pong', token: msg.token });
  }

  closed(link: S2sLink, reason: string): void {
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    this.d.log.info({ peer: link.peerId, reason }, 'S2S link closed');
  }

  // ---- out -----------------------------------------------------------------------------------

  private outbound(ev: StateEvent, meta: EventMeta): void {
    if (this.applying || this.links.size === 0 || !OUTBOUND.has(ev.kind)) return;
    // only what local users (or this server) did: a remote user's changes are its server's to send
    if (!isLocalChange(ev)) return;
    const env = sealEnvelope(this.d.self.seed, this.d.self.peerId, ++this.outSeq, meta.hlc, toWire(ev));
    for (const link of this.links.values()) link.send(env);
  }

  /** a new link learns who is here: each registered local user, then its channels */
  private burst(link: S2sLink): void {
    const send = (payload: WireEvent): void => link.send(sealEnvelope(this.d.self.seed, this.d.self.peerId, ++this.outSeq, this.d.hlc.now(), payload));
    for (const u of this.d.world.users.values()) {
      if (!u.registered || !u.local) continue;
      send({ kind: 'register', user: { ...wireUser(u), realname: u.realname, signonAt: u.signonAt } });
      for (const ch of u.channels) send({ kind: 'join', user: wireUser(u), channel: ch.name });
    }
  }

  // ---- in ------------------------------------------------------------------------------------

  private inbound(link: S2sLink, env: EnvelopeMessage): void {
    const peer = this.d.peers.get(env.origin);
    const refuse = (reason: string): void => this.d.log.warn({ peer: link.peerId, origin: env.origin, seq: env.seq, kind: env.payload.kind, reason }, 'S2S event refused');
    if (!peer || env.origin !== link.peerId) return refuse('origin is not the linked peer');
    if (!verifyEnvelope(env)) return refuse('bad signature');
    // a replay is dropped before it can move our clock; then the stamp is checked and taken
    if (!this.replay.accept(env.origin, env.seq)) return refuse('replayed or old sequence number');
    if (!this.d.hlc.receive(env.hlc)) return refuse('clock stamp too far in the future');
    this.applying = true;
    try {
      const r = this.applier.apply(env.origin, peer.trust, env.payload);
      if (!r.ok) refuse(r.reason);
    } finally {
      this.applying = false;
    }
  }
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
