import * as N from '../protocol/numerics.js';
import { closeBatch, joinLines, openBatch } from './multiline.js';
import { relay } from './messaging.js';
import { defineCommand } from './registry.js';

/**
 * BATCH +<ref> draft/multiline <target> … BATCH -<ref> — client-initiated batches, of which only
 * IRCv3 draft/multiline exists (commands/multiline.ts). The completed message goes through
 * relay() like any PRIVMSG/NOTICE: membership, +m/+n/bans, rate limit (one message), plugins,
 * signing, echo-message and history.
 */
export default defineCommand({
  name: 'BATCH',
  minParams: 1,
  help: 'BATCH +<ref> draft/multiline <target> | BATCH -<ref>\nSends one message of several lines (IRCv3 draft/multiline): open the batch, send the lines as @batch=<ref> PRIVMSG <target> :<line>, close it.',
  run(ctx, [refArg, type, target]) {
    const sign = refArg![0];
    const ref = refArg!.slice(1);
    if (sign === '+') {
      if (type === undefined) { ctx.numeric(N.ERR_NEEDMOREPARAMS, 'BATCH', 'Not enough parameters'); return; }
      openBatch(ctx, ref, type, target);
      return;
    }
    if (sign !== '-') { ctx.fail('BATCH', 'MULTILINE_INVALID', 'Invalid batch reference'); return; }
    const done = closeBatch(ctx, ref);
    if (!done) return;
    // the opening BATCH's client-only tags are the message's tags
    // #12: the echo / ACK waits for history's commit (a promise then, see relay())
    return relay({ ...ctx, msg: { ...ctx.msg, tags: done.tags } }, done.command, done.target, joinLines(done.lines), done.lines);
  },
});
