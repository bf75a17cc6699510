import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { clipUtf8, safeParam } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/** PART <channel>{,<channel>} [:<reason>] — modern.ircdocs.horse#part-message */
export default defineCommand({
  name: 'PART',
  minParams: 1,
  help: 'PART <#channel>[,<#channel>...] [:<reason>]\nLeaves channels.',
  run(ctx, [chans, reason]) {
    const { server, user } = ctx;
    // an empty reason (`PART #c :`) is no reason; PART has no length token of its own, KICKLEN applies
    const r = reason ? clipUtf8(reason, server.config.kickLen) : undefined;
    for (const name of chans!.split(',')) {
      if (!name) continue;
      // a +s/+p channel the user is not on is answered as a missing one (#12 finding 14)
      const ch = server.world.visibleChannel(name, user);
      if (!ch) { ctx.numeric(N.ERR_NOSUCHCHANNEL, safeParam(name), 'No such channel'); continue; }
      try {
        server.ops.part(user, ch, r);
      } catch (e) {
        if (e instanceof ReplyError) { ctx.numeric(e.code, ...e.params, e.text); continue; }
        throw e;
      }
    }
  },
});
