import type { S2sDialTarget } from '../config/s2s.js';
import { dialS2sIroh, listenS2sIroh, openIrohEndpoint } from './iroh-link.js';
import type { LinkSide, S2sLink } from './link.js';

/**
 * The iroh transport of Links (federation/links.ts), in its own module so that links.ts loads it
 * (and the native binding) only with --iroh: one endpoint with this server's federation key that
 * both accepts (allowlist checked) and dials.
 */
export async function irohTransport(o: {
  seed: Buffer;
  peerId: string;
  bind: { host: string; port: number } | undefined;
  relayMode: 'default' | 'disabled';
  side: LinkSide;
  allowed(peerId: string): boolean;
}): Promise<{ dial(target: S2sDialTarget, side: LinkSide): Promise<S2sLink>; addresses: string[]; close(): Promise<void> }> {
  const ep = await openIrohEndpoint({ seed: o.seed, relayMode: o.relayMode, ...(o.bind ? { bindAddr: o.bind } : {}) });
  if (ep.peerId !== o.peerId) {
    await ep.close();
    throw new Error(`iroh endpoint id ${ep.peerId} is not this server's peer id ${o.peerId}`);
  }
  listenS2sIroh(ep, { ...o.side, allowed: (id) => o.allowed(id) });
  return {
    dial: (t, side) => dialS2sIroh(ep, { ...side, expect: t.id, ...(t.addr ? { addrs: [`${t.addr.host.includes(':') ? `[${t.addr.host}]` : t.addr.host}:${t.addr.port}`] } : {}) }),
    addresses: ep.boundAddrs(),
    close: () => ep.close(),
  };
}
