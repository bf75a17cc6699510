import { foldCase } from '../protocol/casemap.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { clipUtf8, safeParam } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/**
 * KICK <channel> <nick>{,<nick>} [:<reason>] — modern.ircdocs.horse#kick-message
 * Up to MAXTARGETS nicks (TARGMAX KICK); more is refused whole with 407, as PRIVMSG does. Each
 * kicked nick is its own KICK line (one `kick` event each): "The server MUST NOT send KICK
 * messages with multiple users to clients" (modern.ircdocs.horse; RFC 2812 §3.2.8).
 * Authorization (442, 482, 441) lives in ops.kick. 442 and 482 do not depend on the target,
 * so they are reported once and stop the loop. The default reason is the kicker's nick; the
 * reason is clipped to KICKLEN bytes.
 * The channel founder (a DID) can be kicked only by the founder: anyone else gets
 * 484 ERR_ISCHANSERVICE `<nick> <channel> :Cannot kick or deop the channel founder`.
 */
export default defineCommand({
  name: 'KICK',
  minParams: 2,
  help: 'KICK <#channel> <nick>[,<nick>...] [:<reason>]\nRemoves users from a channel (channel operators only).',
  run(ctx, [chanName, nicks, reason]) {
    const { server, user } = ctx;
    const max = server.config.maxTargets;
    // a +s/+p channel the user is not on is answered as a missing one (#12 finding 14)
    const ch = server.world.visibleChannel(chanName!, user);
    if (!ch) { ctx.numeric(N.ERR_NOSUCHCHANNEL, safeParam(chanName), 'No such channel'); return; }
    // each nick once, whatever its case (rfc1459 casemapping), as PRIVMSG's targets
    const seen = new Set<string>();
    const targets = nicks!.split(',').filter((n) => n !== '' && !seen.has(foldCase(n)) && seen.add(foldCase(n)));
    if (targets.length > max) { ctx.numeric(N.ERR_TOOMANYTARGETS, safeParam(targets[max]), `Too many targets. Maximum is ${max}`); return; }
    const why = clipUtf8(reason ? reason : user.nick, server.config.kickLen);
    for (const nick of targets) {
      const target = server.world.findUser(nick);
      if (!target) { ctx.numeric(N.ERR_NOSUCHNICK, safeParam(nick), 'No such nick/channel'); continue; }
      try {
        server.ops.kick(user, ch, target, why);
      } catch (e) {
        if (!(e instanceof ReplyError)) throw e;
        ctx.numeric(e.code, ...e.params, e.text);
        // 441 and 484 (the founder cannot be kicked) concern one target: go on with the others
        if (e.code !== N.ERR_USERNOTINCHANNEL && e.code !== N.ERR_ISCHANSERVICE) return;
      }
    }
  },
});
