import { timingSafeEqual, createHash } from 'node:crypto';
import * as N from '../protocol/numerics.js';
import { isupportLines } from '../protocol/isupport.js';
import { ALL_CHANNEL_MODES, USER_MODES } from '../state/modes.js';
import type { CommandContext } from './context.js';
import { sendLusers } from './lusers.js';
import { sendMotd } from './motd.js';

/** Constant-time string comparison (hash first so lengths don't leak). */
export function secretEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Complete registration once NICK and USER are in and CAP negotiation is over. */
export function tryCompleteRegistration(ctx: CommandContext): void {
  const { session, user, server } = ctx;
  if (user.registered || session.capNegotiating || user.nick === '*' || !user.username) return;
  if (!session.passOk) {
    ctx.numeric(N.ERR_PASSWDMISMATCH, 'Password incorrect');
    session.close('Bad password');
    return;
  }
  const cfg = server.config;
  // --require-sasl, or LOCKDOWN sasl-only (hardening.md I3): no guests
  if ((cfg.requireSasl || server.world.lockdown === 'sasl-only') && user.account === undefined) {
    server.notices.refused(user.ip, session.conn.peer.kind, `${user.nick}: not logged in with SASL (${cfg.requireSasl ? 'require-sasl' : 'lockdown sasl-only'})`);
    session.close('This server currently requires SASL');
    return;
  }
  // I3 server bans (UBAN): masks against nick!user@cloak and nick!user@IP, IP/CIDR against the IP
  const ban = server.bans.match(user);
  if (ban) {
    server.metrics.limitHit('banned');
    server.notices.refused(user.ip, session.conn.peer.kind, `${user.mask}: server ban ${ban.target} (${ban.reason})`);
    ctx.numeric(N.ERR_YOUREBANNEDCREEP, `You are banned from this server (${ban.reason})`);
    session.close(`You are banned from this server (${ban.reason})`);
    return;
  }
  // settles the nick against nick ownership first: 001 carries the final nick
  const notices = server.ops.completeRegistration(user);
  server.metrics.registered();
  ctx.numeric(N.RPL_WELCOME, `Welcome to the ${cfg.networkName} IRC Network ${user.mask}`);
  ctx.numeric(N.RPL_YOURHOST, `Your host is ${cfg.serverName}, running version ${server.version}`);
  ctx.numeric(N.RPL_CREATED, `This server was created ${new Date(server.startedAt).toUTCString()}`);
  ctx.numeric(N.RPL_MYINFO, cfg.serverName, server.version, USER_MODES, ALL_CHANNEL_MODES, 'beIklov');
  for (const line of isupportLines(server.isupport)) ctx.numeric(N.RPL_ISUPPORT, ...line, 'are supported by this server');
  sendLusers(ctx);
  sendMotd(ctx);
  for (const text of notices) ctx.send({ tags: new Map(), source: cfg.serverName, command: 'NOTICE', params: [user.nick, text] });
  server.notices.connect(user, session.conn.peer.kind); // +s c (#16), before +o's notice
  server.ops.applyAccountPrivileges(user); // --oper-dids: MODE +o after the welcome, as after OPER
}
