/**
 * The cloak template rules (#12 finding 9), pure so that config/load.ts refuses a bad
 * `guest-cloak` / `did-cloak` with the other configuration problems (exit 2, also for
 * `config print`); state/cloak.ts makes the cloaks with the same expansion.
 */

/** bytes of HMAC output kept: 80 bits (#12: at least 64) → 16 base32 characters */
export const CLOAK_HASH_BYTES = 10;
const HASH_CHARS = Math.ceil((CLOAK_HASH_BYTES * 8) / 5);
/** longest `{method}` put into a cloak (DID method names are short: plc, web, key) */
export const MAX_METHOD_CHARS = 16;

/** The displayed-host rule (same as an [[oper]] vhost): a safe hostmask part, at most 63 characters. */
const HOST_PART = /^[A-Za-z0-9][A-Za-z0-9./-]{0,62}$/;

export type CloakKind = 'guest' | 'did';

/**
 * Why a template is unusable, or undefined when it is fine. It must contain `{hash}` (otherwise
 * users would share a cloak again), use only `{hash}` (and `{method}` for DID cloaks), and expand
 * — with the longest hash and method — to a valid host part: letters, digits, `.`, `/`, `-`,
 * starting with a letter or digit, at most 63 characters (no spaces, `!@*?,:` or other mask syntax).
 */
export function cloakTemplateProblem(template: string, kind: CloakKind): string | undefined {
  if (!template.includes('{hash}')) return 'must contain {hash}';
  const allowed = kind === 'did' ? ['{hash}', '{method}'] : ['{hash}'];
  const unknown = (template.match(/\{[^}]*\}?/g) ?? []).filter((p) => !allowed.includes(p));
  if (unknown.length > 0) return `unknown placeholder ${unknown[0]} (allowed: ${allowed.join(' ')})`;
  const widest = expandCloak(template, 'x'.repeat(HASH_CHARS), 'x'.repeat(MAX_METHOD_CHARS));
  if (!HOST_PART.test(widest)) {
    return `must expand to a host part of letters, digits, ".", "/" and "-" that starts with a letter or digit, at most 63 characters (with a ${HASH_CHARS}-character {hash}${kind === 'did' ? ` and a method of up to ${MAX_METHOD_CHARS}` : ''}: ${JSON.stringify(widest)})`;
  }
  return undefined;
}

/** The template with its placeholders filled in. */
export function expandCloak(template: string, hash: string, method: string): string {
  return template.replaceAll('{hash}', hash).replaceAll('{method}', method);
}
