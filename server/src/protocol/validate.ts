import { foldCase } from './casemap.js';

// RFC 2812 §2.3.1 nickname grammar (ASCII; rfc1459 casemapping is only defined for ASCII).
const NICK_RE = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

export function isValidNick(nick: string, maxLen: number): boolean {
  return nick.length >= 1 && nick.length <= maxLen && NICK_RE.test(nick);
}

// USER's username: no space, no '@', no control characters.
// eslint-disable-next-line no-control-regex
const USER_RE = /^[^\s@\x00-\x1f!]+$/;
export function isValidUsername(u: string): boolean {
  return USER_RE.test(u);
}

export const CHANTYPES = '#';

export function isChannelName(s: string): boolean {
  return s.length > 0 && CHANTYPES.includes(s[0]!);
}

/**
 * Characters a channel name never contains (#12 finding 15; rule in docs/user-guide.md):
 * - space, comma, colon (protocol separators) and every Unicode separator (`\p{Z}`, `\s`);
 * - controls `\p{Cc}`: C0, DEL (0x7F) and C1 (U+0080–U+009F);
 * - format characters `\p{Cf}`: bidi marks, embeddings, overrides and isolates (U+200E/U+200F,
 *   U+061C, U+202A–U+202E, U+2066–U+2069), zero-width space/joiners (U+200B–U+200D), word joiner
 *   U+2060, BOM U+FEFF, soft hyphen U+00AD, tag characters…: they reorder or hide text, so two
 *   channels would look alike or a name would disguise what follows it;
 * - lone surrogates `\p{Cs}` and other blank-looking fillers (U+034F, U+115F, U+1160, U+3164,
 *   U+FFA0) that render as nothing.
 * Variation selectors stay allowed: emoji need them (`#❤️`).
 */
const FORBIDDEN_IN_CHANNEL = /[\s,:\p{Z}\p{Cc}\p{Cf}\p{Cs}\u034F\u115F\u1160\u3164\uFFA0]/u;

/** Does the name (after its CHANTYPE) hold a character no channel name may contain? Length is not checked. */
export function hasForbiddenChannelChars(s: string): boolean {
  return FORBIDDEN_IN_CHANNEL.test(s.slice(1));
}

/** A channel name we accept for creation: CHANTYPE, no forbidden character, within length (bytes). */
export function isValidChannelName(s: string, maxLen: number): boolean {
  return isChannelName(s) && s.length >= 2 && Buffer.byteLength(s) <= maxLen && !hasForbiddenChannelChars(s);
}

/**
 * Ergo's SafeErrorParam (ergo:irc/utils/args.go:44-49): user input echoed into a middle
 * parameter of a numeric must not be empty, contain a space or start with ':'.
 */
export function safeParam(p: string | undefined): string {
  if (!p || p.includes(' ') || p[0] === ':') return '*';
  return p;
}

/**
 * Case-insensitive (rfc1459) glob match with '*' and '?'. Iterative with a single backtrack
 * point, so it is O(len(mask) * len(text)) in the worst case — never exponential (freeq's
 * recursive matcher was). A `*` in the mask is always a wildcard, even against a `*` in the
 * text (a username may hold one): matching it literally lost the backtrack point, so
 * `a*b` did not match `a*xb`. Lists matched on every message use CompiledMask (mask-match.ts).
 */
export function maskMatch(mask: string, text: string): boolean {
  const p = foldCase(mask);
  const t = foldCase(text);
  let pi = 0, ti = 0, star = -1, mark = 0;
  while (ti < t.length) {
    if (pi < p.length && p[pi] === '*') { star = pi++; mark = ti; }
    else if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) { pi++; ti++; }
    else if (star !== -1) { pi = star + 1; ti = ++mark; }
    else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Canonical ban mask: `nick` → `nick!*@*`, `user@host` → `*!user@host`, `nick!user` → `nick!user@*`. */
export function canonicalMask(mask: string): string {
  if (mask.startsWith('did:') || mask.startsWith('$')) return mask; // extbans / DIDs are exact tokens
  let nick = '*', user = '*', host = '*';
  const bang = mask.indexOf('!');
  const at = mask.indexOf('@', bang === -1 ? 0 : bang);
  if (bang !== -1) {
    nick = mask.slice(0, bang) || '*';
    if (at !== -1) { user = mask.slice(bang + 1, at) || '*'; host = mask.slice(at + 1) || '*'; }
    else user = mask.slice(bang + 1) || '*';
  } else if (at !== -1) {
    user = mask.slice(0, at) || '*';
    host = mask.slice(at + 1) || '*';
  } else if (mask.includes('.') || mask.includes(':') || mask.includes('/')) {
    host = mask;
  } else {
    nick = mask || '*';
  }
  return `${nick}!${user}@${host}`;
}

/** Truncate to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function clipUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  const b = Buffer.from(s, 'utf8');
  let end = maxBytes;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

/**
 * A nick to suggest for a handle: its first label (`alice.bsky.social` → `alice`), letters,
 * digits and dashes only, not starting with a digit or dash (IRC nick syntax), at most `maxLen`;
 * `user` when nothing usable is left. The server still decides (nick ownership, collisions).
 */
export function nickFromHandle(handle: string | undefined, maxLen: number): string {
  const label = (handle ?? '').split('.')[0]!.replace(/[^A-Za-z0-9-]/g, '').replace(/^[0-9-]+/, '');
  return (label || 'user').slice(0, Math.max(1, maxLen));
}

/**
 * Every parameter but the last (the trailing one, which may hold anything) as a valid middle one
 * (safeParam): a reply with a client's input echoed unchecked gets '*' there instead of failing.
 */
export function middles(params: readonly string[]): string[] {
  const last = params.length - 1;
  return params.map((p, i) => (i < last ? safeParam(p) : p));
}
