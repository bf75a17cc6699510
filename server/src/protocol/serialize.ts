import { serialize, type IrcMessage } from '@freeq/protocol';

// serialize() is shared with the SDK and the web client (@freeq/protocol, #15); the bytes on the
// wire are the server's.
export { serialize };

/** the most a line may have without its tags, CRLF included (RFC 1459 §2.3, IRCv3 message-tags) */
export const MAX_LINE_BYTES = 512;

/**
 * Serialize with CRLF as bytes. CR/LF/NUL in any field would allow line injection: strip them.
 * A line whose part after the tags would be over 512 bytes (a long nick, channel and reason
 * together: KICK, TOPIC, PART, QUIT, AWAY… clip only their text to their own limits) has its last
 * parameter cut at a character boundary so that it fits: no client ever gets an oversized line (#16).
 */
export function toWire(m: IrcMessage): Buffer {
  const buf = Buffer.from(serialize(m).replace(/[\r\n\0]/g, ' ') + '\r\n', 'utf8');
  // a PONG's token comes back whole, or the client cannot match it to its PING (irctest's PING boundary)
  if (buf.length <= MAX_LINE_BYTES || m.command === 'PONG') return buf;
  const tagBytes = m.tags.size > 0 ? buf.indexOf(0x20) + 1 : 0;
  const excess = buf.length - tagBytes - MAX_LINE_BYTES;
  if (excess <= 0 || m.params.length === 0) return buf;
  const last = Buffer.from(m.params[m.params.length - 1]!, 'utf8');
  if (last.length <= excess) return buf; // nothing sensible to cut: the text is not what is long
  let cut = last.length - excess;
  while (cut > 0 && (last[cut]! & 0xc0) === 0x80) cut--; // not inside a UTF-8 sequence
  const params = [...m.params.slice(0, -1), last.subarray(0, cut).toString('utf8')];
  return Buffer.from(serialize({ ...m, params }).replace(/[\r\n\0]/g, ' ') + '\r\n', 'utf8');
}

/**
 * Bytes of the line `:<source> <command> <params…>` as it is relayed, CRLF included and tags left
 * out (they have their own budget): exactly what serialize() writes, so the last parameter has
 * its ':' only when it needs one. Checking against a hand-built `… :<text>` counted a ':' the
 * wire does not carry when the text has no space, and refused lines of exactly 512 bytes (#16).
 */
export function relayedBytes(source: string, command: string, params: readonly string[]): number {
  return Buffer.byteLength(serialize({ tags: new Map(), source, command, params: [...params] })) + 2;
}
