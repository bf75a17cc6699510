/**
 * IRCv3 draft/multiline (https://ircv3.net/specs/extensions/multiline) for the client (#15).
 *
 * Sending: a text of several lines, or a line too long for one IRC line, goes as one
 * `draft/multiline` batch (several when it is over the server's max-bytes / max-lines), long lines
 * cut into pieces joined by `draft/multiline-concat`; without the capability, as one line per
 * piece. Receiving: the lines of a `draft/multiline` batch become one PRIVMSG / NOTICE whose text
 * has the lines joined by `\n` (a concat line joins directly), with the tags of the batch's start
 * (msgid, time, account, signature). No I/O and no Node built-ins.
 */
import { buildLine, serializeTags, type IrcMessage } from '@freeq/protocol';

export const MULTILINE_CAP = 'draft/multiline';
export const MULTILINE_BATCH = 'draft/multiline';
export const CONCAT_TAG = 'draft/multiline-concat';

/** The server's limits (its CAP LS value `max-bytes=…,max-lines=…`). */
export interface MultilineLimits { maxBytes: number; maxLines: number }

/** max-bytes is required by the spec; without max-lines, as many lines as max-bytes allows */
export function parseMultilineCap(value: string | undefined): MultilineLimits | undefined {
  if (value === undefined) return undefined;
  const kv = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) kv.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const maxBytes = Number(kv.get('max-bytes'));
  const maxLines = kv.has('max-lines') ? Number(kv.get('max-lines')) : Infinity;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0 || !(maxLines > 0)) return undefined;
  return { maxBytes, maxLines };
}

/** One line on the wire: its text, and whether it continues the previous line (concat). */
export interface WireLine { text: string; concat: boolean }

const bytesOf = (cp: number): number => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
export const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) { n += 4; i++; } else n += bytesOf(c);
  }
  return n;
};

/**
 * `line` in pieces of at most `maxBytes` UTF-8 bytes, never cutting a character; a piece ends
 * after a space when there is one in its second half (the space stays, so the pieces joined
 * give the line back). The first piece is not concat, the others are.
 */
function cut(line: string, maxBytes: number): WireLine[] {
  const out: WireLine[] = [];
  let start = 0;
  let bytes = 0;
  let lastSpace = -1;
  for (let i = 0; i < line.length;) {
    const cp = line.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    const b = bytesOf(cp);
    if (bytes + b > maxBytes && i > start) {
      const end = lastSpace > start + (i - start) / 2 ? lastSpace + 1 : i;
      out.push({ text: line.slice(start, end), concat: out.length > 0 });
      start = end;
      bytes = utf8Length(line.slice(start, i));
      lastSpace = -1;
      continue;
    }
    if (cp === 0x20) lastSpace = i;
    bytes += b;
    i += w;
  }
  out.push({ text: line.slice(start), concat: out.length > 0 });
  return out;
}

/**
 * The wire lines of a text: split at line breaks (CRLF, CR or LF), leading and trailing blank
 * lines dropped (nothing at all for a blank text), each line cut to `maxBytes`.
 */
export function wireLines(text: string, maxBytes: number): WireLine[] {
  const lines = text.split(/\r\n|\r|\n/);
  let first = 0;
  let last = lines.length - 1;
  while (first <= last && lines[first]!.trim() === '') first++;
  while (last >= first && lines[last]!.trim() === '') last--;
  const out: WireLine[] = [];
  for (let i = first; i <= last; i++) out.push(...(lines[i] === '' ? [{ text: '', concat: false }] : cut(lines[i]!, maxBytes)));
  return out;
}

/**
 * Wire lines grouped into batches within the server's limits, counted as the server does: the
 * lines' bytes plus one for each line feed that joins a line to the one before (not for a
 * concat line). A batch never starts with a concat line or a blank one.
 */
