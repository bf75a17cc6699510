import { parseBanDuration, parseBanTarget } from '../limits/server-bans.js';
import type { ServerBanRecord } from '../state/server-ban-ops.js';
import * as N from '../protocol/numerics.js';
import { clipUtf8, safeParam } from '../protocol/validate.js';
import { Outgoing } from '../session/outgoing.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/** `465` + `ERROR` text of a banned client (hardening.md I3) */
export function bannedText(reason: string): string {
  return `You are banned from this server (${reason})`;
}

/**
 * UBAN ADD <target> [<duration>] [:<reason>] | UBAN DEL <target> | UBAN LIST — server bans
 * (hardening.md I3; named after Ergo's UBAN, ergo:docs/MANUAL.md:503-516). Admin-class
 * operators only (capability `ban`; moderators get 481). `target`: a `nick!user@host` glob mask
 * (matched against the displayed host/cloak and the real IP), an IP address or a CIDR range
 * (matched against the real IP). `duration`: 90s, 30m, 2h, 1d, 1w; omitted = permanent. Replies
 * are server NOTICEs; errors are `FAIL UBAN <code>`.
 *
 * ADD disconnects matching users at once (`465` then `ERROR :You are banned from this server
 * (<reason>)`), except operators (so an oper cannot lock the staff out by mistake); new
 * registrations that match are refused the same way (commands/registration.ts).
 */
export default defineCommand({
  name: 'UBAN',
  minParams: 1,
  oper: 'ban',
  help: 'UBAN ADD <mask|ip|cidr> [<duration>] [:<reason>] | UBAN DEL <mask|ip|cidr> | UBAN LIST\n'
    + 'Server bans. Masks are nick!user@host globs; durations like 30m, 2h, 1d (omitted: permanent). Adding a ban disconnects matching users.',
  run(ctx, params) {
    const sub = params[0]!.toUpperCase();
    switch (sub) {
      case 'ADD': return add(ctx, params.slice(1));
      case 'DEL': return del(ctx, params.slice(1));
      case 'LIST': return list(ctx);
      default: ctx.fail('UBAN', 'INVALID_PARAMS', safeParam(params[0]), 'Unknown subcommand; use ADD, DEL or LIST');
    }
  },
});

function notice(ctx: CommandContext, text: string): void {
  ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'NOTICE', params: [ctx.user.nick, text] });
}

function describe(b: ServerBanRecord): string {
  const until = b.expiresAt === undefined ? 'permanent' : `expires ${new Date(b.expiresAt).toISOString()}`;
  return `${b.target} (${b.kind}) set by ${b.setBy} at ${new Date(b.setAt).toISOString()}, ${until}: ${b.reason}`;
}

function add(ctx: CommandContext, args: string[]): void {
  const { server, user } = ctx;
  if (args.length === 0) { ctx.numeric(N.ERR_NEEDMOREPARAMS, 'UBAN', 'Not enough parameters'); return; }
  const t = parseBanTarget(args[0]!);
  if (!t) { ctx.fail('UBAN', 'INVALID_TARGET', safeParam(args[0]), 'Target must be a nick!user@host mask, an IP address or a CIDR range'); return; }
  let duration: number | undefined;
  let reasonParts = args.slice(1);
  if (args.length >= 2) {
    duration = parseBanDuration(args[1]!);
    if (duration !== undefined) reasonParts = args.slice(2);
    else if (args.length >= 3) { ctx.fail('UBAN', 'INVALID_DURATION', safeParam(args[1]), 'Duration must look like 90s, 30m, 2h, 1d or 1w'); return; }
  }
  const reason = clipUtf8(reasonParts.join(' ').trim() || 'No reason given', server.config.kickLen);
  const { ban, covered } = server.ops.addServerBan(user, t.kind, t.target, duration, reason, user.nick);
  server.log.info({ session: ctx.session.id, oper: user.nick, target: ban.target, kind: ban.kind, expiresAt: ban.expiresAt }, 'UBAN ADD');
  // everyone it covers goes now: this server's registered connections, operators excepted (Ops)
  const text = bannedText(reason);
  for (const u of covered) {
    server.metrics.limitHit('banned');
    u.link.deliver(new Outgoing({ tags: new Map(), source: server.config.serverName, command: N.ERR_YOUREBANNEDCREEP, params: [u.nick, text] }, server.fanout.meta()));
    u.link.disconnect(text);
  }
  const n = covered.length;
  notice(ctx, `Added ban: ${describe(ban)}; ${n} user(s) disconnected`);
}

function del(ctx: CommandContext, args: string[]): void {
  const { server, user } = ctx;
  if (args.length === 0) { ctx.numeric(N.ERR_NEEDMOREPARAMS, 'UBAN', 'Not enough parameters'); return; }
  const t = parseBanTarget(args[0]!);
  if (!t || !server.ops.removeServerBan(user, t.kind, t.target)) { ctx.fail('UBAN', 'NO_SUCH_BAN', safeParam(args[0]), 'No such ban'); return; }
  server.log.info({ session: ctx.session.id, oper: user.nick, target: t.target }, 'UBAN DEL');
  notice(ctx, `Removed ban on ${t.target}`);
}

function list(ctx: CommandContext): void {
  const bans = ctx.server.bans.list();
  for (const b of bans) notice(ctx, describe(b));
  notice(ctx, `End of UBAN LIST (${bans.length} ban${bans.length === 1 ? '' : 's'})`);
}
