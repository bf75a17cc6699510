import { foldCase } from '../protocol/casemap.js';
import type { HybridClock } from './hlc.js';
import type { AccountStore } from './store.js';
import type { World } from './world.js';

/**
 * Nick ownership across servers (#14, docs/federation.md "Nick ownership"). Each binding DID →
 * nick carries the HLC stamp of its claim. Two servers that each gave one nick to a different DID
 * (during a split) agree once linked: the earlier claim keeps the nick, the lower DID on a tie;
 * and a DID's own binding is last-writer-wins by its claim (a DID that moved to another nick does
 * not move back when an older binding arrives). Every server applies the same rule to the same
 * claims, in any order, and ends with the same owners.
 */

/** the claim stamp of a binding from before claims were stamped (the earliest of all) */
export const ORIGINAL_CLAIM = '0000000000000.000000';

export interface Claim { did: string; claimed: string }

/** `a` keeps a nick that `b` claims too */
export function claimBefore(a: Claim, b: Claim): boolean {
  return a.claimed !== b.claimed ? a.claimed < b.claimed : a.did < b.did;
}

/**
 * The bindings DID → nick with their claim stamps (world.nickOwners, world.accountNicks), kept in
 * the accounts table; Ops makes the user-facing changes (renames, events) around them.
 */
export class NickClaims {
  constructor(
    private readonly world: World,
    private readonly accounts: AccountStore,
    private readonly clock: { now(): number },
    private readonly hlc: HybridClock,
  ) {}

  /** load the persisted bindings (startup) */
  restore(): void {
    for (const a of this.accounts.loadAll()) {
      if (a.nick === undefined) continue;
      const folded = foldCase(a.nick);
      if (this.world.nickOwners.has(folded)) continue; // cannot happen (UNIQUE), but never let two DIDs own one nick
      this.world.nickOwners.set(folded, a.did);
      this.world.accountNicks.set(a.did, { nick: a.nick, folded, claimed: a.nickClaimed ?? ORIGINAL_CLAIM });
    }
  }

  /**
   * The DID now owns `nick`, releasing the nick it owned before; persisted. Returns the claim's
   * stamp: `claimed` (a peer's claim), else the DID's own if it owned the nick already, else now.
   */
  bind(did: string, nick: string, claimed?: string): string {
    const folded = foldCase(nick);
    const old = this.world.accountNicks.get(did);
    if (old && old.folded !== folded && this.world.nickOwners.get(old.folded) === did) this.world.nickOwners.delete(old.folded);
    const stamp = claimed ?? (old?.folded === folded ? old.claimed : this.hlc.now());
    this.world.nickOwners.set(folded, did);
    this.world.accountNicks.set(did, { nick, folded, claimed: stamp });
    this.accounts.save({ did, nick, nickFolded: folded, nickClaimed: stamp, lastLoginAt: this.clock.now() });
    return stamp;
  }

  /**
   * A peer's claim of `nick` for `did` at `claimed`: 'stale' when this server knows a later claim
   * of that DID (nothing to do), 'refused' when another DID claimed the nick earlier, else 'bind'
   * (the caller binds it; a later claimant of the nick has lost it, here and persisted).
   */
  remoteClaim(did: string, nick: string, claimed: string): 'stale' | 'refused' | 'bind' {
    const folded = foldCase(nick);
    const mine = this.world.accountNicks.get(did);
    if (mine && (mine.claimed > claimed || (mine.claimed === claimed && mine.folded === folded))) return 'stale';
    const owner = this.world.nickOwners.get(folded);
    if (owner === undefined || owner === did) return 'bind';
    if (claimBefore({ did: owner, claimed: this.world.accountNicks.get(owner)?.claimed ?? ORIGINAL_CLAIM }, { did, claimed })) return 'refused';
    this.world.nickOwners.delete(folded);
    this.world.accountNicks.delete(owner);
    this.accounts.save({ did: owner, nick: null, lastLoginAt: 0 });
    return 'bind';
  }
}
