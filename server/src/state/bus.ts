import type { StateEvent } from './events.js';
import type { HybridClock } from './hlc.js';

/**
 * Where an event comes from and where it stands (#13): the server that made the change (its peer
 * id), that server's sequence number for it (1, 2, 3… per origin: a peer link can tell a gap or a
 * replay), and its hybrid-logical-clock stamp (state/hlc.ts).
 */
export interface EventMeta {
  origin: string;
  seq: number;
  hlc: string;
}

export type EventKind = StateEvent['kind'];
export type EventOf<K extends EventKind> = Extract<StateEvent, { kind: K }>;
export type Subscriber<E extends StateEvent = StateEvent> = (ev: E, meta: EventMeta) => void;

interface Subscription { name: string; fn: Subscriber; kinds?: ReadonlySet<EventKind> }

/**
 * The in-process event bus (#13): Ops publishes every change once; typed subscribers (fan-out,
 * plugins, metrics, and next the federation links) each take what they need. Subscribers run in
 * the order they subscribed, synchronously, within the change's turn (fan-out must see the state
 * as the change left it). One that throws is reported and skipped: the change happened, the
 * other subscribers still hear of it.
 *
 * In-process subscribers get the event with references to the live User and Channel objects
 * (fan-out needs them, and a lookup per recipient would cost); `toWire` (state/wire.ts) is the
 * plain, serialisable form a peer or another process gets. The interface is what a multi-process
 * bus (federation.md "Scaling one logical server") would implement.
 */
export class EventBus {
  private readonly subs: Subscription[] = [];
  private seq = 0;

  constructor(
    /** this server's peer id: the origin of every event it publishes */
    readonly origin: string,
    private readonly clock: HybridClock,
    private readonly onError: (err: unknown, subscriber: string, ev: StateEvent) => void,
  ) {}

  /** Every event (`kinds` omitted) or only those kinds. Returns the unsubscribe function. */
  subscribe(name: string, fn: Subscriber, kinds?: readonly EventKind[]): () => void {
    const sub: Subscription = { name, fn, kinds: kinds && new Set(kinds) };
    this.subs.push(sub);
    return () => {
      const i = this.subs.indexOf(sub);
      if (i !== -1) this.subs.splice(i, 1);
    };
  }

  /** One kind, typed: `bus.on('message', (ev) => …)` gets a MessageEvent. */
  on<K extends EventKind>(name: string, kind: K, fn: Subscriber<EventOf<K>>): () => void {
    return this.subscribe(name, fn as Subscriber, [kind]);
  }

  /** A change made on this server: stamped with our origin, the next sequence number and an HLC stamp. */
  publish(ev: StateEvent): EventMeta {
    const meta: EventMeta = { origin: this.origin, seq: ++this.seq, hlc: this.clock.now() };
    this.deliver(ev, meta);
    return meta;
  }

  /** the sequence number of the last event this server published */
  get lastSeq(): number {
    return this.seq;
  }

  private deliver(ev: StateEvent, meta: EventMeta): void {
    for (const s of this.subs) {
      if (s.kinds && !s.kinds.has(ev.kind)) continue;
      try {
        s.fn(ev, meta);
      } catch (err) {
        this.onError(err, s.name, ev);
      }
    }
  }
}
