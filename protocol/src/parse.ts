import type { IrcMessage } from './message.js';
import { isValidTagKey, unescapeTagValue } from './tags.js';

/** why a line's text is not a message */
export type BodyError = 'no-command' | 'bad-char';

export type BodyParse = { ok: true; source?: string; command: string; params: string[] } | { ok: false; error: BodyError };

const COMMAND_RE = /^(?:[A-Za-z]+|[0-9]{3})$/;

/**
 * A tag section (without its leading '@'), IRCv3 message-tags: values unescaped; keys that cannot
 * be tag keys are dropped rather than guessed at.
 */
export function parseTags(section: string): Map<string, string> {
  const tags = new Map<string, string>();
  if (!section) return tags;
  for (const part of section.split(';')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    if (!isValidTagKey(key)) continue;
    tags.set(key, eq === -1 ? '' : unescapeTagValue(part.slice(eq + 1)));
  }
  return tags;
}

/**
 * The rest of a line after its tags (leading spaces already skipped): `[:source] command params`.
 * A command of letters or three digits is upper-cased; one with a character outside 0x21–0x7E is
 * `bad-char`. The last param may be a trailing one (`:` …). Never throws.
 */
export function parseBody(text: string): BodyParse {
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
  return source === undefined ? { ok: true, command, params } : { ok: true, source, command, params };
}

/**
 * One line as a client reads it (its CR/LF, if any, removed): undefined for an empty line or one
 * without a command. The server's byte-level parser (limits, UTF-8 checks) uses the same
 * parseTags and parseBody.
 */
export function parseMessage(line: string): IrcMessage | undefined {
  let rest = line.replace(/[\r\n]+$/, '');
  let i = 0;
  while (rest[i] === ' ') i++;
  rest = rest.slice(i);
  let tags = new Map<string, string>();
  if (rest.startsWith('@')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) return undefined;
    tags = parseTags(rest.slice(1, sp));
    rest = rest.slice(sp + 1).replace(/^ +/, '');
  }
  const body = parseBody(rest);
  if (!body.ok) return undefined;
  const m: IrcMessage = { tags, command: body.command, params: body.params };
  if (body.source !== undefined) m.source = body.source;
  return m;
}
