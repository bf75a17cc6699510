import type { IrcMessage } from '@freeq/sdk/browser';

/** A channel member as the page shows it: its prefix (`@` op, `+` voice) and DID when known. */
export interface Member { nick: string; prefix: string; account?: string }
/** channel (lower-cased) → nick (lower-cased) → member */
export type Members = Map<string, Map<string, Member>>;

const RANK = '@+';
const rank = (m: Member): number => (m.prefix ? RANK.indexOf(m.prefix[0]!) : RANK.length);

/** members sorted as IRC clients do: operators, voiced, everyone else; alphabetical within */
export function sorted(list: Map<string, Member> | undefined): Member[] {
  return [...(list?.values() ?? [])].sort((a, b) => rank(a) - rank(b) || a.nick.localeCompare(b.nick));
}

/** NAMES replies (353) of a channel: `@+nick` entries */
export function fromNames(lines: IrcMessage[]): Map<string, Member> {
  const out = new Map<string, Member>();
  for (const l of lines) {
    if (l.command !== '353') continue;
    for (const entry of (l.params.at(-1) ?? '').split(' ')) {
      if (!entry) continue;
      const m = /^([@+]*)([^!]+)/.exec(entry);
      if (m) out.set(m[2]!.toLowerCase(), { nick: m[2]!, prefix: m[1]! });
    }
  }
  return out;
}

/**
 * A line that changes who is on which channel, applied to a copy of `all` (undefined: nothing
 * changed): QUIT (every channel), NICK (renamed everywhere), KICK, and MODE +o/-o/+v/-v.
 */
export function applyLine(all: Members, m: IrcMessage): Members | undefined {
  const nick = (m.source ?? '').split('!')[0]!.toLowerCase();
  const next = new Map(all);
  const edit = (ch: string, fn: (list: Map<string, Member>) => void): void => {
    const list = next.get(ch.toLowerCase());
    if (!list) return;
    const copy = new Map(list);
    fn(copy);
    next.set(ch.toLowerCase(), copy);
  };
  switch (m.command) {
    case 'QUIT':
      for (const ch of all.keys()) edit(ch, (l) => l.delete(nick));
      return next;
    case 'NICK': {
      const to = m.params[0] ?? '';
      for (const ch of all.keys()) edit(ch, (l) => { const x = l.get(nick); if (x) { l.delete(nick); l.set(to.toLowerCase(), { ...x, nick: to }); } });
      return next;
    }
    case 'KICK':
      edit(m.params[0] ?? '', (l) => l.delete((m.params[1] ?? '').toLowerCase()));
      return next;
    case 'MODE': {
      const [ch = '', modes = '', ...args] = m.params;
      if (!/^[#&]/.test(ch)) return undefined;
      let adding = true;
      let i = 0;
      edit(ch, (l) => {
        for (const c of modes) {
          if (c === '+' || c === '-') { adding = c === '+'; continue; }
          if (!'ovbeIkl'.includes(c)) continue;
          // modes that take a parameter here: o v b e I k, and l when set
          if (c === 'l' && !adding) continue;
          const arg = args[i++];
          if ((c === 'o' || c === 'v') && arg) {
            const x = l.get(arg.toLowerCase());
            if (!x) continue;
            const sym = c === 'o' ? '@' : '+';
            const prefix = adding ? (x.prefix.includes(sym) ? x.prefix : [...x.prefix, sym].sort((a, b) => RANK.indexOf(a) - RANK.indexOf(b)).join('')) : x.prefix.replace(sym, '');
            l.set(arg.toLowerCase(), { ...x, prefix });
          }
        }
      });
      return next;
    }
    default:
      return undefined;
  }
}