export function batches(lines: readonly WireLine[], limits: MultilineLimits): WireLine[][] {
  const out: WireLine[][] = [];
  let cur: WireLine[] = [];
  let bytes = 0;
  for (const l of lines) {
    const add = utf8Length(l.text) + (cur.length > 0 && !l.concat ? 1 : 0);
    if (cur.length > 0 && (cur.length >= limits.maxLines || bytes + add > limits.maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    if (cur.length === 0) {
      if (l.text === '') continue; // a blank line where a message would start: nothing to say
      cur.push({ text: l.text, concat: false });
      bytes = utf8Length(l.text);
    } else {
      cur.push(l);
      bytes += add;
    }
  }
  if (cur.length > 0) out.push(cur);
  // trailing blank lines of a batch cut short say nothing either
  return out.map((b) => { let n = b.length; while (n > 1 && b[n - 1]!.text === '') n--; return b.slice(0, n); });
}

/**
 * the most bytes of text in one PRIVMSG the server can relay: 512 with CRLF, less the prefix it
 * adds (`:nick!user@host `, user@host allowed 100 bytes) and `PRIVMSG <target> :`
 */
export function lineBudget(nick: string, command: string, target: string): number {
  return Math.max(64, 510 - utf8Length(`:${nick}! ${command} ${target} :`) - 100);
}

/**
 * The raw lines that say `text` to `target`: one plain line when it fits in one, else one
 * draft/multiline batch per batches() group when `limits` is given (the server offers the
 * capability and it is enabled), else one line per piece (blank lines left out).
 */
export function messageLines(command: 'PRIVMSG' | 'NOTICE', target: string, text: string, o: { nick: string; limits: MultilineLimits | undefined; nextRef: () => string }): string[] {
  const lines = wireLines(text, lineBudget(o.nick, command, target));
  if (lines.length <= 1 || !o.limits) return lines.filter((l) => l.text !== '').map((l) => buildLine(command, target, l.text));
  const out: string[] = [];
  for (const b of batches(lines, o.limits)) {
    if (b.length === 1) { out.push(buildLine(command, target, b[0]!.text)); continue; }
    const ref = o.nextRef();
    out.push(buildLine('BATCH', `+${ref}`, MULTILINE_BATCH, target));
    for (const l of b) out.push(`@${serializeTags(new Map(l.concat ? [['batch', ref], [CONCAT_TAG, '']] : [['batch', ref]]))} ${buildLine(command, target, l.text)}`);
    out.push(buildLine('BATCH', `-${ref}`));
  }
  return out;
}

interface OpenBatch { start: IrcMessage; target: string; command?: string; text: string; lines: number }

/** multiline batches open at once, and lines in one (a server cannot make the client hold more) */
const MAX_OPEN = 16;
const MAX_LINES = 10_000;

/** Received draft/multiline batches, assembled into one message each. */
export class MultilineAssembler {
  private readonly open = new Map<string, OpenBatch>();

  /**
   * Take one line: [] while it is part of an open multiline batch, [the whole message] when the
   * batch ends, [the line itself] for anything else.
   */
  take(msg: IrcMessage): IrcMessage[] {
    if (msg.command === 'BATCH') {
      const ref = msg.params[0] ?? '';
      if (ref.startsWith('+') && msg.params[1] === MULTILINE_BATCH) {
        if (this.open.size >= MAX_OPEN) this.open.delete(this.open.keys().next().value!);
        this.open.set(ref.slice(1), { start: msg, target: msg.params[2] ?? '', text: '', lines: 0 });
        return [];
      }
      const b = ref.startsWith('-') ? this.open.get(ref.slice(1)) : undefined;
      if (!b) return [msg];
      this.open.delete(ref.slice(1));
      if (b.command === undefined) return [];
      const tags = new Map(b.start.tags);
      tags.delete('batch');
      const whole: IrcMessage = { tags, command: b.command, params: [b.target, b.text] };
      if (b.start.source !== undefined) whole.source = b.start.source;
      return [whole];
    }
    const ref = msg.tags.get('batch');
    const b = ref === undefined ? undefined : this.open.get(ref);
    if (!b) return [msg];
    if ((msg.command === 'PRIVMSG' || msg.command === 'NOTICE') && (b.command ?? msg.command) === msg.command && b.lines < MAX_LINES) {
      const text = msg.params[1] ?? '';
      b.text += b.lines > 0 && !msg.tags.has(CONCAT_TAG) ? `\n${text}` : text;
      b.command = msg.command;
      b.lines++;
    }
    return [];
  }

  /** a new connection: batches of the old one never end */
  reset(): void { this.open.clear(); }
}

/** A request's answer (e.g. CHATHISTORY) with its multiline batches assembled. */
export function assembleMultiline(lines: readonly IrcMessage[]): IrcMessage[] {
  const a = new MultilineAssembler();
  return lines.flatMap((l) => a.take(l));
}
