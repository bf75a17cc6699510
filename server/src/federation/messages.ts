import { z } from 'zod';

/**
 * Every message a peer may send (#14, federation.md), validated with zod before anything reads
 * it. Every string is bounded and can never carry CR, LF or NUL, so nothing a peer sends can
 * break an IRC line on its way to a client (the reference relayed unsanitized fields). Unknown
 * keys are refused (strict objects): a peer cannot smuggle fields past the schema.
 */

/** no CR, LF or NUL, at most `max` characters (client-input limits: protocol/limits.ts, hardening.md) */
export const safeString = (max: number) => z.string().max(max).refine((s) => !/[\r\n\0]/.test(s), { message: 'CR, LF or NUL' });

/** a server's federation identity: its ed25519 public key, 64 lower-case hex digits */
export const PeerId = z.string().regex(/^[0-9a-f]{64}$/);
/** state/hlc.ts encoding */
export const Hlc = z.string().regex(/^\d{13}\.\d{6}$/);
/** state/ids.ts uid: 8 hex digits of the origin's peer id, upper-cased, then base 36 */
export const Uid = z.string().regex(/^[0-9A-F]{8}[0-9A-Z]{6,12}$/);
const Nick = safeString(64).refine((s) => s.length > 0 && !/[\s,*?!@]/.test(s), { message: 'not a nick' });
const Channel = safeString(64).refine((s) => /^[#&]/.test(s) && !/[\s,]/.test(s) && !s.includes('\u0007'), { message: 'not a channel name' });
const Text = safeString(8192);
const Mask = safeString(400);
const Did = safeString(2048).refine((s) => s.startsWith('did:'), { message: 'not a DID' });

export const WireUser = z.strictObject({ uid: Uid, nick: Nick, username: safeString(64), host: safeString(128), account: Did.optional() });
const WireActor = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), user: WireUser }),
  z.strictObject({ kind: z.enum(['server', 'operator']), name: safeString(128) }),
]);
const ModeChange = z.strictObject({ adding: z.boolean(), mode: z.string().regex(/^[A-Za-z]$/), param: Mask.optional() });
const Line = z.strictObject({ text: Text, concat: z.boolean() });
const Time = z.number().int().nonnegative();

/** a server name, shown to clients (LINKS, WHOIS, netsplit QUITs): host-name characters only */
const ServerName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/);
const Stamp = z.strictObject({ hlc: Hlc, origin: PeerId });
const ListMask = Mask.refine((x) => x !== '' && !/\s/.test(x) && !x.startsWith(':'), { message: 'not a mask' });
/** one +b/+e/+I list, entry by entry: the entries with their additions' stamps, the removed ones with their removals' */
const ListRegister = z.strictObject({
  entries: z.array(z.strictObject({ mask: ListMask, setBy: Mask, setAt: Time, stamp: Stamp })).max(1000),
  removed: z.array(z.strictObject({ mask: ListMask, stamp: Stamp })).max(1000),
});
/** state/channel-sync.ts ChannelStateDelta */
const ChannelState = z.strictObject({
  kind: z.literal('channel-state'), channel: Channel,
  topic: z.strictObject({ value: z.strictObject({ text: Text, setBy: Mask, setAt: Time }).nullable(), stamp: Stamp }).optional(),
  flags: z.strictObject({ value: z.string().regex(/^[imnpst]{0,6}$/), stamp: Stamp }).optional(),
  key: z.strictObject({ value: safeString(128).refine((s) => s !== '' && !/[\s,:]/.test(s), { message: 'not a key' }).nullable(), stamp: Stamp }).optional(),
  limit: z.strictObject({ value: z.number().int().positive().max(1_000_000).nullable(), stamp: Stamp }).optional(),
  lists: z.strictObject({ b: ListRegister.optional(), e: ListRegister.optional(), I: ListRegister.optional() }).optional(),
  didops: z.strictObject({ value: z.array(z.strictObject({ did: Did, by: Mask, at: Time })).max(1000), stamp: Stamp }).optional(),
  founder: z.strictObject({ value: Did, stamp: Stamp }).optional(),
});

