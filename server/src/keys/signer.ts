import { ed25519PublicKeyOf } from '../util/ed25519.js';
import type { SigningKeyRepo, SigningKeyRow } from '../storage/repos/signing-keys.js';
import { canonicalForm, kidOf, messageEvent, SIG_TAG, SIG_TAG_FORMAT, signCanonical, verifySigTag, type ChatEvent, type Verdict } from './chat-signature.js';
import { KEY_FILES, loadOrCreateKey, type KeyFileOptions } from './key-file.js';

export const SIGNING_SPEC_URL = 'https://github.com/freeq-irc/freeq/blob/main/spec/chat-signing-vectors.json';

export interface PublicKeyEntry {
  kid: string;
  /** base64url-nopad raw 32-byte ed25519 public key */
  publicKey: string;
  current: boolean;
  createdAt: number;
  retiredAt?: number;
}

/** GET /api/v1/signing-key: the reference's documented JSON plus `previous_keys`. */
export interface SigningKeyInfo {
  algorithm: 'ed25519';
  public_key: string;
  encoding: 'base64url';
  usage: 'message-signing';
  canonical_form: 'jcs-per-event-kind';
  spec: string;
  sig_tag_format: string;
  tag: string;
  /** keys this server signed with before a rotation, newest first; signatures by them still verify */
  previous_keys: Array<{ kid: string; public_key: string; retired_at: string }>;
}

/** The message-signing service on ServerContext (`ctx.server.signing`). */
export interface MessageSigner {
  /** kid of the current key */
  readonly kid: string;
  /** `+freeq.at/sig` tag value for a relayed message (target = venue: channelVenue / dmVenue) */
  signTag(m: { from: string; msgid: string; target: string; body: string; tags?: ReadonlyMap<string, string> }): string;
  /** every key this server has signed with (current first) */
  publicKeys(): PublicKeyEntry[];
  signingKeyInfo(): SigningKeyInfo;
  /** check a tag against an event with this server's current and previous keys */
  verify(tag: string, ev: ChatEvent): Verdict;
}

export const publicKeyB64 = (seed: Uint8Array): string => Buffer.from(ed25519PublicKeyOf(seed)).toString('base64url');

/** Load (or create, 0600) msg-signing-key.secret. Raw 32-byte files (the reference's format) are accepted. */
export function loadSigningSeed(dataDir: string, opts: KeyFileOptions = {}) {
  return loadOrCreateKey(dataDir, KEY_FILES.msgSigning, { ...opts, allowRaw: true });
}

/**
 * Build the signer: record the current key in `signing_keys` (retiring any other still marked
 * current, e.g. after an operator replaced the file by hand) and keep the list for verification.
 */
export function createMessageSigner(seed: Buffer, repo: SigningKeyRepo, now: number): MessageSigner {
  const pub = ed25519PublicKeyOf(seed);
  const kid = kidOf(pub);
  const publicKey = Buffer.from(pub).toString('base64url');
  repo.makeCurrent(kid, publicKey, now);
  const rows: SigningKeyRow[] = repo.all();
  const byKid = new Map(rows.map((r) => [r.kid, Buffer.from(r.publicKey, 'base64url')]));
  const entries = (): PublicKeyEntry[] => [
    ...rows.filter((r) => r.kid === kid),
    ...rows.filter((r) => r.kid !== kid).sort((a, b) => (b.retiredAt ?? 0) - (a.retiredAt ?? 0)),
  ].map((r) => ({ kid: r.kid, publicKey: r.publicKey, current: r.kid === kid, createdAt: r.createdAt, retiredAt: r.retiredAt }));

  return {
    kid,
    signTag: (m) => signCanonical(seed, canonicalForm(messageEvent(m))),
    publicKeys: entries,
    signingKeyInfo: () => ({
      algorithm: 'ed25519',
      public_key: publicKey,
      encoding: 'base64url',
      usage: 'message-signing',
      canonical_form: 'jcs-per-event-kind',
      spec: SIGNING_SPEC_URL,
      sig_tag_format: SIG_TAG_FORMAT,
      tag: SIG_TAG,
      previous_keys: entries().filter((e) => !e.current).map((e) => ({ kid: e.kid, public_key: e.publicKey, retired_at: new Date(e.retiredAt ?? 0).toISOString() })),
    }),
    verify: (tag, ev) => verifySigTag(tag, canonicalForm(ev), (k) => byKid.get(k)),
  };
}

/**
 * The signing hook of a relayed PRIVMSG/NOTICE (state/message-ops.ts, through its `sign` port):
 * when the sender is logged in (`from` = their DID) and the venue is known, the message's client
 * tags plus `+freeq.at/sig`, so message-tags recipients (and the echo, and history) get it.
 * Guests, TAGMSG, and private messages to a user without a DID (no `dm:` venue) get none: the
 * tags are returned unchanged.
 */
export function signedTags(signing: MessageSigner, a: { command: string; from: string | undefined; msgid: string; venue: string | undefined; body: string | undefined; tags: ReadonlyMap<string, string> | undefined }): ReadonlyMap<string, string> | undefined {
  if (a.command === 'TAGMSG' || !a.from || a.body === undefined || a.venue === undefined) return a.tags;
  const tags = new Map(a.tags ?? []);
  tags.set(SIG_TAG, signing.signTag({ from: a.from, msgid: a.msgid, target: a.venue, body: a.body, tags: a.tags }));
  return tags;
}
