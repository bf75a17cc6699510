import type { IrcMessage } from '../protocol/message.js';
import { newBatchId } from '../session/reply-buffer.js';
import { Outgoing, nowIso } from '../session/outgoing.js';
import type { StoredMessage } from './types.js';

/** What replay needs to know about the receiving client. */
export interface ReplayClient {
  readonly tagMask: number;
  hasCap(cap: string): boolean;
}

const withBatch = (m: IrcMessage, batch: string | undefined): IrcMessage =>
  batch === undefined ? m : { ...m, tags: new Map([['batch', batch], ...m.tags]) };

/**
 * The lines of one stored message as this client would have seen them: original source, msgid,
 * time, account and client tags (each only with the cap that shows it), inside `batch` if given.
 * A draft/multiline message goes out as a nested `draft/multiline` batch to clients with that cap
 * and batch, otherwise as one line per original line (the first carries the msgid and tags).
 */
export function storedLines(m: StoredMessage, client: ReplayClient, batch: string | undefined): IrcMessage[] {
  const meta = {
    time: nowIso(m.time), msgid: m.msgid, account: m.account,
    clientTags: m.clientTags ? new Map(Object.entries(m.clientTags)) : undefined,
  };
  const base = { tags: new Map<string, string>(), source: m.source, command: m.command };
  if (!m.lines || m.lines.length === 0 || m.command === 'TAGMSG') {
    const params = m.command === 'TAGMSG' ? [m.target] : [m.target, m.text ?? ''];
    return [withBatch(new Outgoing({ ...base, params }, meta).messageFor(client.tagMask), batch)];
  }
  if (client.hasCap('draft/multiline') && client.hasCap('batch')) {
    const inner = newBatchId();
    const open = new Outgoing({ ...base, command: 'BATCH', params: [`+${inner}`, 'draft/multiline', m.target] }, meta).messageFor(client.tagMask);
    const out: IrcMessage[] = [withBatch(open, batch)];
    for (const l of m.lines) {
      const tags = new Map([['batch', inner]]);
      if (l.concat) tags.set('draft/multiline-concat', '');
      out.push({ tags, source: m.source, command: m.command, params: [m.target, l.text] });
    }
    out.push(withBatch({ tags: new Map(), source: m.source, command: 'BATCH', params: [`-${inner}`] }, batch));
    return out;
  }
  return m.lines.map((l, i) => {
    const lineMeta = i === 0 ? meta : { time: meta.time, account: meta.account };
    return withBatch(new Outgoing({ ...base, params: [m.target, l.text] }, lineMeta).messageFor(client.tagMask), batch);
  });
}

/**
 * A `chathistory` batch for `target` (just the lines when the client lacks `batch`). TAGMSGs are
 * left out unless the client negotiated draft/event-playback (the caller filters in the query so
 * limits count what is sent).
 */
export function historyBatch(serverName: string, target: string, msgs: readonly StoredMessage[], client: ReplayClient): IrcMessage[] {
  if (!client.hasCap('batch')) return msgs.flatMap((m) => storedLines(m, client, undefined));
  const id = newBatchId();
  return [
    { tags: new Map(), source: serverName, command: 'BATCH', params: [`+${id}`, 'chathistory', target] },
    ...msgs.flatMap((m) => storedLines(m, client, id)),
    { tags: new Map(), source: serverName, command: 'BATCH', params: [`-${id}`] },
  ];
}

/** TAGMSGs in history go only to clients that asked for event playback (and can see tags). */
export const wantsTagmsg = (client: ReplayClient): boolean => client.hasCap('draft/event-playback') && client.hasCap('message-tags');
