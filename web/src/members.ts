import type { IrcMessage } from '@freeq/sdk/browser';

/** A channel member as the page shows it: its prefix (`@` op, `+` voice) and account (DID) when logged in. */
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

/** the token of the page's WHOX query (`WHO #channel %tnaf,<token>`: at most 3 digits) */
export const WHOX_TOKEN = '152';

/**
 * WHOX replies to `WHO <channel> %tnaf,<token>`: `354 <me> <token> <nick> <flags> <account>`
 * (fields in the spec's order t, n, f, a). Nick (lower-cased) → account; undefined for `0`, not logged in.
 */
export function accountsFromWhox(lines: IrcMessage[], token = WHOX_TOKEN): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const l of lines) {
    const [, t, nick, , account] = l.params;
    if (l.command !== '354' || t !== token || !nick || account === undefined) continue;
    out.set(nick.toLowerCase(), account === '0' ? undefined : account);
  }
  return out;
}

const withAccount = (m: Member, account: string | undefined): Member => {
  const { account: _, ...rest } = m;
  return account ? { ...rest, account } : rest;
};

/** `channel`'s members with the accounts WHOX gave (a member it did not list keeps what was known) */
export function withAccounts(all: Members, channel: string, accounts: Map<string, string | undefined>): Members {
  const list = all.get(channel.toLowerCase());
  if (!list) return all;
  const copy = new Map(list);
  for (const [nick, account] of accounts) {
    const m = copy.get(nick);
    if (m) copy.set(nick, withAccount(m, account));
  }
  return new Map(all).set(channel.toLowerCase(), copy);
}

/**
 * A line that changes who is on which channel, applied to a copy of `all` (undefined: nothing
 * changed): QUIT (every channel), NICK (renamed everywhere), KICK, MODE +o/-o/+v/-v, and ACCOUNT
 * (account-notify: logged in as a DID, or `*` logged out).
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
    case 'ACCOUNT': {
      const account = m.params[0];
      if (account === undefined) return undefined;
      for (const ch of all.keys()) edit(ch, (l) => { const x = l.get(nick); if (x) l.set(nick, withAccount(x, account === '*' ? undefined : account)); });
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
