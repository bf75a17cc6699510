import type { HistoryMessage, MessageEvent } from '@freeq/sdk/browser';

/** One line of a conversation as shown. */
export interface Line {
  id: string; msgid?: string;
  /** as shown (hh:mm) */
  time: string;
  /** the server's time of the line (server-time, ISO 8601), when it gave one: what read markers compare */
  at?: string;
  from: string;
  /** a multiline message (draft/multiline) has its lines joined by \n */
  text: string;
  kind: 'message' | 'notice' | 'event' | 'action' | 'error';
  mention?: boolean;
  /** the sender's account (account-tag) when logged in: shown on hover */
  account?: string;
  /** the DID the server's signature vouches for (verified here against its published keys) */
  signedBy?: string;
  /** withdrawn by its sender or a channel operator (draft/message-redaction): the text is gone */
  redacted?: boolean;
}

/** the line `msgid` of `lines` withdrawn: its text and signature are dropped (undefined: not there) */
export function redactedIn(lines: Line[], msgid: string): Line[] | undefined {
  const i = lines.findIndex((l) => l.msgid === msgid);
  if (i < 0 || lines[i]!.redacted) return undefined;
  const { signedBy: _signed, ...rest } = lines[i]!;
  const next = lines.slice();
  next[i] = { ...rest, text: 'message deleted', redacted: true };
  return next;
}

export interface Conversation {
  name: string; lines: Line[]; unread: number; mentions: number; topic: string; oldest?: string; more: boolean;
  /** draft/read-marker: read up to this time (ISO 8601), as the server last said */
  readAt?: string;
}

export const emptyConversation = (name: string): Conversation => ({ name, lines: [], unread: 0, mentions: 0, topic: '', more: true });

/** `text` names `nick` as a word (case-insensitive): a mention */
export const mentions = (text: string, nick: string): boolean => new RegExp(`(^|[^\\w-])${nick.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}($|[^\\w-])`, 'i').test(text);

export const timeOf = (t?: string): string => (t ? new Date(t) : new Date()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

let seq = 0;
/** a line the page itself adds (a join, an error): no msgid, no server time */
export const localLine = (from: string, text: string, kind: Line['kind']): Line => ({ id: `l${++seq}`, time: timeOf(), from, text, kind });

/** CTCP ACTION (`/me`): shown as `* nick text` */
// eslint-disable-next-line no-control-regex -- CTCP is framed by \x01 (the IRC convention)
const ACTION = /^\x01ACTION (.*?)\x01?$/s;

/** a message (live or from history) as a line */
export function lineOf(m: MessageEvent | HistoryMessage, kind: Line['kind']): Line {
  const action = ACTION.exec(m.text);
  const { msgid, time, account } = m.tags;
  return {
    id: msgid ?? `l${++seq}`, ...(msgid ? { msgid } : {}), time: timeOf(time), ...(time ? { at: time } : {}), ...(account ? { account } : {}),
    from: m.from, text: action ? action[1]! : m.text, kind: action ? 'action' : kind,
  };
}

/** the server time of the newest line (lines are kept oldest first): how far a shown conversation is read */
export function newestAt(lines: readonly Line[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.at) return lines[i]!.at;
  return undefined;
}

const counted = (l: Line, self: string): boolean => l.kind !== 'event' && l.kind !== 'error' && l.from !== self;

/** draft/read-marker: the lines said (by others) after `readAt`, and the mentions among them */
export function unreadSince(lines: readonly Line[], readAt: string, self: string): { unread: number; mentions: number } {
  const t = Date.parse(readAt);
  let unread = 0;
  let mentioned = 0;
  for (const l of lines) {
    if (!l.at || !counted(l, self) || !(Date.parse(l.at) > t)) continue;
    unread++;
    if (l.mention) mentioned++;
  }
  return { unread, mentions: mentioned };
}
