import { loginHandle, parseAtprotoResponse, verifyAtproto, type VerifyOutcome } from '../auth/sasl/atproto-challenge.js';
import { chunkOutgoing } from '../auth/sasl/buffer.js';
import type { IssuedChallenge } from '../auth/sasl/challenge-store.js';
import * as S from '../auth/sasl/numerics.js';
import { parsePlain, verifyPlain } from '../auth/sasl/plain.js';
import { MAX_DPOP_NONCE_RETRIES, MAX_SASL_FAILURES, SaslState, type SaslMechanism } from '../auth/sasl/session-state.js';
import type { IdentityService } from '../identity/types.js';
import { SessionSlot } from '../session/slots.js';
import type { Session } from '../session/session.js';
import { ipKey } from '../util/ip-key.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/**
 * AUTHENTICATE — IRCv3 SASL 3.1/3.2 with the mechanisms ATPROTO-CHALLENGE and PLAIN
 * (DESIGN.md §6, freeq-reference.md §1.4, hardening.md D1–D3).
 *
 * Decisions (the reference server differs on each; see freeq-reference.md §1.4):
 * - The `sasl` capability must have been requested ("clients MUST"): otherwise, and when SASL is
 *   disabled (`sasl-mechanisms` empty), `904`, not counted as a failure. Ergo does not check;
 *   ellidri ignores the command; a plain 904 tells a confused client what happened.
 * - Unknown or disabled mechanism: `908 <nick> <list> :are available SASL mechanisms` then `904`
 *   (not counted: probing mechanisms is no credential guess).
 * - Already logged in: `907`. SASL after registration is allowed for users not logged in yet
 *   (irssi and others authenticate late, and sasl-3.2 clients re-auth), but a logged-in user never
 *   switches DIDs on a connection.
 * - `AUTHENTICATE *` → `906` (the reference sent 904), with or without an exchange in progress.
 * - A mechanism name while an exchange is in progress starts a new exchange (replacing the old
 *   challenge). This is unambiguous: `ATPROTO-CHALLENGE` and `PLAIN` are 17 and 5 characters,
 *   which is never valid base64.
 * - Framing (auth/sasl/buffer.ts): chunks ≤ 400 bytes, `+` terminator; > 400 → `905` and the
 *   exchange ends (not counted); a response that could decode to more than `sasl-max-bytes` → `904`
 *   (counted).
 * - More than `sasl-attempts-per-identity` attempts for one claimed identity (DID, handle or
 *   authcid) from one IP in 5 minutes, across connections (hardening.md D2) → `904` without any
 *   verification, counted like any failure.
 * - Every other `904` counts; the third closes the connection with `ERROR :Too many SASL failures`.
 * - 904 carries a generic text; the precise reason is logged at debug level without tokens,
 *   signatures or passwords.
 * - Verification is async (identity lookups, PDS calls): the session stops reading this client
 *   until it settles, and it is bounded by the registration timeout (what is left of it before
 *   registration), after which it is a failure.
 * - Every outbound request a verification makes counts against this connection's and this IP's
 *   lookup quotas and the per-host / global slots (identity/lookup-limits.ts, #12 finding 6); a
 *   refused lookup fails the exchange with the usual `904` at once (counted; metric
 *   `identity-lookup-<reason>`).
 * - 900 says "logged in as <handle>" only for a handle verified in both directions (or a plugin's
 *   displayHandle), else the DID (#12 finding 5, identity/handle-check.ts). The handle check runs
 *   once the mechanism has verified the DID, outside the registration-timeout bound (it is display
 *   only: it must not turn a correct login into a 904), and waits at most http-timeout.
 * - CAP END during an exchange aborts it with `906` and registers the client without a login
 *   (sasl-3.1 "SHOULD abort … and send a 906"), see commands/cap.ts.
 */

const KNOWN_MECHANISMS: readonly SaslMechanism[] = ['ATPROTO-CHALLENGE', 'PLAIN'];

/** hardening.md D2: atproto's createSession limit is 30 per 5 min keyed `identifier-ip` */
export const SASL_IDENTITY_WINDOW_MS = 5 * 60_000;

/**
 * The SASL state of a connection, on its session: it (and any outstanding challenge) goes away
 * with the connection, and a challenge cannot be answered from another connection.
 */
const SASL = new SessionSlot<SaslState>('sasl');

/** End the exchange in progress, if any (without creating state); true if there was one. */
export function abortSasl(session: Session): boolean {
  const s = session.peekSlot(SASL);
  if (!s?.inProgress) return false;
  s.reset();
  return true;
}

export default defineCommand({
  name: 'AUTHENTICATE',
  minParams: 1,
  preReg: true,
  // D2: `sasl-attempts-per-identity` per 5 minutes per (claimed identity, IP), across connections
  rate: {
    metric: 'sasl-rate', scope: 'server', opers: true, keys: () => 100_000,
    limit: (c) => c.saslAttemptsPerIdentity, windowMs: () => SASL_IDENTITY_WINDOW_MS,
  },
  help: 'AUTHENTICATE <mechanism> | <base64 data> | + | *\n'
    + 'IRCv3 SASL login with an AT Protocol (Bluesky) identity; request the sasl capability first.\n'
    + 'Mechanisms: ATPROTO-CHALLENGE (signed challenge, PDS session, OAuth/DPoP or service-auth token) and PLAIN (handle or DID + app password).\n'
    + 'Data is sent in 400-byte chunks; * aborts. Three failures close the connection.',
  run(ctx, [arg]) {
    return authenticate(ctx, arg!);
  },
});

function authenticate(ctx: CommandContext, arg: string): void | Promise<void> {
  const { server, session, user } = ctx;
  const cfg = server.config;
  if (cfg.saslMechanisms.length === 0 || !session.hasCap('sasl')) {
    ctx.numeric(S.ERR_SASLFAIL, S.TEXT_SASLFAIL);
    return;
  }
  const st = session.slot(SASL, () => new SaslState(cfg, server.clock));
  if (arg === '*') {
    if (st.mechanism) server.metrics.sasl(st.mechanism, 'abort');
    st.reset();
    ctx.numeric(S.ERR_SASLABORTED, S.TEXT_SASLABORTED);
    return;
  }
  const upper = arg.toUpperCase();
  if (!st.inProgress || (KNOWN_MECHANISMS as readonly string[]).includes(upper)) {
    st.reset();
    if (user.account !== undefined) { ctx.numeric(S.ERR_SASLALREADY, S.TEXT_SASLALREADY); return; }
    if (!cfg.saslMechanisms.includes(upper)) {
      ctx.numeric(S.RPL_SASLMECHS, cfg.saslMechanisms.join(','), S.TEXT_SASLMECHS);
      ctx.numeric(S.ERR_SASLFAIL, S.TEXT_SASLFAIL);
      return;
    }
    const mech = upper as SaslMechanism;
    st.start(mech);
    if (mech === 'ATPROTO-CHALLENGE') sendChallenge(ctx, st.challenges.issue());
    else sendAuthenticate(ctx, '+');
    return;
  }
  const pushed = st.buffer.push(arg);
  switch (pushed.status) {
    case 'more': return;
    case 'too-long':
      st.reset();
      ctx.numeric(S.ERR_SASLTOOLONG, S.TEXT_SASLTOOLONG);
      return;
    case 'too-big':
      fail(ctx, st, `response larger than sasl-max-bytes (${cfg.saslMaxBytes})`);
      return;
    case 'done':
      return st.mechanism === 'PLAIN' ? finishPlain(ctx, st, pushed.text) : finishAtproto(ctx, st, pushed.text);
  }
}

function sendAuthenticate(ctx: CommandContext, data: string): void {
  // unprefixed, as in the sasl-3.1 examples (some clients only accept that form)
  ctx.send({ tags: new Map(), command: 'AUTHENTICATE', params: [data] });
}

/** the challenge in 400-byte pieces (+ `AUTHENTICATE +` after an exact multiple of 400) */
function sendChallenge(ctx: CommandContext, ch: IssuedChallenge): void {
  for (const piece of chunkOutgoing(ch.encoded)) sendAuthenticate(ctx, piece);
}

async function finishAtproto(ctx: CommandContext, st: SaslState, text: string): Promise<void> {
  const { server } = ctx;
  // single-use: the challenge is gone from here on, whatever the response turns out to be
  const ch = st.challenges.take();
  if (!ch) { fail(ctx, st, 'no valid challenge (none issued on this connection, already used, or expired)'); return; }
  const r = parseAtprotoResponse(text);
  if (typeof r === 'string') { fail(ctx, st, r); return; }
  const detail = { method: r.method, did: r.did };
  if (!server.config.atprotoMethods.includes(r.method)) { fail(ctx, st, `method ${r.method} is disabled`, detail); return; }
  if (!identityAttemptAllowed(ctx, r.did)) { fail(ctx, st, 'too many attempts for this identity from this address', detail); return; }
  const identity = lookupsFor(ctx);
  const outcome = await withHandle(identity, await bounded(ctx, verifyAtproto({ identity, serverDid: server.serverDid, loginTokens: server.loginTokens }, r, ch)));
  ctx.resume(() => conclude(ctx, st, outcome, detail));
}

async function finishPlain(ctx: CommandContext, st: SaslState, text: string): Promise<void> {
  const cred = parsePlain(text);
  if (typeof cred === 'string') { fail(ctx, st, cred); return; }
  const detail = { authcid: cred.authcid };
  if (!identityAttemptAllowed(ctx, cred.authcid)) { cred.password = ''; fail(ctx, st, 'too many attempts for this identity from this address', detail); return; }
  const identity = lookupsFor(ctx);
  const verified = await bounded(ctx, verifyPlain(identity, cred));
  cred.password = '';
  const outcome = await withHandle(identity, verified);
  ctx.resume(() => conclude(ctx, st, outcome, detail));
}

/** The identity service with this connection's lookup quotas (#12 finding 6). */
function lookupsFor(ctx: CommandContext): IdentityService {
  return ctx.server.identity.forClient({ conn: ctx.session.id, ip: ipKey(ctx.user.ip) });
}

/** A verified login gets the handle to show (display only, after the deadline: loginHandle). */
async function withHandle(identity: IdentityService, o: VerifyOutcome): Promise<VerifyOutcome> {
  // a web-token's handle was checked when the token was issued (http/routes/web-login.ts)
  return o.kind === 'ok' ? { kind: 'ok', did: o.did, handle: o.handle ?? await loginHandle(identity, o) } : o;
}

/** D2: per (claimed identity, IP) across connections; over the limit nothing is verified. */
function identityAttemptAllowed(ctx: CommandContext, identity: string): boolean {
  // DIDs are case-sensitive in their method-specific part, but folding can only merge keys
  // (stricter), never split one identity into several
  return ctx.rate().take(`${identity.toLowerCase()} ${ctx.user.ip}`);
}

/**
 * Verification never outlives the registration timeout (before registration: what is left of
 * it; the session's own sweep closes the connection at that point anyway).
 */
function bounded(ctx: CommandContext, p: Promise<VerifyOutcome>): Promise<VerifyOutcome> {
  const cfg = ctx.server.config;
  const ms = ctx.user.registered
    ? cfg.registrationTimeout
    : Math.max(0, ctx.session.connectedAt + cfg.registrationTimeout - ctx.server.clock.now());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<VerifyOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'fail', reason: 'verification timed out' }), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function conclude(ctx: CommandContext, st: SaslState, o: VerifyOutcome, detail: Record<string, unknown>): void {
  const { server, user } = ctx;
  // the connection went away while we waited: nothing to log in
  if (!server.world.users.has(user.id)) return;
  switch (o.kind) {
    case 'fail':
      fail(ctx, st, o.reason, detail);
      return;
    case 'dpop-nonce':
      if (st.nonceRetries >= MAX_DPOP_NONCE_RETRIES) { fail(ctx, st, 'DPoP nonce retry limit exceeded', detail); return; }
      st.nonceRetries++;
      ctx.send({ tags: new Map(), source: server.config.serverName, command: 'NOTICE', params: [user.nick, `DPOP_NONCE ${o.nonce}`] });
      sendChallenge(ctx, st.challenges.issue());
      return;
    case 'ok': {
      if (st.mechanism) server.metrics.sasl(st.mechanism, 'success');
      st.reset();
      if (user.account !== undefined) {
        // cannot happen while input is serialized; never switch the DID of a connection
        ctx.numeric(S.ERR_SASLALREADY, S.TEXT_SASLALREADY);
        return;
      }
      server.ops.login(user, { did: o.did, handle: o.handle });
      // plugins may change the DISPLAYED handle only; user.account (the DID) is what authorizes
      const shown = server.plugins.onAuth({ nick: user.nick, did: o.did, handle: user.handle }).displayHandle;
      if (shown !== undefined) server.ops.setDisplayHandle(user, shown);
      server.log.debug({ session: ctx.session.id, did: o.did, ...detail }, 'SASL login');
      // the mask after login (login may set the cloak)
      // clients often authenticate before USER: show an unknown ident as `*`, not an empty field
      ctx.numeric(S.RPL_LOGGEDIN, `${user.nick}!${user.username || '*'}@${user.host}`, o.did, `You are now logged in as ${user.handle ?? o.did}`);
      ctx.numeric(S.RPL_SASLSUCCESS, S.TEXT_SASLSUCCESS);
      return;
    }
  }
}

/** 904, counted; the third closes the connection. `reason` is logged, never sent. */
function fail(ctx: CommandContext, st: SaslState, reason: string, detail: Record<string, unknown> = {}): void {
  const mechanism = st.mechanism;
  if (mechanism) ctx.server.metrics.sasl(mechanism, 'failure');
  st.reset();
  st.failures++;
  ctx.server.log.debug({ session: ctx.session.id, mechanism, ...detail, reason, failures: st.failures }, 'SASL failure');
  ctx.numeric(S.ERR_SASLFAIL, S.TEXT_SASLFAIL);
  if (st.failures >= MAX_SASL_FAILURES) ctx.session.close('Too many SASL failures');
}
