import { foldCase } from '../protocol/casemap.js';
import { isClientOnlyTag } from '../protocol/tags.js';
import { SIG_TAG } from '../keys/chat-signature.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { safeParam } from '../protocol/validate.js';
import { Fanout } from '../session/fanout.js';
import type { MessageEvent, RelayCommand } from '../state/events.js';
import type { CommandContext } from './context.js';
import type { RateSpec } from './registry.js';
import type { MultilineLine } from './multiline.js';

export type { RelayCommand } from '../state/events.js';

/**
 * C2 (freeq parity, messaging.rs:1784-1807,985-1020): per connection, `message-rate` PRIVMSG+NOTICE
 * (one window for both, draft/multiline batches included) and separately `message-rate` TAGMSG
 * per `message-rate-window`; operators too. Declared in the command table (privmsg.ts, notice.ts,
 * tagmsg.ts); the counts live on the session (commands/dispatch.ts).
 */
export const TEXT_RATE: RateSpec = { metric: 'message-rate', limit: (c) => c.messageRate, windowMs: (c) => c.messageRateWindow, opers: true };
export const TAG_RATE: RateSpec = { metric: 'message-rate', limit: (c) => c.messageRate, windowMs: (c) => c.messageRateWindow, opers: true };

/** false (and the refusal sent) when this message is over the sender's rate */
function withinRate(ctx: CommandContext, command: RelayCommand, targets: string): boolean {
  if (ctx.rate(command === 'TAGMSG' ? TAG_RATE : TEXT_RATE).take()) return true;
  // NOTICE is dropped silently (never answer a NOTICE with an error)
  if (command === 'PRIVMSG') ctx.numeric(N.ERR_CANNOTSENDTOCHAN, safeParam(targets), 'Flood protection: sending too fast');
  else if (command === 'TAGMSG') ctx.fail('TAGMSG', 'RATE_LIMITED', safeParam(targets), 'Sending too fast');
  return false;
}

/**
 * PRIVMSG / NOTICE / TAGMSG to channels (with STATUSMSG prefixes) and nicks. NOTICE never
 * produces an error reply (RFC 2812 §3.3.2). Client-only tags are relayed; others are dropped.
 * `multiline`: the lines of a completed draft/multiline batch (commands/batch.ts; `text` is
 * their combined message): one message for every check, delivered as a batch or its fallback.
 *
 * This command parses, applies the per-connection limits (target count, message rate) and
 * answers; each target's message goes through Ops (state/message-ops.ts: authorization, plugins,
 * signing, history, the `message` event that fan-out delivers), the one path a federated
 * message will take too (#13).
 *
 * #12: recipients get the message at once, but the sender's acknowledgement (the echo-message
 * echo, the labeled-response ACK or echo) waits until history has committed it, so a message
 * the sender saw acknowledged survives a crash right after. Then relay() returns a promise: the
 * session holds this command's replies and stops reading the client until it settles. Nothing
 * waits when there is nothing to acknowledge or nothing was stored.
 */
export function relay(ctx: CommandContext, command: RelayCommand, targets: string, text: string | undefined, multiline?: readonly MultilineLine[]): void | Promise<void> {
  const { server, user, session } = ctx;
  /** targets of this command's messages that history keeps (the acknowledgement waits; a failed write names them) */
  let stored: string[] | undefined;
  const quiet = command === 'NOTICE';
  const err = (code: string, ...p: string[]) => { if (!quiet) ctx.numeric(code, ...p); };
  // each target once, whatever its case (rfc1459 casemapping)
  const seen = new Set<string>();
  const list = targets.split(',').filter((t) => t !== '' && !seen.has(foldCase(t)) && seen.add(foldCase(t)));
  if (list.length === 0) { err(N.ERR_NORECIPIENT, `No recipient given (${command})`); return; }
  if (command !== 'TAGMSG' && (text === undefined || text === '')) { err(N.ERR_NOTEXTTOSEND, 'No text to send'); return; }
  if (list.length > server.config.maxTargets) { err(N.ERR_TOOMANYTARGETS, safeParam(list[server.config.maxTargets]), `Too many targets. Maximum is ${server.config.maxTargets}`); return; }

  let clientTags: Map<string, string> | undefined;
  // a client's +freeq.at/sig is dropped, never relayed unverified (verifying client signatures: future work)
  for (const [k, v] of ctx.msg.tags) if (isClientOnlyTag(k) && k !== SIG_TAG) (clientTags ??= new Map()).set(k, v);
  if (command === 'TAGMSG' && !clientTags) return; // nothing to relay
  if (!withinRate(ctx, command, targets)) return;
  server.metrics.message(command);
  // TAGMSG (and its echo) only ever reaches message-tags clients
  const canReceive = command !== 'TAGMSG' || session.hasCap('message-tags');

  for (const target of list) {
    let ev: MessageEvent | undefined;
    try {
      ev = server.ops.message(user, { command, target, text, lines: multiline, clientTags });
    } catch (e) {
      if (!(e instanceof ReplyError)) throw e;
      err(e.code, ...e.params, e.text);
      continue;
    }
    if (!ev) continue; // a plugin suppressed it (silently)
    if (ev.stored) (stored ??= []).push(target);
    if (command === 'PRIVMSG' && ev.to && ev.to.away !== undefined) ctx.numeric(N.RPL_AWAY, ev.to.nick, ev.to.away);
    const forms = server.fanout.messageForms(ev);
    // to oneself it is a delivered message, not a response: never labeled (labeled-response)
    if (ev.to === user && canReceive) Fanout.give(forms, session, (o) => session.deliverSideEffect(o));
    if (session.hasCap('echo-message') && canReceive) Fanout.give(forms, session, (o) => session.deliver(o));
  }
  // the echo (above, in this command's reply buffer) and a labeled ACK leave when the session
  // flushes that buffer, i.e. when this promise settles
  const acknowledged = session.hasCap('echo-message') || ctx.reply.label !== undefined;
  if (stored && acknowledged) return afterCommit(ctx, command, stored);
}

/**
 * #12: wait for history's commit. A failed write cannot be undone (the recipients have the
 * message), so the sender still gets its echo / ACK, preceded by a standard-replies warning per
 * target: `WARN <command> HISTORY_NOT_STORED <target> :…` (never for NOTICE, which gets no replies).
 */
async function afterCommit(ctx: CommandContext, command: RelayCommand, targets: readonly string[]): Promise<void> {
  if (await ctx.server.history.committed()) return;
  if (command === 'NOTICE') return;
  for (const t of targets) {
    ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'WARN', params: [command, 'HISTORY_NOT_STORED', safeParam(t), 'Message delivered but not stored in history'] });
  }
}
