import * as N from '../protocol/numerics.js';
import { clipUtf8, safeParam } from '../protocol/validate.js';
import { sendTopic } from './channel-replies.js';
import { defineCommand } from './registry.js';

/**
 * TOPIC <channel> [:<topic>] — modern.ircdocs.horse#topic-message
 * Query: 331, or 332 + 333. Outsiders may read the topic of a visible channel; a secret/private
 * one is answered as a missing channel, for a query or a change (403, #12 finding 14). Set:
 * membership (442) and, with +t, operator status (482) are checked by ops.setTopic; the text is
 * clipped to TOPICLEN bytes; an empty text clears it.
 */
export default defineCommand({
  name: 'TOPIC',
  minParams: 1,
  help: 'TOPIC <#channel> [:<topic>]\nShows the channel topic, or sets it (an empty topic clears it).',
  run(ctx, [name, text]) {
    const { server, user } = ctx;
    const ch = server.world.visibleChannel(name!, user);
    if (!ch) { ctx.numeric(N.ERR_NOSUCHCHANNEL, safeParam(name), 'No such channel'); return; }
    if (text === undefined) {
      sendTopic(ctx, ch, true);
      return;
    }
    // ReplyError (442/482) from ops becomes the numeric in the dispatcher
    server.ops.setTopic(user, ch, clipUtf8(text, server.config.topicLen));
  },
});
