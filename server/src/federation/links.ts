import type { Server as TlsServer } from 'node:tls';
import type { S2sConfig, S2sDialTarget } from '../config/s2s.js';
import { federationTlsIdentity } from './cert.js';
import type { LinkEvents, LinkLog, LinkSide, S2sLink } from './link.js';
import type { PeerPolicy, Peers } from './peers.js';
import { dialS2sTls, listenS2sTls } from './tls-link.js';
import type { S2sMessage } from './messages.js';

/** a bound TCP address (node:net BoundAddress's shape; federation/ does not import node:net) */
export interface BoundAddress { address: string; family: string; port: number }

/** What federation needs from the configuration (config/options.ts group Federation, config/s2s.ts). */
export interface LinksConfig {
  self: { peerId: string; seed: Buffer; name: string };
  s2s: S2sConfig;
  /** s2s-open-federation-dev: any peer may link, at relay trust */
  openDev: boolean;
  tlsListen?: { host: string; port: number };
  iroh: boolean;
  irohBind?: { host: string; port: number };
  irohRelayMode: 'default' | 'disabled';
  rate: { perSecond: number; burst: number };
  /** the rate of a peer's burst (s2s-peer-burst-rate) */
  burstRate: { perSecond: number; burst: number };
  /** s2s-sendq: bytes a link may hold unread by its peer */
  sendqBytes: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

/** one transport's dialer and its shutdown (the iroh one is loaded only with --iroh) */
interface Transport {
  dial(target: S2sDialTarget, side: LinkSide): Promise<S2sLink>;
  /** the addresses it listens on, for logs and tests */
  addresses: string[];
  close(): Promise<void>;
}

/** per dialled peer: when to try next */
interface DialState { target: S2sDialTarget; backoffMs: number; timer?: NodeJS.Timeout; dialling: boolean }

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

/**
 * The links of this server (#14, federation.md "Transport"): the listeners (TLS with
 * --s2s-listen-addr, iroh with --iroh), a dialler per --s2s-peers entry, and the ping. Each link is
 * handed to Peers once its phase 1 is done.
 * - Dialling: a peer with a link up is not dialled (it may have dialled us); when its link
 *   closes, or a dial fails, the next try comes after a backoff of 1 s doubling to 60 s, each
 *   delay ±25 % at random so that restarted servers do not dial in lock-step; a link that comes
 *   up resets the backoff.
 * - Ping: every ping interval each link gets a ping; a link the peer has sent nothing on for
 *   the ping timeout is closed (netsplit) and, if dialled by us, redialled.
 * - The allowlist: s2s-allowed-peers and the [s2s.peers.<id>] tables, both ways (the listeners
 *   refuse any other peer; a dialled peer must be on it, config/s2s.ts).
 */
/**
 * The allowlist with each peer's trust (s2s-allowed-peers and [s2s.peers.<id>] tables); with open
 * federation any other peer at relay trust; never this server itself.
 */
export function peerPolicies(s2s: S2sConfig, selfId: string, openDev: boolean): (peerId: string) => PeerPolicy | undefined {
  const policies = new Map<string, PeerPolicy>();
  for (const p of s2s.allowed) if (p.id !== selfId) policies.set(p.id, { trust: p.trust, ...(p.name !== undefined ? { name: p.name } : {}) });
  return (peerId) => peerId === selfId ? undefined : policies.get(peerId) ?? (openDev ? { trust: 'relay' } : undefined);
}

export class Links {
  private readonly dials = new Map<string, DialState>();
  private readonly transports: { tls?: Transport; iroh?: Transport } = {};
  private tlsServer: (TlsServer & { destroyConnections(): void }) | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** peers closed by SQUIT: neither dialled nor accepted until CONNECT */
  private readonly suspended = new Set<string>();
  /** the server names peers gave in their hellos (SQUIT / CONNECT by name, also while unlinked) */
  private readonly names = new Map<string, string>();
  private side!: LinkSide;
  /** bound addresses: the TLS listener's, the iroh endpoint's */
  readonly addresses: { tls?: BoundAddress; iroh?: string[] } = {};

  private constructor(
    private readonly cfg: LinksConfig,
    private readonly peers: Peers,
    private readonly policy: (peerId: string) => PeerPolicy | undefined,
    private readonly log: LinkLog,
    private readonly now: () => number,
  ) {}

