import { base64Encode, base64UrlDecode, base64UrlEncode } from './base64.js';

/**
 * SASL as both ends speak it: AUTHENTICATE chunking and reassembly (IRCv3 sasl-3.1: 400-byte
 * chunks, `AUTHENTICATE +` after a payload that is an exact multiple of 400), the ATPROTO-CHALLENGE
 * wire types (the challenge and the response, as JSON in base64url), and the PLAIN payload. No I/O,
 * no Node built-ins.
 */

/** Largest AUTHENTICATE payload per line (IRCv3 sasl-3.1). */
export const SASL_CHUNK_SIZE = 400;

/** Method names of the ATPROTO-CHALLENGE mechanism. */
export type AtprotoMethod = 'crypto' | 'pds-session' | 'pds-oauth' | 'service-auth' | 'web-token';
/** `web-token`: a single-use login token the server issued after a Bluesky (OAuth) login on its web page */
export const ATPROTO_METHODS: readonly AtprotoMethod[] = ['crypto', 'pds-session', 'pds-oauth', 'service-auth', 'web-token'];

/**
 * Split an encoded SASL payload into AUTHENTICATE parameters: 400-character pieces, then `+`
 * when the last piece is exactly 400 characters long (or the payload is empty), so the server
 * knows the payload ended.
 */
export function chunkAuthenticate(payload: string): string[] {
  if (payload.length === 0) return ['+'];
  const out: string[] = [];
  for (let i = 0; i < payload.length; i += SASL_CHUNK_SIZE) out.push(payload.slice(i, i + SASL_CHUNK_SIZE));
  if (payload.length % SASL_CHUNK_SIZE === 0) out.push('+');
  return out;
}

/**
 * Reassembles AUTHENTICATE parameters sent by the server. `push` returns the complete payload
 * (possibly '') once a piece shorter than 400 characters, or `+`, arrives; undefined while more
 * pieces are expected.
 */
export class AuthenticateAssembler {
  private parts: string[] = [];

  push(param: string): string | undefined {
    if (param === '+') return this.take();
    this.parts.push(param);
    if (param.length >= SASL_CHUNK_SIZE) return undefined;
    return this.take();
  }

  /** true while a payload is half received */
  get pending(): boolean { return this.parts.length > 0; }

  reset(): void { this.parts = []; }

  private take(): string {
    const s = this.parts.join('');
    this.parts = [];
    return s;
  }
}

/** The challenge the server sends (ATPROTO-CHALLENGE), as JSON on the wire. */
export interface AtprotoChallengeWire {
  session_id: string;
  /** base64url of 32 random bytes; the pds-* methods echo it as `challenge_nonce` */
  nonce: string;
  /** the server's clock when it issued the challenge (Unix seconds) */
  timestamp: number;
}

/** The exact JSON text of a challenge: what the `crypto` method signs (fields in this order). */
export function challengeJson(c: AtprotoChallengeWire): string {
  return `{"session_id":${JSON.stringify(c.session_id)},"nonce":${JSON.stringify(c.nonce)},"timestamp":${c.timestamp}}`;
}

/** A decoded ATPROTO-CHALLENGE challenge. */
export interface AtprotoChallenge {
  /** the exact challenge bytes (the JSON text): what the `crypto` method signs */
  bytes: Uint8Array;
  /** the challenge nonce, echoed back as `challenge_nonce` */
  nonce: string;
  sessionId?: string;
  timestamp?: number;
  /** every field of the challenge JSON */
  fields: Record<string, unknown>;
}

/** Decode the (reassembled) base64url challenge the server sent. Throws on malformed input. */
export function decodeChallenge(payload: string): AtprotoChallenge {
  const bytes = base64UrlDecode(payload);
  let fields: unknown;
  try {
    fields = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Error('challenge is not JSON');
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new Error('challenge is not a JSON object');
  const f = fields as Record<string, unknown>;
  if (typeof f.nonce !== 'string' || f.nonce === '') throw new Error('challenge has no nonce');
  const out: AtprotoChallenge = { bytes, nonce: f.nonce, fields: f };
  if (typeof f.session_id === 'string') out.sessionId = f.session_id;
  if (typeof f.timestamp === 'number') out.timestamp = f.timestamp;
  return out;
}

/** The JSON an ATPROTO-CHALLENGE client answers with. */
export interface AtprotoResponse {
  did: string;
  method: AtprotoMethod;
  /** crypto: base64url signature; pds-session/pds-oauth: access token; service-auth: the JWT */
  signature: string;
  pds_url?: string;
  dpop_proof?: string;
  /** the challenge's nonce (the pds-* methods must echo it; crypto signs the challenge instead) */
  challenge_nonce?: string;
}

/** Encode a response as base64url-nopad JSON (undefined fields left out). */
export function encodeResponse(r: AtprotoResponse): string {
  const o: Record<string, string> = { did: r.did, method: r.method, signature: r.signature };
  if (r.pds_url !== undefined) o.pds_url = r.pds_url;
  if (r.dpop_proof !== undefined) o.dpop_proof = r.dpop_proof;
  if (r.challenge_nonce !== undefined) o.challenge_nonce = r.challenge_nonce;
  return base64UrlEncode(JSON.stringify(o));
}

/**
 * The SASL PLAIN message (RFC 4616): `authzid NUL authcid NUL password`, standard base64.
 * `authzid` defaults to empty ("act as the identity the credentials belong to").
 */
export function plainPayload(identifier: string, password: string, authzid = ''): string {
  return base64Encode(`${authzid}\0${identifier}\0${password}`);
}
