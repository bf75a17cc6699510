/** Helpers for plugin options (all option values are strings). */

/** `|`-separated list option → trimmed non-empty items */
export function listOption(v: string | undefined): string[] {
  return (v ?? '').split('|').map((x) => x.trim()).filter(Boolean);
}
