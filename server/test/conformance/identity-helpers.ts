import assert from 'node:assert/strict';
import { foldCase } from '../../src/protocol/casemap.js';
import type { TestServer } from '../harness/server.js';
import type { ConnectOptions, RawClient } from '../harness/raw-client.js';

/**
 * Identity tests log users in by calling the production op SASL calls on success
 * (`ops.login(user, { did, handle })`), so they do not depend on a DID resolver or PDS. The SASL
 * path itself (AUTHENTICATE → ops.login) is covered end to end by the sasl/e2e tests.
 */
export const DID_A = 'did:plc:abcdefghijklmnop';
export const DID_B = 'did:plc:bbbbbbbbcccccccc';
export const DID_C = 'did:plc:ccccccccdddddddd';

/** Log in the user currently holding `nick` (registered or not) as `did`. */
export function login(srv: TestServer, nick: string, did: string, handle?: string): void {
  const ctx = srv.server.context;
  const u = ctx.world.nicks.get(foldCase(nick));
  if (!u) throw new Error(`no user holds ${nick}`);
  ctx.ops.login(u, { did, handle });
}

/**
 * Connect, send NICK/USER inside CAP negotiation, log in (as SASL would, before CAP END), then
 * finish registration. Resolves after 376/422 with the client's final nick in `c.nick`.
 */
export async function connectLoggedIn(srv: TestServer, nick: string, did: string, opts: ConnectOptions & { caps?: string[]; handle?: string } = {}): Promise<RawClient> {
  const c = await srv.connect(opts);
  c.send('CAP LS 302');
  if (opts.caps?.length) c.send(`CAP REQ :${opts.caps.join(' ')}`);
  c.send(`NICK ${nick}`, `USER ${nick.toLowerCase().slice(0, 10)} 0 * :${nick} Real`);
  await c.sync();
  login(srv, nick, did, opts.handle);
  c.send('CAP END');
  const welcome = await c.expectMsg('001');
  c.nick = welcome.params[0]!;
  await c.expect(/ (376|422) /);
  return c;
}

/** The NOTE a successful APITOKEN answers with (server-name irc.test); group 1 is the token. */
export const APITOKEN_ISSUED = /^:irc\.test NOTE APITOKEN ISSUED ([A-Za-z0-9_-]+) :Bearer token for the HTTP API, valid 24 hours$/;

/** Ask for an HTTP API token over IRC; the NOTE must be exactly APITOKEN_ISSUED. */
export async function apiToken(c: RawClient): Promise<string> {
  c.send('APITOKEN');
  const line = await c.expect(/ NOTE APITOKEN /);
  const m = APITOKEN_ISSUED.exec(line);
  assert.ok(m, line);
  return m[1]!;
}

/** A line without its tags. */
export function body(line: string): string {
  return line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line;
}

/** JOIN and collect up to 366. */
export async function joined(c: RawClient, ch: string): Promise<string[]> {
  c.send(`JOIN ${ch}`);
  return c.collectUntil('366');
}
