import { foldCase } from '../protocol/casemap.js';
import { CompiledMask } from '../protocol/mask-match.js';
import type { ListEntry } from './channel.js';

/**
 * Who a ban/except/invex entry is checked against, prepared once per check (not once per mask):
 * the logged-in DID, and `nick!user@cloak` and `nick!user@ip`, already folded.
 */
export interface MaskSubject {
  account?: string;
  /** folded texts a glob entry may match */
  texts: readonly string[];
}

/** The matcher built from a list's entries; rebuilt only when the list changes. */
interface Compiled {
  /** `did:…` entries: the DID exactly (case-sensitive, as DIDs are) */
  dids: Set<string>;
  /** `$a:<account>` entries, folded */
  accounts: Set<string>;
  /** globs without wildcards, folded: a Set lookup instead of a match */
  exact: Set<string>;
  globs: CompiledMask[];
}

/**
 * A channel's +b, +e or +I list. Entries change only through `add` / `removeAt`, which drop the
 * compiled matcher; the next check compiles it again (#12 finding 13: every message to a channel
 * used to fold and glob-match every mask anew, ~15 ms for four channels of 100 masks).
 */
export class MaskList {
  private items: ListEntry[];
  private compiled?: Compiled;

  constructor(entries: ListEntry[] = []) {
    this.items = entries;
  }

  get entries(): readonly ListEntry[] { return this.items; }
  get length(): number { return this.items.length; }

  /** index of the entry with this mask (rfc1459 case-insensitive), or -1 */
  indexOf(mask: string): number {
    const f = foldCase(mask);
    return this.items.findIndex((e) => foldCase(e.mask) === f);
  }

  add(e: ListEntry): void {
    this.items.push(e);
    this.compiled = undefined;
  }

  removeAt(i: number): ListEntry {
    const [removed] = this.items.splice(i, 1);
    this.compiled = undefined;
    return removed!;
  }

  /** Does any entry match? (A DID entry matches the logged-in identity exactly; `$a:` its account.) */
  matches(s: MaskSubject): boolean {
    if (this.items.length === 0) return false;
    const c = (this.compiled ??= compile(this.items));
    if (s.account !== undefined && (c.dids.has(s.account) || c.accounts.has(foldCase(s.account)))) return true;
    for (const t of s.texts) {
      if (c.exact.has(t)) return true;
      for (const g of c.globs) if (g.test(t)) return true;
    }
    return false;
  }
}

function compile(items: readonly ListEntry[]): Compiled {
  const c: Compiled = { dids: new Set(), accounts: new Set(), exact: new Set(), globs: [] };
  for (const { mask } of items) {
    if (mask.startsWith('did:')) c.dids.add(mask);
    else if (mask.startsWith('$a:')) c.accounts.add(foldCase(mask.slice(3)));
    else {
      const g = new CompiledMask(mask);
      const exact = g.exact;
      if (exact !== undefined) c.exact.add(exact);
      else c.globs.push(g);
    }
  }
  return c;
}
