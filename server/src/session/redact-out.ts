import type { RedactEvent } from '../state/events.js';
import type { User } from '../state/user.js';
import type { World } from '../state/world.js';
import { Outgoing, nowIso } from './outgoing.js';

/** the capability a client needs to be sent a REDACT (IRCv3 draft/message-redaction) */
export const REDACT_CAP = 'draft/message-redaction';

/**
 * `:<redactor> REDACT <target> <msgid> [:<reason>]` with the REDACT's own msgid and time (the
 * same on every server and in history), and the redactor's account tag. `target` defaults to
 * the one the redactor wrote (its echo).
 */
export function redactLine(ev: RedactEvent, target = ev.target): Outgoing {
  const params = ev.reason === undefined ? [target, ev.msgid] : [target, ev.msgid, ev.reason];
  return new Outgoing({ tags: new Map(), source: ev.user.mask, command: 'REDACT', params }, {
    time: nowIso(ev.at), at: ev.at, msgid: ev.id, account: ev.user.account, bot: ev.user.isBot,
  });
}

/**
 * A REDACT to those who saw the message, never to the redactor (its echo is the command's:
 * labeled-response), and only to clients with draft/message-redaction: the spec says it "MUST
 * not" go to the others, and its "Fallback" (a NOTICE) is optional; this server sends none, so
 * clients without the capability see nothing change.
 * - a channel: its members;
 * - a private conversation: every connection logged in to either of its two accounts (history
 *   is per account pair). As a private message names its recipient, the other side's REDACT
 *   names this user; any other (its own account's, a server operator's) names the other side.
 * - a channel that is gone: nobody.
 */
export function deliverRedact(ev: RedactEvent, world: World): void {
  const cap = (u: User): boolean => u !== ev.user && u.link.hasCap(REDACT_CAP);
  if (ev.channel) {
    const out = redactLine(ev);
    for (const u of ev.channel.members.keys()) if (cap(u)) u.link.deliver(out);
    return;
  }
  if (!ev.parties) return;
  const [a, b] = ev.parties;
  // every user, once: redactions are rare, and no index of users by account exists
  const nickOf = new Map<string, string>();
  const to: User[] = [];
  for (const u of world.users.values()) {
    if (!u.registered || (u.account !== a && u.account !== b)) continue;
    if (!nickOf.has(u.account)) nickOf.set(u.account, u.nick);
    if (cap(u)) to.push(u);
  }
  const lines = new Map<string, Outgoing>();
  for (const u of to) {
    const other = u.account === a ? b : a;
    const target = ev.user.account === other && other !== u.account
      ? u.nick
      : other === ev.did ? ev.target : nickOf.get(other) ?? world.accountNicks.get(other)?.nick ?? other;
    let out = lines.get(target);
    if (!out) lines.set(target, out = redactLine(ev, target));
    u.link.deliver(out);
  }
}
