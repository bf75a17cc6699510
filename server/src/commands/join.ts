import { foldCase } from '../protocol/casemap.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { isChannelName, isValidChannelName, safeParam } from '../protocol/validate.js';
import { sendNames, sendTopic } from './channel-replies.js';
import { sendJoinMarker } from './markread.js';
import { replayOnJoin, replyBudget } from './chathistory.js';
import { defineCommand } from './registry.js';

/**
 * JOIN <channel>{,<channel>} [<key>{,<key>}] | JOIN 0 — modern.ircdocs.horse#join-message
 *
 * C3: at most `join-rate` joins of one channel per `join-rate-window` per client (UnrealIRCd's
 * 3 / 90 s), against JOIN/PART churn that makes every member's client redraw. Only joins that
 * happen count (a refused 471/473/474/475 does not, nor a JOIN of a channel the user is already
 * on); beyond the limit: `500 ERR_TOOMANYJOINS`. Operators are exempt. Kept on the session, keyed
 * by folded channel name: at most a few hundred channels tracked.
 */
export default defineCommand({
  name: 'JOIN',
  minParams: 1,
  rate: { metric: 'join-rate', limit: (c) => c.joinRate, windowMs: (c) => c.joinRateWindow, keys: (c) => 4 * c.maxChannels },
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
      const rate = ctx.rate();
      const key = foldCase(name);
      if (!rate.check(key)) {
        ctx.numeric(N.ERR_TOOMANYJOINS, existing?.name ?? safeParam(name), 'Too many join requests. Please wait a while and try again.');
        return;
      }
      try {
        server.ops.join(user, existing?.name ?? name, keyList[i] || undefined);
      } catch (e) {
        if (e instanceof ReplyError) { ctx.numeric(e.code, ...e.params, e.text); return; }
        throw e;
      }
      rate.take(key);
      const ch = server.world.findChannel(name)!;
      sendTopic(ctx, ch, false);
      sendJoinMarker(ctx, ch); // draft/read-marker: after JOIN, before 366
      sendNames(ctx, ch);
      replayOnJoin(ctx, ch, replayLeft);
    });
  },
});
