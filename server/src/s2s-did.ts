import type { Config } from './config/schema.js';
import type { S2sDialTarget } from './config/s2s.js';
import type { Links } from './federation/links.js';
import type { PeerPolicy } from './federation/peers.js';
import type { ServerEndpoint } from './config/s2s.js';
import { serverDidDocument, serverPeerOf } from './identity/server-did.js';
import type { DidDocument, IdentityService } from './identity/types.js';
import type { Logger } from './observability/log.js';

/**
 * Peers named by did:web (#14, docs/federation.md "Peers named by did:web"), wired here because
 * they join identity (DID resolution) and federation (the links): each `did:web:HOST` in
 * s2s-peers is resolved when federation starts; its `#freeq-s2s` key is the peer id, pinned for
 * the life of the process, allowed (trust full unless its [s2s.peers.ID] table says otherwise)
 * and dialled where its document says. A document that cannot be had is tried again, from 10 s
 * doubling to 10 min; a peer id that differs from the one pinned is refused.
 */
export class DidPeers {
  /** did → the peer id pinned for it */
  private readonly pinned = new Map<string, string>();
  private readonly policies = new Map<string, PeerPolicy>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly d: { config: Config; identity: IdentityService; log: Logger; selfId: string }) {}

  /** the trust of a peer allowed by its did:web (the federation policy asks this after the configured allowlist) */
  policy(peerId: string): PeerPolicy | undefined {
    return this.policies.get(peerId);
  }

  /** resolve every did:web peer, then dial each through `links` (in the background: start-up does not wait) */
  start(links: Links): void {
    for (const did of this.d.config.s2s.didPeers) void this.resolve(did, links, 10_000);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private async resolve(did: string, links: Links, retryMs: number): Promise<void> {
    if (this.stopped) return;
    let why: string;
    try {
      const found = serverPeerOf(await this.d.identity.resolveDid(did));
      if (typeof found !== 'string') {
        const pinned = this.pinned.get(did);
        if (found.peerId === this.d.selfId) why = 'the document names this server\'s own key';
        else if (pinned !== undefined && pinned !== found.peerId) why = `the document now names another key than the one pinned (${pinned})`;
        else return this.use(did, found.peerId, found.endpoint, links);
      } else {
        why = found;
      }
    } catch (e) {
      why = e instanceof Error ? e.message : 'resolution failed';
    }
    if (this.stopped) return;
    this.d.log.warn({ did, reason: why, retryInS: retryMs / 1000 }, 'S2S did:web peer not resolved');
    const t = setTimeout(() => { this.timers.delete(t); void this.resolve(did, links, Math.min(retryMs * 2, 600_000)); }, retryMs);
    t.unref();
    this.timers.add(t);
  }

  private use(did: string, peerId: string, endpoint: ServerEndpoint, links: Links): void {
    this.pinned.set(did, peerId);
    const table = this.d.config.s2s.allowed.find((p) => p.id === peerId);
    this.policies.set(peerId, table ? { trust: table.trust, ...(table.name !== undefined ? { name: table.name } : {}) } : { trust: 'full' });
    const target: S2sDialTarget = endpoint.transport === 'tls'
      ? { id: peerId, transport: 'tls', addr: { host: endpoint.host, port: endpoint.port } }
      : { id: peerId, transport: 'iroh', ...(endpoint.host !== undefined && endpoint.port !== undefined ? { addr: { host: endpoint.host, port: endpoint.port } } : {}) };
    this.d.log.info({ did, peer: peerId, transport: target.transport, addr: target.addr ?? null }, 'S2S did:web peer resolved');
    links.addDial(target);
  }
}

/** This server's did:web document (s2s-did), or undefined when it publishes none. */
export function ownDidDocument(config: Config, peerId: string): DidDocument | undefined {
  return config.s2sDid === undefined ? undefined : serverDidDocument(config.s2sDid, peerId, config.s2sDidEndpoint);
}
