// IRCv3 message-tags §Escaping values: `\:` `;`, `\s` space, `\\` backslash, `\r` CR, `\n` LF.
const ESCAPES: Record<string, string> = { ';': '\\:', ' ': '\\s', '\\': '\\\\', '\r': '\\r', '\n': '\\n' };
const UNESCAPES: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

export function escapeTagValue(v: string): string {
  return /[; \\\r\n]/.test(v) ? v.replace(/[; \\\r\n]/g, (c) => ESCAPES[c]!) : v;
}

/** Unknown escapes drop the backslash; a trailing lone backslash is dropped (spec). */
export function unescapeTagValue(v: string): string {
  if (!v.includes('\\')) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c !== '\\') { out += c; continue; }
    const n = v[i + 1];
    i++;
    if (n === undefined) break;
    out += UNESCAPES[n] ?? n;
  }
  return out;
}

/** Tag key grammar: [ '+' ] [ vendor '/' ] key_name, key_name = 1*( ALPHA / DIGIT / '-' ). */
const TAG_KEY = /^\+?(?:[A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/;
export function isValidTagKey(k: string): boolean {
  return TAG_KEY.test(k);
}

export function isClientOnlyTag(k: string): boolean {
  return k.startsWith('+');
}

/** Keys that are not valid tag keys are dropped: a key is never escaped, so one carrying a space,
 * ';' or '=' would otherwise end the tag section early and let its remainder become the command. */
export function serializeTags(tags: Map<string, string>): string {
  let s = '';
  for (const [k, v] of tags) {
    if (!isValidTagKey(k)) continue;
    if (s) s += ';';
    s += v === '' ? k : `${k}=${escapeTagValue(v)}`;
  }
  return s;
}
