/**
 * Concurrent connections per key (hardening A1). `tryAdd` and `remove` are paired by the caller;
 * keys at zero are dropped so memory follows the number of connected keys.
 */
export class ConcurrentLimiter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** false (and nothing counted) when `key` already has `max` connections */
  tryAdd(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  /** count without checking (exempt addresses still show up in the numbers) */
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  remove(key: string): void {
    const n = this.counts.get(key);
    if (n === undefined) return;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  count(key: string): number { return this.counts.get(key) ?? 0; }

  get keys(): number { return this.counts.size; }
}
