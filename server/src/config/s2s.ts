import { z } from 'zod';
import { parseAddr } from './units.js';

/**
 * Federation peers (#14, docs/federation.md): who may link with this server, how far each is
 * trusted, and whom this server dials. Built from `s2s-allowed-peers`, `s2s-peers` and the
 * config file's `[s2s.peers.<id>]` tables:
 *
 * ```toml
 * s2s-peers = ["tls:<id-b>@irc-b.example.net:7000"]
 * [s2s.peers.<id-b>]
 * name = "irc-b"
 * trust = "relay"          # full (default) | relay | readonly
 * transport = "tls"        # for a bare `<id-b>` in s2s-peers: iroh (default) | tls
 * addr = "irc-b.example.net:7000"
 * ```
 */

export type PeerTrust = 'full' | 'relay' | 'readonly';

/** a peer allowed to link (either way), with the trust its events get */
export interface S2sPeerPolicy {
  id: string;
  /** the operator's name for it (logs, LINKS); else the name its hello gives */
  name?: string;
  trust: PeerTrust;
}

/** a peer this server dials */
export interface S2sDialTarget {
  id: string;
  transport: 'iroh' | 'tls';
  /** iroh: a direct UDP address (else discovery finds it); tls: required */
  addr?: { host: string; port: number };
}

export interface S2sConfig {
  /** allowlist, by peer id (s2s-allowed-peers plus [s2s.peers.<id>] tables) */
  allowed: S2sPeerPolicy[];
  dial: S2sDialTarget[];
  /** peers named by did:web in s2s-peers: resolved when federation starts (server.ts), then dialled and allowed */
  didPeers: string[];
}

/** did:web:host[%3Aport][:path…] (identity/did-resolver.ts resolves it) */
const DID_WEB = /^did:web:[A-Za-z0-9.%-]+(:[A-Za-z0-9._~%-]+)*$/;

/** where a peer's document says to dial it: TLS at an address, or iroh (with a direct UDP address, or by discovery) */
export type ServerEndpoint = { transport: 'tls'; host: string; port: number } | { transport: 'iroh'; host?: string; port?: number };

/** `tls://host:port`, `iroh://host:port` or `iroh:` (discovery); undefined for anything else */
export function parseServerEndpoint(s: string): ServerEndpoint | undefined {
  if (s === 'iroh:' || s === 'iroh://') return { transport: 'iroh' };
  const m = /^(tls|iroh):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) return undefined;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return m[1] === 'tls' ? { transport: 'tls', host, port: Number(m[3]) } : { transport: 'iroh', host, port: Number(m[3]) };
}

const PEER_ID = /^[0-9a-f]{64}$/;

const PeerTable = z.strictObject({
  name: z.string().min(1).max(64).regex(/^[^\s]+$/, 'must not contain spaces').optional(),
  trust: z.enum(['full', 'relay', 'readonly']).default('full'),
  transport: z.enum(['iroh', 'tls']).optional(),
  addr: z.string().optional(),
});

/** the config file's `[s2s]` table (only `peers` for now) */
export function readS2sTable(raw: unknown, problems: string[]): Map<string, z.infer<typeof PeerTable>> {
  const out = new Map<string, z.infer<typeof PeerTable>>();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) { problems.push('config file s2s: expected a [s2s] table'); return out; }
  for (const [k, v] of Object.entries(raw)) {
    if (k !== 'peers') { problems.push(`config file s2s: unknown key "${k}"`); continue; }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { problems.push('config file s2s.peers: expected [s2s.peers.<peer id>] tables'); continue; }
    for (const [id, table] of Object.entries(v as Record<string, unknown>)) {
      if (!PEER_ID.test(id)) { problems.push(`config file s2s.peers.${id}: not a peer id (64 lower-case hex digits, see freeq-server peer-id)`); continue; }
      const r = PeerTable.safeParse(table);
      if (!r.success) { for (const i of r.error.issues) problems.push(`config file s2s.peers.${id}.${i.path.join('.') || '?'}: ${i.message}`); continue; }
      if (r.data.addr !== undefined && !parseAddr(r.data.addr)) problems.push(`config file s2s.peers.${id}.addr: expected host:port`);
      out.set(id, r.data);
    }
  }
  return out;
}

