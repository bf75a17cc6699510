import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics (served at /metrics). One registry per server instance, so several servers
 * in one process (tests) never share counters. Default Node metrics include the event-loop lag.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly connections = new Gauge({ name: 'freeq_connections', help: 'open client connections', labelNames: ['transport'] as const, registers: [this.registry] });
  private readonly connectionsTotal = new Counter({ name: 'freeq_connections_total', help: 'client connections accepted', labelNames: ['transport'] as const, registers: [this.registry] });
  private readonly registrations = new Counter({ name: 'freeq_registrations_total', help: 'clients that completed registration', registers: [this.registry] });
  private readonly users = new Gauge({ name: 'freeq_users', help: 'registered users', registers: [this.registry] });
  private readonly messages = new Counter({ name: 'freeq_messages_total', help: 'PRIVMSG/NOTICE/TAGMSG accepted for relay', labelNames: ['command'] as const, registers: [this.registry] });
  private readonly events = new Counter({ name: 'freeq_events_total', help: 'state changes published on the event bus (state/bus.ts), by kind', labelNames: ['kind'] as const, registers: [this.registry] });
  /** the per-kind children of `events`, bound once (an inc() on a bound child skips the label lookup) */
  private readonly eventKinds = new Map<string, { inc(): void }>();
  private readonly limitHits = new Counter({ name: 'freeq_limit_hits_total', help: 'requests refused or delayed by a limit', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly saslResults = new Counter({ name: 'freeq_sasl_total', help: 'SASL exchanges by mechanism and result', labelNames: ['mechanism', 'result'] as const, registers: [this.registry] });
  private readonly sendqDrops = new Counter({ name: 'freeq_sendq_drops_total', help: 'clients disconnected for SendQ exceeded', registers: [this.registry] });

  /** #12 history-max-bytes: read at scrape time from the history writer (history/writer.ts usage) */
  private historyUsage: () => { bytes: number; evicted: number } = () => ({ bytes: 0, evicted: 0 });
  private readonly historyBytes = new Gauge({
    name: 'freeq_history_bytes', help: 'stored bytes of message history (history-max-bytes counts these)', registers: [this.registry],
    collect: () => { this.historyBytes.set(this.historyUsage().bytes); },
  });
  private readonly historyEvicted = new Counter({
    name: 'freeq_history_evicted_total', help: 'messages deleted oldest-first because history exceeded history-max-bytes', registers: [this.registry],
    // the writer thread counts; this reports its figure (reset + inc: a counter has no set)
    collect: () => { this.historyEvicted.reset(); this.historyEvicted.inc(this.historyUsage().evicted); },
  });

  // federation (#14), per peer id (peers are on the allowlist, so the label set is bounded)
  private readonly s2sIn = new Counter({ name: 'freeq_s2s_events_in_total', help: 'envelopes received from a peer', labelNames: ['peer'] as const, registers: [this.registry] });
  private readonly s2sOut = new Counter({ name: 'freeq_s2s_events_out_total', help: 'envelopes sent to a peer', labelNames: ['peer'] as const, registers: [this.registry] });
  private readonly s2sRefused = new Counter({ name: 'freeq_s2s_refused_total', help: 'envelopes from a peer refused (signature, replay, clock, trust, origin, permission, other)', labelNames: ['peer', 'reason'] as const, registers: [this.registry] });
  private readonly s2sThrottled = new Counter({ name: 'freeq_s2s_throttled_total', help: 'times a peer\'s link was paused for going over s2s-peer-rate', labelNames: ['peer'] as const, registers: [this.registry] });
  private readonly s2sLag = new Histogram({ name: 'freeq_s2s_lag_seconds', help: 'how long after its origin stamped it an event was applied here', labelNames: ['peer'] as const, buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60], registers: [this.registry] });
  private readonly s2sUp = new Gauge({ name: 'freeq_s2s_link_up', help: '1 while a link with the peer is up', labelNames: ['peer'] as const, registers: [this.registry] });
  /** federation/peers.ts PeerCounters */
  readonly s2s = {
    eventIn: (peer: string): void => { this.s2sIn.inc({ peer }); },
    eventOut: (peer: string): void => { this.s2sOut.inc({ peer }); },
    refused: (peer: string, reason: string): void => { this.s2sRefused.inc({ peer, reason }); },
    throttled: (peer: string): void => { this.s2sThrottled.inc({ peer }); },
    lag: (peer: string, ms: number): void => { this.s2sLag.observe({ peer }, ms / 1000); },
    linkUp: (peer: string, up: boolean): void => { this.s2sUp.set({ peer }, up ? 1 : 0); },
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }

  /** where freeq_history_bytes / freeq_history_evicted_total come from (server.ts wires the history store) */
  watchHistory(usage: () => { bytes: number; evicted: number }): void { this.historyUsage = usage; }

  connectionOpened(transport: string): void { this.connections.inc({ transport }); this.connectionsTotal.inc({ transport }); }
  connectionClosed(transport: string): void { this.connections.dec({ transport }); }
  registered(): void { this.registrations.inc(); this.users.inc(); }
  userGone(): void { this.users.dec(); }
  message(command: string): void { this.messages.inc({ command }); }
  /** one state change of this kind (the bus's metrics subscriber) */
  event(kind: string): void {
    let c = this.eventKinds.get(kind);
    if (!c) { c = this.events.labels(kind); this.eventKinds.set(kind, c); }
    c.inc();
  }
  /** kind: per-ip, throttle, global, tls-handshake, fakelag, message-rate, nick-rate, sasl-rate, oper-rate, banned, lockdown, … */
  limitHit(kind: string): void { this.limitHits.inc({ kind }); }
  sasl(mechanism: string, result: 'success' | 'failure' | 'abort'): void { this.saslResults.inc({ mechanism, result }); }
  sendqDrop(): void { this.sendqDrops.inc(); }

  text(): Promise<string> { return this.registry.metrics(); }
  get contentType(): string { return this.registry.contentType; }
}
