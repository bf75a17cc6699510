/**
 * Concurrent connections per key (hardening A1), and requests in flight per key (identity lookup
 * quotas, identity/lookup-limits.ts). `tryAdd` / `add` and `remove` are paired by the caller;
 * keys at zero are dropped so memory follows the number of keys in use.
 */
export class ConcurrentLimiter<K = string> {
  private readonly counts = new Map<K, number>();

  constructor(private max: number) {}

  /** a new limit (REHASH): keys already over it keep their connections, new ones wait until they fall below */
  setMax(max: number): void { this.max = max; }

  /** false (and nothing counted) when `key` already has `max` connections */
  tryAdd(key: K): boolean {
    if (this.full(key)) return false;
    this.add(key);
    return true;
  }

  /** count without checking (exempt addresses still show up in the numbers) */
  add(key: K): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  remove(key: K): void {
    const n = this.counts.get(key);
    if (n === undefined) return;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  /** `key` is at `max` (a check before several limiters are committed together) */
  full(key: K): boolean { return this.count(key) >= this.max; }

  count(key: K): number { return this.counts.get(key) ?? 0; }

  get keys(): number { return this.counts.size; }
}
