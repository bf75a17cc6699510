/**
 * Helpers shared by the SASL end-to-end tests: an SDK login that records every line, and raw
 * ATPROTO-CHALLENGE exchanges (for responses the SDK would never send).
 */
import assert from 'node:assert/strict';
import {
  AuthenticateAssembler, FreeqClient, chunkAuthenticate, decodeChallenge, encodeResponse, plainPayload,
  type AtprotoChallenge, type AtprotoResponse, type FreeqClientOptions, type SaslConfig,
} from '../../../sdk/src/index.js';
import type { RawClient } from './raw-client.js';
import type { TestServer } from './server.js';

export interface SdkLogin {
  client: FreeqClient;
  /** every line received */
  lines: string[];
  /** the DID from the authenticated event, or undefined */
  did: string | undefined;
  /** [numeric, text] of authFailed, or undefined */
  failed: [string, string] | undefined;
}

/** Connect an SDK client (TCP by default) with SASL and wait for registration. */
export async function sdkLogin(srv: TestServer, nick: string, sasl: SaslConfig | undefined, extra: Partial<FreeqClientOptions> = {}): Promise<SdkLogin> {
  const client = new FreeqClient({ url: `irc://127.0.0.1:${srv.port}`, nick, caps: [], ...(sasl ? { sasl } : {}), ...extra });
  const out: SdkLogin = { client, lines: [], did: undefined, failed: undefined };
  client.on('raw', (line) => out.lines.push(line));
  client.on('authenticated', (did) => { out.did = did; });
  client.on('authFailed', (n, t) => { out.failed = [n, t]; });
  await client.connect();
  return out;
}

/** The line of `lines` for numeric/command `cmd` (fails with all lines when missing). */
export function lineOf(lines: string[], cmd: string): string {
  const l = lines.find((x) => x.split(' ')[1] === cmd);
  assert.ok(l, `no ${cmd} line in:\n${lines.join('\n')}`);
  return l;
}

/** WHOIS `nick` from `asker` and return the reply lines up to 318. */
export async function whois(asker: RawClient, nick: string): Promise<string[]> {
  asker.send(`WHOIS ${nick}`);
  return asker.collectUntil(/ 318 /);
}

/**
 * Raw client: CAP REQ sasl, NICK/USER, `AUTHENTICATE ATPROTO-CHALLENGE`; returns the decoded
 * challenge (reassembled from its chunks).
 */
export async function rawStartAtproto(c: RawClient, nick: string): Promise<AtprotoChallenge> {
  c.send('CAP LS 302', 'CAP REQ :sasl', `NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.expect(/ CAP \S+ ACK :?sasl$/);
  c.send('AUTHENTICATE ATPROTO-CHALLENGE');
  return rawReadChallenge(c);
}

export async function rawReadChallenge(c: RawClient): Promise<AtprotoChallenge> {
  const a = new AuthenticateAssembler();
  for (;;) {
    const line = await c.expect(/^AUTHENTICATE /);
    const done = a.push(line.slice('AUTHENTICATE '.length));
    if (done !== undefined) return decodeChallenge(done);
  }
}

/** Send an encoded SASL payload in 400-byte AUTHENTICATE chunks. */
export function rawSendPayload(c: RawClient, encoded: string): void {
  c.send(...chunkAuthenticate(encoded).map((p) => `AUTHENTICATE ${p}`));
}

export function rawAnswer(c: RawClient, r: AtprotoResponse): void {
  rawSendPayload(c, encodeResponse(r));
}

/** Raw PLAIN login up to (and including) the first SASL result line (900 on success, else 902/903/904); returns it. */
export async function rawPlain(c: RawClient, nick: string, identifier: string, password: string): Promise<string> {
  c.send('CAP LS 302', 'CAP REQ :sasl', `NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.expect(/ CAP \S+ ACK :?sasl$/);
  c.send('AUTHENTICATE PLAIN');
  assert.equal(await c.expect(/^AUTHENTICATE /), 'AUTHENTICATE +');
  rawSendPayload(c, plainPayload(identifier, password));
  return c.expect(/ 90[0234] /, 10_000);
}

export const b64url = (s: string | Uint8Array): string => Buffer.from(s).toString('base64url');
