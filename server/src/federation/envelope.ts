import canonicalizeModule from 'canonicalize';
import type { EnvelopeMessage } from './messages.js';
import type { WireEvent } from '../state/wire.js';
import { ed25519Sign, ed25519Verify } from '../util/ed25519.js';

// the package's CommonJS default export, typed as its declaration says
const canonicalize = canonicalizeModule as unknown as (v: unknown) => string | undefined;

/**
 * Signed envelopes (#14 phase 2, federation.md "Signed envelopes and audit"): an event travels as
 * `{origin, seq, since, hlc, payload, sig}` (`since`: the first sequence number of the origin's
 * current run, since its start: a receiver knows a gap before it is a restart, not a reordering), signed by the server it happened on with its federation key
 * (iroh-key.secret). The origin's peer id IS its ed25519 public key, so a receiver verifies the
 * signature against the origin named in the envelope, never against the link it came over: a
 * relay forwards envelopes unchanged and can neither alter nor forge one. Which origins a server
 * accepts at all (its allowlist, pinned ids) is the link's check, before this one.
 *
 * What is signed: the RFC 8785 (JCS) canonical JSON of `{origin, seq, since, hlc, payload}`, after a
 * domain-separation prefix, so a signature over an envelope can never be taken for one over a
 * chat message (keys/chat-signature.ts) or any other use of the key.
 */
const DOMAIN = 'freeq-s2s-envelope-v1\n';

function signedBytes(e: { origin: string; seq: number; since: number; hlc: string; payload: WireEvent }): Uint8Array {
  const canonical = canonicalize({ origin: e.origin, seq: e.seq, since: e.since, hlc: e.hlc, payload: e.payload });
  if (canonical === undefined) throw new Error('envelope: payload cannot be canonicalized');
  return Buffer.from(DOMAIN + canonical, 'utf8');
}

/** A signed envelope for an event this server originated (`seed`: the iroh-key.secret seed, `origin`: its peer id). */
export function sealEnvelope(seed: Uint8Array, origin: string, seq: number, hlc: string, payload: WireEvent, since = seq): EnvelopeMessage {
  const sig = ed25519Sign(seed, signedBytes({ origin, seq, since, hlc, payload })).toString('base64url');
  return { type: 'envelope', origin, seq, since, hlc, payload, sig };
}

/** True when `e.sig` is the origin's signature over exactly these fields (schema-checked first: messages.ts). */
export function verifyEnvelope(e: EnvelopeMessage): boolean {
  try {
    return ed25519Verify(e.origin, signedBytes(e), Buffer.from(e.sig, 'base64url'));
  } catch {
    return false; // a payload that cannot be canonicalized is a failed check, never a crash
  }
}

/**
 * Replays (#14 phase 2): per origin, an envelope whose sequence number is not above the last one
 * accepted from that origin is dropped. Bounded: at most `maxOrigins` origins are remembered (the
 * allowlist is far smaller; beyond it the oldest is forgotten, and its next envelope is accepted as
 * a resync would be).
 */
export class ReplayGuard {
  private readonly last = new Map<string, number>();

  constructor(private readonly maxOrigins = 10_000) {}

  /** true (and remembered) if `seq` is new for `origin`; false for a replay or an old envelope */
  accept(origin: string, seq: number): boolean {
    const prev = this.last.get(origin);
    if (prev !== undefined && seq <= prev) return false;
    this.last.delete(origin);
    this.last.set(origin, seq);
    if (this.last.size > this.maxOrigins) this.last.delete(this.last.keys().next().value!);
    return true;
  }

  /** the last sequence number accepted from `origin` (a link asks for what follows it after a reconnect) */
  lastSeq(origin: string): number | undefined {
    return this.last.get(origin);
  }
}
