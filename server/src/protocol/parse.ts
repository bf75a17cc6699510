import { isUtf8 } from 'node:buffer';
import type { IrcMessage } from './message.js';
import { isValidTagKey, unescapeTagValue } from './tags.js';
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
const COMMAND_RE = /^(?:[A-Za-z]+|[0-9]{3})$/;

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

  const tags = new Map<string, string>();
  if (tagBytes && tagBytes.length > 0) {
    for (const part of tagBytes.toString('utf8').split(';')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const key = eq === -1 ? part : part.slice(0, eq);
      if (!isValidTagKey(key)) continue; // drop what cannot be a tag rather than guess
      tags.set(key, eq === -1 ? '' : unescapeTagValue(part.slice(eq + 1)));
    }
  }

  const text = body.toString('utf8');
  let i = 0;
  let source: string | undefined;
  if (text[0] === ':') {
    const sp = text.indexOf(' ');
    if (sp === -1) return { ok: false, error: 'no-command' };
    source = text.slice(1, sp);
    i = sp;
    while (text[i] === ' ') i++;
  }
  let sp = text.indexOf(' ', i);
  if (sp === -1) sp = text.length;
  const rawCommand = text.slice(i, sp);
  if (!rawCommand) return { ok: false, error: 'no-command' };
  if (/[^\x21-\x7e]/.test(rawCommand)) return { ok: false, error: 'bad-char' };
  const command = COMMAND_RE.test(rawCommand) ? rawCommand.toUpperCase() : rawCommand;
  const params: string[] = [];
  i = sp;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    if (text[i] === ':') { params.push(text.slice(i + 1)); break; }
    let e = text.indexOf(' ', i);
    if (e === -1) e = text.length;
    params.push(text.slice(i, e));
    i = e;
  }
  return { ok: true, msg: { tags, source, command, params }, bodyTooLong, invalidUtf8 };
}
