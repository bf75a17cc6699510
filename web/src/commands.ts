/**
 * What the message box does with a line that starts with `/` (#15: the commands people type in
 * every IRC client): /join, /part, /me, /msg, /nick, /topic, and /quote for anything else. `//`
 * sends a line that starts with `/`. Pure: returns what to do; app.tsx does it.
 */
export type Action =
  | { kind: 'say'; text: string }
  | { kind: 'me'; text: string }
  | { kind: 'join'; channel: string; key?: string }
  | { kind: 'part'; channel?: string; reason?: string }
  | { kind: 'msg'; target: string; text: string }
  | { kind: 'nick'; nick: string }
  | { kind: 'topic'; text: string }
  | { kind: 'raw'; line: string }
  | { kind: 'error'; text: string };

export const HELP = '/join #channel [key] · /part [reason] · /me action · /msg nick text · /nick newnick · /topic text · /quote RAW LINE';

export function parseInput(line: string): Action {
  if (!line.startsWith('/') || line.startsWith('//')) return { kind: 'say', text: line.startsWith('//') ? line.slice(1) : line };
  const sp = line.indexOf(' ');
  const cmd = (sp < 0 ? line.slice(1) : line.slice(1, sp)).toLowerCase();
  const rest = sp < 0 ? '' : line.slice(sp + 1).trim();
  const [first = '', ...more] = rest.split(/\s+/);
  switch (cmd) {
    case 'join': case 'j':
      if (!first) return { kind: 'error', text: 'usage: /join #channel [key]' };
      return { kind: 'join', channel: /^[#&]/.test(first) ? first : `#${first}`, ...(more[0] ? { key: more[0] } : {}) };
    case 'part': case 'leave':
      if (/^[#&]/.test(first)) return { kind: 'part', channel: first, ...(more.length ? { reason: more.join(' ') } : {}) };
      return { kind: 'part', ...(rest ? { reason: rest } : {}) };
    case 'me':
      return rest ? { kind: 'me', text: rest } : { kind: 'error', text: 'usage: /me action' };
    case 'msg': case 'query':
      return first && more.length ? { kind: 'msg', target: first, text: rest.slice(first.length).trim() } : { kind: 'error', text: 'usage: /msg nick text' };
    case 'nick':
      return first ? { kind: 'nick', nick: first } : { kind: 'error', text: 'usage: /nick newnick' };
    case 'topic':
      return { kind: 'topic', text: rest };
    case 'quote': case 'raw':
      return rest ? { kind: 'raw', line: rest } : { kind: 'error', text: 'usage: /quote RAW LINE' };
    default:
      return { kind: 'error', text: `unknown command /${cmd}: ${HELP}` };
  }
}
