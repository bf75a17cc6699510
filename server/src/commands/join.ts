import { RateLimiter } from '../limits/rate.js';
import { foldCase } from '../protocol/casemap.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { isChannelName, isValidChannelName, safeParam } from '../protocol/validate.js';
import { sendNames, sendTopic } from './channel-replies.js';
import type { User } from '../state/user.js';
import type { CommandContext } from './context.js';
import { sendJoinMarker } from './markread.js';
import { replayOnJoin, replyBudget } from './chathistory.js';
import { defineCommand } from './registry.js';

/**
 * C3: at most `join-rate` joins of one channel per `join-rate-window` per client (UnrealIRCd's
 * 3 / 90 s), against JOIN/PART churn that makes every member's client redraw. Only joins that
 * happen count (a refused 471/473/474/475 does not, nor a JOIN of a channel the user is already
 * on); beyond the limit: `500 ERR_TOOMANYJOINS`. Operators are exempt. Keyed by the User object,
 * so the history lives exactly as long as the connection; at most a few hundred channels tracked.
 */
const joinRates = new WeakMap<User, RateLimiter<string>>();

function joinLimiter(ctx: CommandContext): RateLimiter<string> | undefined {
  const { user, server } = ctx;
  if (user.isOper) return undefined;
  let r = joinRates.get(user);
  if (!r) {
    r = new RateLimiter<string>(server.config.joinRate, server.config.joinRateWindow, server.clock, 4 * server.config.maxChannels);
    joinRates.set(user, r);
  }
  return r;
}

/** JOIN <channel>{,<channel>} [<key>{,<key>}] | JOIN 0 — modern.ircdocs.horse#join-message */
export default defineCommand({
  name: 'JOIN',
  minParams: 1,
  help: 'JOIN <#channel>[,<#channel>...] [<key>[,<key>...]]\nJoins channels (creating them if needed). JOIN 0 leaves every channel.',
  run(ctx, [chans, keys]) {
    const { server, user } = ctx;
    if (chans === '0') {
      for (const ch of [...user.channels]) server.ops.part(user, ch, 'Left all channels');
      return;
    }
    const keyList = (keys ?? '').split(',');
    const replayLeft = replyBudget(ctx);
    chans!.split(',').forEach((name, i) => {
      if (!name) return;
      if (!isChannelName(name)) { ctx.numeric(N.ERR_NOSUCHCHANNEL, safeParam(name), 'No such channel'); return; }
      if (!isValidChannelName(name, server.config.channelLen)) { ctx.numeric(N.ERR_BADCHANMASK, safeParam(name), 'Bad Channel Mask'); return; }
      const existing = server.world.findChannel(name);
      if (existing?.members.has(user)) return;
      const limiter = joinLimiter(ctx);
      const key = foldCase(name);
      if (limiter && limiter.retryAfter(key) > 0) {
        server.metrics.limitHit('join-rate');
        ctx.numeric(N.ERR_TOOMANYJOINS, existing?.name ?? safeParam(name), 'Too many join requests. Please wait a while and try again.');
        return;
      }
      try {
        server.ops.join(user, existing?.name ?? name, keyList[i] || undefined);
      } catch (e) {
        if (e instanceof ReplyError) { ctx.numeric(e.code, ...e.params, e.text); return; }
        throw e;
      }
      limiter?.take(key);
      const ch = server.world.findChannel(name)!;
      sendTopic(ctx, ch, false);
      sendJoinMarker(ctx, ch); // draft/read-marker: after JOIN, before 366
      sendNames(ctx, ch);
      replayOnJoin(ctx, ch, replayLeft);
    });
  },
});
