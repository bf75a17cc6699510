import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/**
 * INVITE <nick> <channel> — modern.ircdocs.horse#invite-message
 * Modern IRC allows inviting to a channel that does not exist; we answer 403 instead, because
 * an invite is stored per channel name and would otherwise let anyone pile up invites to
 * arbitrary names, and a nonexistent channel has no +i/+k/+l/+b for an invite to bypass.
 * 442 / 482 (+i and not op) / 443 come from ops.invite, which also records the invite (it lets
 * the target past +i, +k, +l and +b once) and emits the event: the target gets
 * `:inviter INVITE target #chan`, invite-notify channel operators get the same line.
 * A logged-in target is also invited by DID: persisted (bounded per channel), it survives reconnects
 * and restarts and is consumed by that DID's next join.
 * INVITE without parameters (RPL_INVITELIST 336/337) is not offered: 461.
 *
 * C3: at most `invite-rate` INVITEs per `invite-rate-window` per client (UnrealIRCd's 4 / 60 s).
 * Only invites that are sent count (a 401/403/442/482/443 does not); beyond the limit the INVITE
 * is dropped with `263 RPL_TRYAGAIN`, as UnrealIRCd does (unreal:src/modules/invite.c).
 * Operators are exempt.
 */
export default defineCommand({
  name: 'INVITE',
  minParams: 2,
  rate: { metric: 'invite-rate', limit: (c) => c.inviteRate, windowMs: (c) => c.inviteRateWindow },
  help: 'INVITE <nick> <#channel>\nInvites a user to a channel you are on (operators only when it is +i).',
  run(ctx, [nick, chanName]) {
    const { server, user } = ctx;
    const target = server.world.findUser(nick!);
    if (!target) { ctx.numeric(N.ERR_NOSUCHNICK, safeParam(nick), 'No such nick/channel'); return; }
    // a +s/+p channel the user is not on is answered as a missing one (#12 finding 14)
    const ch = server.world.visibleChannel(chanName!, user);
    if (!ch) { ctx.numeric(N.ERR_NOSUCHCHANNEL, safeParam(chanName), 'No such channel'); return; }
    const rate = ctx.rate();
    if (!rate.check()) {
      ctx.numeric(N.RPL_TRYAGAIN, 'INVITE', 'Please wait a while and try again.');
      return;
    }
    server.ops.invite(user, target, ch); // throws ReplyError → numeric via the dispatcher
    rate.take();
    ctx.numeric(N.RPL_INVITING, target.nick, ch.name);
    if (target.away !== undefined) ctx.numeric(N.RPL_AWAY, target.nick, target.away);
  },
});