/** state/wire.ts WireEvent, kind by kind */
export const WireEvent = z.discriminatedUnion('kind', [
  ChannelState,
  z.strictObject({ kind: z.literal('peer-link'), peer: PeerId, name: ServerName, up: z.boolean() }),
  z.strictObject({ kind: z.literal('join'), user: WireUser, channel: Channel, status: z.string().regex(/^[ov]{0,2}$/), ts: Time, key: safeString(128).optional(), netjoin: z.literal(true).optional(),
    after: z.strictObject({ origin: PeerId, seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) }).optional() }),
  z.strictObject({ kind: z.literal('part'), user: WireUser, channel: Channel, reason: Text.optional() }),
  z.strictObject({ kind: z.literal('kick'), source: Mask, by: WireActor.optional(), channel: Channel, target: WireUser, reason: Text }),
  z.strictObject({ kind: z.literal('quit'), user: WireUser, reason: Text }),
  z.strictObject({ kind: z.literal('nick'), user: WireUser, oldMask: Mask }),
  z.strictObject({ kind: z.literal('topic'), source: Mask, by: WireActor.optional(), channel: Channel, topic: z.strictObject({ text: Text, setBy: Mask, setAt: Time }).optional() }),
  z.strictObject({ kind: z.literal('channel-mode'), source: Mask.optional(), by: WireActor.optional(), channel: Channel, changes: z.array(ModeChange).max(100) }),
  z.strictObject({ kind: z.literal('user-mode'), user: WireUser, changes: z.array(ModeChange).max(100) }),
  z.strictObject({ kind: z.literal('away'), user: WireUser, away: Text.optional() }),
  z.strictObject({ kind: z.literal('setname'), user: WireUser, realname: Text }),
  z.strictObject({ kind: z.literal('chghost'), user: WireUser, oldUsername: safeString(64), oldHost: safeString(128) }),
  z.strictObject({ kind: z.literal('invite'), source: WireUser, target: WireUser, channel: Channel }),
  z.strictObject({ kind: z.literal('knock'), user: WireUser, channel: Channel, reason: Text.optional() }),
  z.strictObject({ kind: z.literal('server-notice'), target: WireUser, text: Text }),
  z.strictObject({ kind: z.literal('account'), user: WireUser }),
  z.strictObject({ kind: z.literal('channel-dropped'), channel: Channel, reason: z.enum(['empty', 'expired', 'reclaimed']) }),
  z.strictObject({
    kind: z.literal('message'), from: WireUser, command: z.enum(['PRIVMSG', 'NOTICE', 'TAGMSG']), target: safeString(70),
    channel: Channel.optional(), to: WireUser.optional(), minRank: z.string().regex(/^[a-z]$/).optional(), text: Text.optional(),
    lines: z.array(Line).max(100).optional(), tags: z.record(safeString(64), safeString(4096)).optional(),
    msgid: safeString(64), at: Time,
  }),
  // #16 REDACT: target a channel, or a nick with the DID it named (a private conversation)
  z.strictObject({ kind: z.literal('redact'), user: WireUser, target: safeString(70).refine((s) => s !== '' && !/[\s,]/.test(s), { message: 'not a target' }), did: Did.optional(), msgid: safeString(64), reason: Text.optional(), id: safeString(64), at: Time }),
  z.strictObject({ kind: z.literal('lockdown'), actor: Mask, from: z.enum(['off', 'sasl-only', 'closed']), to: z.enum(['off', 'sasl-only', 'closed']) }),
  z.strictObject({ kind: z.literal('register'), user: WireUser.extend({ realname: Text, signonAt: Time }).strict(), netjoin: z.literal(true).optional() }),
  z.strictObject({ kind: z.literal('nick-owner'), did: Did, nick: Nick, claimed: Hlc }),
  z.strictObject({ kind: z.literal('did-op'), channel: Channel, did: Did, adding: z.boolean(), by: Mask }),
  z.strictObject({ kind: z.literal('handle'), user: WireUser, handle: safeString(253).optional() }),
  z.strictObject({ kind: z.literal('server-ban'), actor: Mask, adding: z.boolean(), target: Mask, banKind: z.enum(['mask', 'ip', 'cidr']), reason: Text.optional(), expiresAt: Time.optional() }),
]);

/** base64url of a 64-byte ed25519 signature */
const Sig = z.string().regex(/^[A-Za-z0-9_-]{86}$/);

/** Phase 1: who I am (must equal the transport-authenticated id), protocol version and capabilities. */
export const Hello = z.strictObject({ type: z.literal('hello'), version: z.literal(1), id: PeerId, name: ServerName, caps: z.array(safeString(32)).max(32) });
export const HelloAck = z.strictObject({ type: z.literal('hello_ack'), id: PeerId });
export const Refusal = z.strictObject({ type: z.literal('refusal'), reason: safeString(200) });
export const Ping = z.strictObject({ type: z.literal('ping'), token: safeString(32) });
export const Pong = z.strictObject({ type: z.literal('pong'), token: safeString(32) });
/** Phase 2: an event signed by the server it happened on; relays forward it unchanged. */
const Seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const Envelope = z.strictObject({ type: z.literal('envelope'), origin: PeerId, seq: Seq, since: Seq, hlc: Hlc, payload: WireEvent, sig: Sig })
  .refine((e) => e.since <= e.seq, { message: 'since after seq' });

export const S2sMessage = z.discriminatedUnion('type', [Hello, HelloAck, Refusal, Ping, Pong, Envelope]);
export type S2sMessage = z.infer<typeof S2sMessage>;
export type EnvelopeMessage = z.infer<typeof Envelope>;

/** A decoded frame, checked: the message, or why it was refused (for the log line; never echoed to clients). */
export function parseS2s(raw: unknown): { ok: true; msg: S2sMessage } | { ok: false; reason: string } {
  const r = S2sMessage.safeParse(raw);
  if (r.success) return { ok: true, msg: r.data };
  const first = r.error.issues[0];
  if (!first) return { ok: false, reason: 'invalid message' };
  // the path may quote the peer's own input (a record key), and the reason goes back to it in a
  // refusal (Refusal: at most 200 characters, no CR, LF or NUL) and into the log
  const clean = (s: string): string => s.replace(/[\r\n\0]/g, ' ');
  const path = first.path.map((p) => { const s = clean(String(p)); return s.length > 32 ? `${s.slice(0, 32)}...` : s; }).join('.');
  return { ok: false, reason: clean(`${path || '(message)'}: ${first.message}`).slice(0, 160) };
}
