/**
 * A federation server's DID document (#14, docs/federation.md "Peers named by did:web"): a server
 * may publish `did:web:<host>` at https://<host>/.well-known/did.json naming its federation key
 * (the peer id) and, optionally, where to dial it; `--s2s-peers did:web:<host>` resolves it and
 * pins the peer id it finds for the life of the process (the link's transport then proves it).
 *
 * ```json
 * { "id": "did:web:irc-b.example.net",
 *   "verificationMethod": [{ "id": "did:web:irc-b.example.net#freeq-s2s", "type": "Multikey",
 *     "controller": "did:web:irc-b.example.net", "publicKeyMultibase": "z6Mk…" }],
 *   "service": [{ "id": "#freeq-s2s", "type": "FreeqS2s", "serviceEndpoint": "tls://irc-b.example.net:7000" }] }
 * ```
 */
import { parseServerEndpoint, type ServerEndpoint } from '../config/s2s.js';
import { formatMultikey, parseVerificationMethod } from './keys.js';
import type { DidDocument } from './types.js';

/** the fragment of the federation key and of the service that says where to dial */
export const S2S_FRAGMENT = 'freeq-s2s';

/** This server's document: its federation key (64-hex peer id) and, if given, its endpoint. */
export function serverDidDocument(did: string, peerId: string, endpoint?: string): DidDocument {
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [{ id: `${did}#${S2S_FRAGMENT}`, type: 'Multikey', controller: did, publicKeyMultibase: formatMultikey('ed25519', Buffer.from(peerId, 'hex')) }],
    ...(endpoint !== undefined ? { service: [{ id: `#${S2S_FRAGMENT}`, type: 'FreeqS2s', serviceEndpoint: endpoint }] } : {}),
  };
}

/**
 * The peer a server's document names: its `#freeq-s2s` ed25519 key as a peer id, and its
 * `#freeq-s2s` service endpoint if any (none: iroh, found by discovery). A reason when the
 * document has no such key or a malformed endpoint.
 */
export function serverPeerOf(doc: DidDocument): { peerId: string; endpoint: ServerEndpoint } | string {
  const vms = Array.isArray(doc.verificationMethod) ? doc.verificationMethod : [];
  const key = vms.map((vm) => parseVerificationMethod(vm, doc.id)).find((k) => k?.id === `${doc.id}#${S2S_FRAGMENT}`);
  if (!key) return `no #${S2S_FRAGMENT} key in the document`;
  if (key.type !== 'ed25519') return `the #${S2S_FRAGMENT} key is ${key.type}, not ed25519`;
  const peerId = Buffer.from(key.publicKey).toString('hex');
  const services = Array.isArray(doc.service) ? doc.service : [];
  const svc = services.find((s): s is Record<string, unknown> => typeof s === 'object' && s !== null
    && typeof (s as Record<string, unknown>).id === 'string' && [`#${S2S_FRAGMENT}`, `${doc.id}#${S2S_FRAGMENT}`].includes((s as Record<string, unknown>).id as string));
  if (!svc) return { peerId, endpoint: { transport: 'iroh' } };
  const endpoint = typeof svc.serviceEndpoint === 'string' ? parseServerEndpoint(svc.serviceEndpoint) : undefined;
  if (!endpoint) return `the #${S2S_FRAGMENT} service endpoint is not tls://host:port or iroh://host:port`;
  return { peerId, endpoint };
}
