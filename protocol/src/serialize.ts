import type { IrcMessage } from './message.js';
import { serializeTags } from './tags.js';

/**
 * Serialize without CRLF. Every param but the last must be non-empty, contain no space and
 * not start with ':' — a violation is a programming error, so we fail loudly (the reference's
 * serializer silently emitted broken lines here). The last param gets ':' when it needs it.
 */
export function serialize(m: IrcMessage): string {
  let s = '';
  if (m.tags.size > 0) {
    const t = serializeTags(m.tags);
    if (t) s = `@${t} `;
  }
  if (m.source) s += `:${m.source} `;
  s += m.command;
  const n = m.params.length;
  for (let i = 0; i < n; i++) {
    const p = m.params[i]!;
    if (i === n - 1) {
      s += p === '' || p.includes(' ') || p[0] === ':' ? ` :${p}` : ` ${p}`;
    } else {
      if (p === '' || p.includes(' ') || p[0] === ':') throw new Error(`invalid middle param ${JSON.stringify(p)} in ${m.command}`);
      s += ` ${p}`;
    }
  }
  return s;
}

/**
 * A line a client sends: `command` and `params`, the last sent as a trailing (`:`) param when it
 * needs to be. Refuses CR, LF and NUL anywhere, so user input can never inject a second command.
 */
export function buildLine(command: string, ...params: string[]): string {
  for (const p of [command, ...params]) {
    if (/[\r\n\0]/.test(p)) throw new Error('IRC parameters must not contain CR, LF or NUL');
  }
  return serialize({ tags: new Map(), command, params });
}
