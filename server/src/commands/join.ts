import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { isChannelName, isValidChannelName, safeParam } from '../protocol/validate.js';
import { sendNames, sendTopic } from './channel-replies.js';
import { defineCommand } from './registry.js';

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
    chans!.split(',').forEach((name, i) => {
      if (!name) return;
      if (!isChannelName(name)) { ctx.numeric(N.ERR_NOSUCHCHANNEL, safeParam(name), 'No such channel'); return; }
      if (!isValidChannelName(name, server.config.channelLen)) { ctx.numeric(N.ERR_BADCHANMASK, safeParam(name), 'Bad Channel Mask'); return; }
      const existing = server.world.findChannel(name);
      if (existing?.members.has(user)) return;
      try {
        server.ops.join(user, existing?.name ?? name, keyList[i] || undefined);
      } catch (e) {
        if (e instanceof ReplyError) { ctx.numeric(e.code, ...e.params, e.text); return; }
        throw e;
      }
      const ch = server.world.findChannel(name)!;
      sendTopic(ctx, ch, false);
      sendNames(ctx, ch);
    });
  },
});
