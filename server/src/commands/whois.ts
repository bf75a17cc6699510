import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import { userModeString } from '../state/modes.js';
import type { User } from '../state/user.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';
import { canSeeRealIp, ipParam } from './who.js';

/**
 * The channels of `target` that `asker` may see in WHOIS: secret/private channels only to members,
 * and for an invisible (+i) user only shared channels (NAMES and WHO hide them the same way).
 */
function visibleChannels(ctx: CommandContext, target: User): string[] {
  const asker = ctx.user;
  const all = asker === target || asker.isOper;
  const multi = ctx.session.hasCap('multi-prefix');
  const out: string[] = [];
  for (const ch of target.channels) {
    if (!all && !ch.members.has(asker) && (ch.hidden || target.modes.has('i'))) continue;
    out.push((ch.members.get(target)?.prefix(multi) ?? '') + ch.name);
  }
  return out;
}

/** 319 lines, each kept comfortably under 512 bytes. */
function sendChannels(ctx: CommandContext, target: User, chans: string[]): void {
  const head = Buffer.byteLength(`:${ctx.server.config.serverName} 319 ${ctx.user.nick} ${target.nick} :`);
  let cur: string[] = [];
  let len = head;
  for (const c of chans) {
    const n = Buffer.byteLength(c) + 1;
    if (cur.length && len + n > 500) {
      ctx.numeric(N.RPL_WHOISCHANNELS, target.nick, cur.join(' '));
      cur = [];
      len = head;
    }
    cur.push(c);
    len += n;
  }
  if (cur.length) ctx.numeric(N.RPL_WHOISCHANNELS, target.nick, cur.join(' '));
}

/** freeq WHOIS extensions (freeq-reference §1.5); 671 is also RPL_WHOISSECURE, both are sent when both apply */

/**
 * WHOIS [<server>] <nick> — modern.ircdocs.horse#whois-message (one target: TARGMAX WHOIS:1).
 * freeq extensions for a logged-in user: 330 `<nick> <did> :is logged in as`, 671
 * `<nick> :is using AT Protocol handle <handle>` only for a verified handle (it resolves back to
 * the DID at login, identity/handle-check.ts, #12) or a plugin's displayHandle; 672
 * `<nick> :iroh endpoint: <id>` only for a client connected over iroh (none yet: transport/conn.ts).
 */
export default defineCommand({
  name: 'WHOIS',
  help: 'WHOIS [<server>] <nick>\nShows information about a user.',
  run(ctx, params) {
    const { server, user: asker } = ctx;
    const cfg = server.config;
    // `WHOIS server nick` / `WHOIS nick nick`: the first parameter is ignored (this server knows what
    // its peers told it about their users; remote WHOIS queries are not forwarded)
    const arg = params.length >= 2 ? params[1]! : params[0];
    const nick = arg?.split(',').find((x) => x !== '');
    if (nick === undefined) { ctx.numeric(N.ERR_NONICKNAMEGIVEN, 'No nickname given'); return; }
    const t = server.world.findUser(nick);
    if (!t) {
      ctx.numeric(N.ERR_NOSUCHNICK, safeParam(nick), 'No such nick/channel');
      ctx.numeric(N.RPL_ENDOFWHOIS, safeParam(nick), 'End of /WHOIS list');
      return;
    }
    ctx.numeric(N.RPL_WHOISUSER, t.nick, t.username, t.host, '*', t.realname);
    const chans = visibleChannels(ctx, t);
    if (chans.length) sendChannels(ctx, t, chans);
    // a remote user (#14): its own server, by the name its link gave
    const remote = t.origin !== undefined ? server.world.servers.get(t.origin) : undefined;
    if (t.origin === undefined) ctx.numeric(N.RPL_WHOISSERVER, t.nick, cfg.serverName, cfg.networkName);
    else ctx.numeric(N.RPL_WHOISSERVER, t.nick, remote?.name ?? t.origin.slice(0, 16), `${cfg.networkName} (federated server)`);
    if (t.isOper) ctx.numeric(N.RPL_WHOISOPERATOR, t.nick, 'is an IRC operator');
    if (t.account !== undefined) ctx.numeric(N.RPL_WHOISACCOUNT, t.nick, t.account, 'is logged in as');
    if (t.account !== undefined && t.handle !== undefined) ctx.numeric(N.RPL_WHOISHANDLE, t.nick, `is using AT Protocol handle ${t.handle}`);
    // 672 only for a client connected over the iroh transport, with its own endpoint id (freeq's
    // "672: Shows the iroh P2P endpoint ID (if connected via iroh)"), never the server's (#16)
    const iroh = t.link.irohId;
    if (iroh !== undefined) ctx.numeric(N.RPL_WHOISPEER, t.nick, `iroh endpoint: ${iroh}`);
    if (t.isBot) ctx.numeric(N.RPL_WHOISBOT, t.nick, `is a Bot on ${cfg.networkName}`);
    if (t.secure) ctx.numeric(N.RPL_WHOISSECURE, t.nick, 'is using a secure connection');
    if (t.origin === undefined && canSeeRealIp(asker, t)) {
      const ip = ipParam(t.ip);
      ctx.numeric(N.RPL_WHOISHOST, t.nick, `is connecting from *@${t.ip} ${t.ip}`);
      ctx.numeric(N.RPL_WHOISACTUALLY, t.nick, `${t.username}@${ip}`, ip, 'Actual user@host, Actual IP');
      ctx.numeric(N.RPL_WHOISMODES, t.nick, `is using modes ${userModeString(t.modes)}`);
    }
    if (t.away !== undefined) ctx.numeric(N.RPL_AWAY, t.nick, t.away);
    const now = server.clock.now();
    const idle = Math.max(0, Math.floor((now - t.lastSpokeAt) / 1000));
    // a remote user's idle time is its own server's to know (only its signon time travels)
    if (t.origin === undefined) ctx.numeric(N.RPL_WHOISIDLE, t.nick, String(idle), String(Math.floor(t.signonAt / 1000)), 'seconds idle, signon time');
    ctx.numeric(N.RPL_ENDOFWHOIS, t.nick, 'End of /WHOIS list');
  },
});
