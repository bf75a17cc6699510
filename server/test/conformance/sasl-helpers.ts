import { ed25519 } from '@noble/curves/ed25519.js';
import { Secp256k1Keypair } from '@atproto/crypto';
import { base58btc } from 'multiformats/bases/base58';
import type { RawClient } from '../harness/raw-client.js';

/** A did:key identity that can sign challenges (client side of ATPROTO-CHALLENGE `crypto`). */
export interface Signer {
  did: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export function ed25519Signer(): Signer {
  const sk = ed25519.utils.randomSecretKey();
  const pk = ed25519.getPublicKey(sk);
  const did = `did:key:${base58btc.encode(new Uint8Array([0xed, 0x01, ...pk]))}`;
  return { did, sign: async (d) => ed25519.sign(d, sk) };
}

export async function secp256k1Signer(): Promise<Signer> {
  const kp = await Secp256k1Keypair.create();
  // @atproto/crypto: ECDSA over SHA-256 of the data, 64-byte compact, low-S
  return { did: kp.did(), sign: (d) => kp.sign(d) };
}

export const b64url = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/** Read a (possibly chunked) server AUTHENTICATE payload: the challenge bytes. */
export async function readChallenge(c: RawClient): Promise<Buffer> {
  let text = '';
  for (;;) {
    const line = await c.expect(/^AUTHENTICATE /);
    const data = line.slice('AUTHENTICATE '.length);
    if (data === '+') break;
    text += data;
    if (data.length < 400) break;
  }
  return Buffer.from(text, 'base64url');
}

/** AUTHENTICATE lines for a response: 400-byte chunks, `+` after an exact multiple. */
export function responseLines(encoded: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < encoded.length; i += 400) out.push(`AUTHENTICATE ${encoded.slice(i, i + 400)}`);
  if (encoded.length % 400 === 0) out.push('AUTHENTICATE +');
  return out;
}

export async function cryptoResponse(s: Signer, challenge: Buffer, extra: Record<string, unknown> = {}): Promise<string> {
  const sig = await s.sign(new Uint8Array(challenge));
  return b64url(JSON.stringify({ did: s.did, method: 'crypto', signature: b64url(sig), ...extra }));
}

/** CAP LS 302 + NICK/USER + CAP REQ sasl, up to the ACK (registration then waits for CAP END). */
export async function startSasl(c: RawClient, nick: string): Promise<void> {
  c.send('CAP LS 302', `NICK ${nick}`, `USER ${nick} 0 * :${nick}`, 'CAP REQ :sasl');
  await c.expect(/ CAP \S+ ACK :?sasl$/);
}

/** Log in with a did:key over ATPROTO-CHALLENGE, then finish registration with extra caps. */
export async function loginWithDidKey(srv: { connect(): Promise<RawClient> }, nick: string, signer: Signer, caps: string[] = ['message-tags', 'echo-message']): Promise<RawClient> {
  const c = await srv.connect();
  await startSasl(c, nick);
  c.send('AUTHENTICATE ATPROTO-CHALLENGE');
  const ch = await readChallenge(c);
  c.send(...responseLines(await cryptoResponse(signer, ch)));
  await c.expect(/ 903 /);
  c.send(`CAP REQ :${caps.join(' ')}`);
  await c.expect(/ CAP \S+ ACK /);
  c.send('CAP END');
  await c.expect(/ (376|422) /);
  return c;
}
