import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { clipUtf8, safeParam } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/**
 * KNOCK <channel> [:<reason>] — ask the operators of a channel you cannot join freely (+i, +k,
 * +l reached) for an invite (ratbox/charybdis; numerics 710–714, defs.ircdocs.horse). Advertised
 * as ISUPPORT `KNOCK`; `knock = false` leaves it out of the table (server.ts).
 *
 * Who may knock is Ops' (state/knock.ts: 714 on the channel, 403 for a +s/+p channel, 404 when
 * banned, 713 when open), so a peer's user obeys the same rules. A +s/+p channel the user is not
 * on answers 403 before anything else, exactly as a missing one (#12 finding 14). Here: the rate
 * limits, per client (`knock-rate`, UnrealIRCd's 4 / 120 s) and per channel (`knock-channel-rate`,
 * all knockers together, local and remote, kept in state/knock.ts), both over
 * `knock-rate-window`; beyond either, `712 ERR_TOOMANYKNOCK <channel> :Too many KNOCKs (user|channel)`
 * as charybdis answers. Only delivered knocks count; operators are exempt. A delivered knock: 710 to
 * the channel's operators (session/fanout.ts), `711 RPL_KNOCKDLVR <channel> :Your KNOCK has been
 * delivered` to the knocker. The reason is clipped to KICKLEN (and, per operator, to the 512-byte line).
 */
export default defineCommand({
  name: 'KNOCK',
  minParams: 1,
  rate: { metric: 'knock-rate', limit: (c) => c.knockRate, windowMs: (c) => c.knockRateWindow },
  help: 'KNOCK <#channel> [:<reason>]\nAsks the operators of an invite-only (+i), keyed (+k) or full (+l) channel to invite you.',
  run(ctx, [chanName, reason]) {
    const { server, user } = ctx;
    // one channel per KNOCK (charybdis takes the first of a list the same way)
    const name = chanName!.split(',')[0]!;
    const ch = server.world.visibleChannel(name, user);
    if (!ch) { ctx.numeric(N.ERR_NOSUCHCHANNEL, safeParam(name), 'No such channel'); return; }
    server.ops.knocks.check(user, ch); // 714, 403, 404, 713: a ReplyError → numeric via the dispatcher
    const perUser = ctx.rate();
    if (!perUser.check()) throw new ReplyError(N.ERR_TOOMANYKNOCK, [ch.name], 'Too many KNOCKs (user)');
    if (!user.isOper && server.ops.knocks.channelFull(ch)) {
      server.metrics.limitHit('knock-channel-rate');
      throw new ReplyError(N.ERR_TOOMANYKNOCK, [ch.name], 'Too many KNOCKs (channel)');
    }
    const why = reason ? clipUtf8(reason, server.config.kickLen) : undefined;
    server.ops.knocks.knock(user, ch, why); // the per-channel window is Ops' (peers' knocks count too)
    perUser.take();
    ctx.numeric(N.RPL_KNOCKDLVR, ch.name, 'Your KNOCK has been delivered');
  },
});
