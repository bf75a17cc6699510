import { isUtf8 } from 'node:buffer';
import { parseBody, parseTags, type IrcMessage } from '@freeq/protocol';
import { MAX_BODY_BYTES, MAX_CLIENT_TAG_DATA_BYTES } from './limits.js';

export type ParseError =
  | 'empty'          // nothing but spaces: ignore (modern: SHOULD ignore empty lines)
  | 'bad-char'       // NUL, CR or LF inside the line, or a non-ASCII command: malformed
  | 'no-command'     // tags/prefix but no command
  | 'tags-too-long'; // client tag data over 4094 bytes: 417, never truncate

export type Parsed =
  | { ok: true; msg: IrcMessage; bodyTooLong: boolean; invalidUtf8: boolean }
  | { ok: false; error: ParseError; command?: string };

export interface LineLimits {
  /** bytes of tag data (without '@' and the trailing space) */
  maxTagDataBytes: number;
  /** body bytes including the CRLF that the framer stripped */
  maxBodyBytes: number;
}

export const CLIENT_LINE_LIMITS: LineLimits = { maxTagDataBytes: MAX_CLIENT_TAG_DATA_BYTES, maxBodyBytes: MAX_BODY_BYTES };

const SPACE = 0x20;

/**
 * Parse one line (without its CRLF). Never throws: every input maps to a result.
 * Policy (what to reply, whether to close) belongs to the session, not here.
 */
export function parseLine(line: Uint8Array, lim: LineLimits = CLIENT_LINE_LIMITS): Parsed {
  const buf = Buffer.isBuffer(line) ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  if (buf.indexOf(0) !== -1 || buf.indexOf(0x0d) !== -1 || buf.indexOf(0x0a) !== -1) return { ok: false, error: 'bad-char' };

  let pos = 0;
  while (pos < buf.length && buf[pos] === SPACE) pos++;
  if (pos >= buf.length) return { ok: false, error: 'empty' };

  let tagBytes: Buffer | undefined;
  if (buf[pos] === 0x40 /* @ */) {
    let end = buf.indexOf(SPACE, pos);
    if (end === -1) end = buf.length;
    if (end - pos - 1 > lim.maxTagDataBytes) return { ok: false, error: 'tags-too-long' };
    tagBytes = buf.subarray(pos + 1, end);
    pos = end;
    while (pos < buf.length && buf[pos] === SPACE) pos++;
  }
  const body = buf.subarray(pos);
  // +2 for the CRLF the framer removed
  const bodyTooLong = body.length + 2 > lim.maxBodyBytes;
  const invalidUtf8 = !isUtf8(buf);

  // what cannot be a tag key is dropped rather than guessed at (@freeq/protocol parseTags)
  const tags = tagBytes && tagBytes.length > 0 ? parseTags(tagBytes.toString('utf8')) : new Map<string, string>();

  // source, command and params: the same code as the SDK's and the web client's (@freeq/protocol)
  const b = parseBody(body.toString('utf8'));
  if (!b.ok) return { ok: false, error: b.error };
  const { source, command, params } = b;
  return { ok: true, msg: { tags, source, command, params }, bodyTooLong, invalidUtf8 };
}
