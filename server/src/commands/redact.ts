import { ReplyError } from '../protocol/reply-error.js';
import { safeParam } from '../protocol/validate.js';
import { REDACT_CAP, redactLine } from '../session/redact-out.js';
import { RedactRefusal } from '../state/redact-ops.js';
import type { RedactEvent } from '../state/events.js';
import type { CommandContext } from './context.js';
import { TEXT_RATE } from './messaging.js';
import { defineCommand } from './registry.js';

/**
 * REDACT <target> <msgid> [:<reason>] — IRCv3 draft/message-redaction (#16). Who may redact what
 * is Ops' (state/redact-ops.ts, the same rules for a linked server's users); refusals are the
 * spec's standard replies: "FAIL REDACT INVALID_TARGET <target> :…", "FAIL REDACT
 * REDACT_FORBIDDEN <target> <target-msgid> :…", "FAIL REDACT REDACT_WINDOW_EXPIRED <target>
 * <target-msgid> <window> :…", "FAIL REDACT UNKNOWN_MSGID <target> <target-msgid> :…".
 * A REDACT counts toward the message rate (message-rate, shared with PRIVMSG and NOTICE).
 * Like a PRIVMSG, the redactor's echo needs echo-message (and draft/message-redaction: nobody
 * without it is sent a REDACT), and it waits until history has applied the redaction (#12).
 */
export default defineCommand({
  name: 'REDACT',
  minParams: 2,
  rate: TEXT_RATE,
  help: 'REDACT <target> <msgid> [:<reason>]\n'
    + 'Deletes a message (draft/message-redaction): your own for a while after you sent it (redact-window), any message of a channel you are an operator of, any message as a server operator. '
    + 'The message is deleted from history; clients with draft/message-redaction are told.',
  run(ctx, params) {
    const { server, session, user } = ctx;
    // minParams: the dispatcher answered 461 without both
    const target = params[0]!;
    const msgid = params[1]!;
    const reason = params[2];
    if (!ctx.rate().take()) { ctx.fail('REDACT', 'RATE_LIMITED', safeParam(target), 'Sending too fast'); return; }
    let ev: RedactEvent;
    try {
      if (!server.ops.redactions) throw new RedactRefusal('INVALID_TARGET', [safeParam(target)], `You cannot delete messages from ${target}`);
      ev = server.ops.redactions.redact(user, { target, msgid, reason });
    } catch (e) {
      if (e instanceof RedactRefusal) { ctx.fail('REDACT', e.code, ...e.params, e.text); return; }
      if (e instanceof ReplyError) { ctx.numeric(e.code, ...e.params, e.text); return; }
      throw e;
    }
    const echo = session.hasCap('echo-message') && session.hasCap(REDACT_CAP);
    if (echo) session.deliver(redactLine(ev));
    if (ev.stored && (echo || ctx.reply.label !== undefined)) return afterCommit(ctx, ev.target);
  },
});

/**
 * #12 as for messages: the echo (or the labeled ACK) leaves once history has applied the
 * redaction. If it could not (a failed write), the message's content may still be stored: a
 * standard-replies warning says so.
 */
async function afterCommit(ctx: CommandContext, target: string): Promise<void> {
  if (await ctx.server.history.committed()) return;
  ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'WARN', params: ['REDACT', 'HISTORY_NOT_STORED', safeParam(target), 'Redaction delivered but not applied to stored history'] });
}