/** One `s2s-peers` entry: `ID`, `ID@host:port` (iroh) or `tls:ID@host:port`. */
export function parseDialSpec(spec: string): S2sDialTarget | string {
  const tls = spec.startsWith('tls:');
  const rest = tls ? spec.slice(4) : spec;
  if (rest.startsWith('did:')) return `"${spec}": only did:web names a peer (did:web:HOST), without tls: (its document says how to dial it)`;
  const at = rest.indexOf('@');
  const id = at < 0 ? rest : rest.slice(0, at);
  if (!PEER_ID.test(id)) return `"${spec}": ${JSON.stringify(id)} is not a peer id (64 lower-case hex digits, see freeq-server peer-id)`;
  if (at < 0) return tls ? `"${spec}": a TLS peer needs an address (tls:ID@host:port)` : { id, transport: 'iroh' };
  const addr = parseAddr(rest.slice(at + 1));
  if (!addr) return `"${spec}": expected ID@host:port`;
  return { id, transport: tls ? 'tls' : 'iroh', addr };
}

/**
 * The peers, checked together (config/load.ts calls this once every source is read): every dialed
 * peer must be allowed (the allowlist holds both ways, federation.md) unless open federation is
 * on; a dialed iroh peer needs `--iroh`, a TLS one an address; nobody twice.
 */
export function buildS2sConfig(
  opts: { peers: string[]; allowedPeers: string[]; openDev: boolean; iroh: boolean; relayMode: string },
  tables: Map<string, z.infer<typeof PeerTable>>,
  problems: string[],
): S2sConfig {
  if (!['default', 'disabled'].includes(opts.relayMode)) problems.push(`iroh-relay-mode: must be default or disabled (got ${JSON.stringify(opts.relayMode)})`);
  const allowed = new Map<string, S2sPeerPolicy>();
  for (const id of opts.allowedPeers) {
    if (!PEER_ID.test(id)) { problems.push(`s2s-allowed-peers: ${JSON.stringify(id)} is not a peer id (64 lower-case hex digits, see freeq-server peer-id)`); continue; }
    allowed.set(id, { id, trust: 'full' });
  }
  for (const [id, t] of tables) allowed.set(id, { id, trust: t.trust, ...(t.name !== undefined ? { name: t.name } : {}) });
  const dial: S2sDialTarget[] = [];
  const didPeers: string[] = [];
  for (const spec of opts.peers) {
    if (DID_WEB.test(spec)) {
      if (didPeers.includes(spec)) problems.push(`s2s-peers: ${spec} is given twice`);
      else didPeers.push(spec);
      continue;
    }
    const d = parseDialSpec(spec);
    if (typeof d === 'string') { problems.push(`s2s-peers: ${d}`); continue; }
    const table = tables.get(d.id);
    // a bare ID takes its transport and address from its table
    const target: S2sDialTarget = d.addr === undefined && table
      ? { id: d.id, transport: table.transport ?? 'iroh', ...(table.addr !== undefined ? { addr: parseAddr(table.addr)! } : {}) }
      : d;
    if (dial.some((x) => x.id === target.id)) { problems.push(`s2s-peers: ${target.id} is given twice`); continue; }
    if (!allowed.has(target.id) && !opts.openDev) {
      problems.push(`s2s-peers: ${target.id} is not allowed: add it to s2s-allowed-peers (or a [s2s.peers.${target.id.slice(0, 8)}…] table); links are checked both ways`);
      continue;
    }
    if (target.transport === 'tls' && !target.addr) { problems.push(`s2s-peers: TLS peer ${target.id} needs an address ([s2s.peers.<id>] addr, or tls:ID@host:port)`); continue; }
    if (target.transport === 'iroh' && !opts.iroh) { problems.push(`s2s-peers: ${target.id} is an iroh peer but iroh is off (--iroh), or dial it over TLS (tls:ID@host:port)`); continue; }
    dial.push(target);
  }
  return { allowed: [...allowed.values()], dial, didPeers };
}