  /** Start listening and dialling; `policy` is Peers' too (peerPolicies). */
  static async start(cfg: LinksConfig, peers: Peers, policy: (peerId: string) => PeerPolicy | undefined, log: LinkLog, now: () => number): Promise<Links> {
    const links = new Links(cfg, peers, policy, log, now);
    await links.open();
    return links;
  }

  private async open(): Promise<void> {
    const { cfg } = this;
    if (cfg.s2s.dial.some((d) => d.id === cfg.self.peerId)) throw new Error('s2s-peers: this server\'s own peer id is in the list');
    if (cfg.openDev) this.log.warn({}, 'OPEN FEDERATION (s2s-open-federation-dev): any server may link with this one, at relay trust. Never use this on a public network');
    else if (cfg.s2s.allowed.length === 0) this.log.warn({}, 'federation is on but no peer is allowed (s2s-allowed-peers): every link will be refused');
    const events: LinkEvents = {
      up: (link) => this.onUp(link),
      message: (link, msg: S2sMessage) => this.peers.message(link, msg),
      closed: (link, reason) => this.onClosed(link, reason),
    };
    const tlsId = await federationTlsIdentity(cfg.self.seed, cfg.self.peerId);
    this.side = {
      self: tlsId, name: cfg.self.name, log: this.log, events, rate: cfg.rate, burstRate: cfg.burstRate, maxPendingBytes: cfg.sendqBytes, now: this.now,
      throttled: (link) => { this.peers.throttled(link.peerId); },
    };
    const allowed = (id: string): boolean => this.policy(id) !== undefined && !this.suspended.has(id);
    try {
      if (cfg.tlsListen) {
        const server = listenS2sTls({ ...this.side, self: tlsId, allowed });
        this.tlsServer = server;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(cfg.tlsListen!.port, cfg.tlsListen!.host, () => { server.off('error', reject); resolve(); });
        });
        this.addresses.tls = server.address() as BoundAddress;
      }
      this.transports.tls = {
        dial: (t, side) => dialS2sTls({ ...side, self: tlsId, host: t.addr!.host, port: t.addr!.port, expect: t.id }),
        addresses: this.addresses.tls ? [`${this.addresses.tls.address}:${this.addresses.tls.port}`] : [],
        close: async () => {},
      };
      if (cfg.iroh) {
        // loaded only here: a server without --iroh never loads the native binding
        const { irohTransport } = await import('./iroh-transport.js');
        this.transports.iroh = await irohTransport({ seed: cfg.self.seed, peerId: cfg.self.peerId, bind: cfg.irohBind, relayMode: cfg.irohRelayMode, side: this.side, allowed });
        this.addresses.iroh = this.transports.iroh.addresses;
      }
    } catch (e) {
      await this.stop('start failed');
      throw e;
    }
    this.log.info({ peerId: cfg.self.peerId, tls: this.addresses.tls ?? null, iroh: this.addresses.iroh ?? null, allowed: cfg.s2s.allowed.map((p) => ({ id: p.id, trust: p.trust, name: p.name })), dial: cfg.s2s.dial.map((d) => d.id) }, 'federation started');
    this.pingTimer = setInterval(() => this.ping(), Math.max(100, Math.min(cfg.pingIntervalMs, cfg.pingTimeoutMs / 3)));
    this.pingTimer.unref();
    for (const target of cfg.s2s.dial) this.addDial(target);
  }

  /**
   * Dial `target` from now on (a peer named by did:web, once its document is resolved: server.ts);
   * a peer dialled already is left as it is. Its id must be allowed by the policy.
   */
  addDial(target: S2sDialTarget): void {
    if (this.stopped || this.dials.has(target.id) || target.id === this.cfg.self.peerId) return;
    if (target.transport === 'iroh' && !this.transports.iroh) {
      this.log.warn({ peer: target.id }, 'S2S peer not dialled: it is an iroh peer and iroh is off (--iroh)');
      return;
    }
    const st: DialState = { target, backoffMs: BACKOFF_MIN_MS, dialling: false };
    this.dials.set(target.id, st);
    void this.dial(st);
  }

  async stop(reason: string): Promise<void> {
    this.stopped = true;
    clearInterval(this.pingTimer);
    for (const st of this.dials.values()) clearTimeout(st.timer);
    this.peers.close(reason);
    if (this.tlsServer) {
      const server = this.tlsServer;
      const closed = new Promise<void>((r) => { server.close(() => r()); });
      server.destroyConnections();
      await closed;
    }
    await this.transports.iroh?.close();
  }

  /** a peer by id or by server name (its hello's, or the operator's [s2s.peers.<id>] name) */
  private resolve(server: string): string | undefined {
    const lower = server.toLowerCase();
    if (/^[0-9a-f]{64}$/.test(lower)) return this.policy(lower) || this.dials.has(lower) ? lower : undefined;
    for (const [id, name] of this.names) if (name.toLowerCase() === lower) return id;
    for (const p of this.cfg.s2s.allowed) if (p.name?.toLowerCase() === lower) return p.id;
    return undefined;
  }

  /** SQUIT: close the link, and keep the peer out until CONNECT */
  squit(server: string, reason: string): boolean {
    const id = this.resolve(server);
    if (!id) return false;
    this.suspended.add(id);
    const st = this.dials.get(id);
    if (st) { clearTimeout(st.timer); st.timer = undefined; }
    this.log.info({ peer: id, reason }, 'S2S SQUIT: link closed until CONNECT');
    this.peers.linkTo(id)?.close(`SQUIT: ${reason}`);
    return true;
  }

  /** the links that are up, with their traffic since they opened (STATS l, #16) */
  stats(): { peerId: string; name: string; direction: 'in' | 'out'; sendq: number; sentMsgs: number; sentBytes: number; recvMsgs: number; recvBytes: number; openedAt: number }[] {
    const out = [];
    for (const id of this.peers.linked) {
      const link = this.peers.linkTo(id);
      if (!link) continue;
      out.push({ peerId: id, name: link.peerName || (this.names.get(id) ?? id), direction: link.direction, sendq: link.pending, ...link.traffic });
    }
    return out;
  }

  /** CONNECT: allow the peer again and dial it now (if it is dialled) */
  connect(server: string): boolean {
    const id = this.resolve(server);
    if (!id) return false;
    this.suspended.delete(id);
    const st = this.dials.get(id);
    if (st) {
      clearTimeout(st.timer);
      st.timer = undefined;
      st.backoffMs = BACKOFF_MIN_MS;
      void this.dial(st);
    }
    return true;
  }

  private async dial(st: DialState): Promise<void> {
    st.timer = undefined;
    if (this.stopped || st.dialling || this.suspended.has(st.target.id) || this.peers.linkTo(st.target.id)) return;
    const transport = this.transports[st.target.transport];
    if (!transport) return;
    st.dialling = true;
    try {
      await transport.dial(st.target, this.side);
      // phase 1 follows; onUp resets the backoff, onClosed schedules the next try
    } catch (e) {
      this.log.warn({ peer: st.target.id, transport: st.target.transport, addr: st.target.addr ?? null, err: (e as Error).message, retryInMs: st.backoffMs }, 'S2S dial failed');
      this.retry(st);
    } finally {
      st.dialling = false;
    }
  }

  private retry(st: DialState): void {
    if (this.stopped || st.timer || this.suspended.has(st.target.id)) return;
    const delay = Math.round(st.backoffMs * (0.75 + Math.random() * 0.5));
    st.backoffMs = Math.min(BACKOFF_MAX_MS, st.backoffMs * 2);
    st.timer = setTimeout(() => { void this.dial(st); }, delay);
    st.timer.unref();
  }

  private onUp(link: S2sLink): void {
    const st = this.dials.get(link.peerId);
    if (st) st.backoffMs = BACKOFF_MIN_MS;
    this.names.set(link.peerId, link.peerName);
    this.peers.up(link);
  }

  private onClosed(link: S2sLink, reason: string): void {
    this.peers.closed(link, reason);
    const st = this.dials.get(link.peerId);
    // redial only when no link to the peer is left (its own dial may have won)
    if (st && !this.peers.linkTo(link.peerId)) this.retry(st);
  }

  private ping(): void {
    const now = this.now();
    for (const id of this.peers.linked) {
      const link = this.peers.linkTo(id)!;
      if (now - link.lastHeard > this.cfg.pingTimeoutMs) {
        this.log.warn({ peer: id, silentMs: now - link.lastHeard }, 'S2S ping timeout');
        link.close('ping timeout');
      } else {
        link.send({ type: 'ping', token: String(now) });
      }
    }
  }
}
