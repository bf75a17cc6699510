/**
 * The `k` smallest strings of `items` (string `<` order, what Array.prototype.sort uses by
 * default), ascending, without sorting them all: a bounded max-heap of `k`, so O(n log k) time
 * and O(k) memory for n items (GET /api/v1/channels: one page of every public channel, #12).
 * Duplicates are kept as they come. Hand-written rather than a heap package: thirty lines, string
 * keys only, and no dependency to keep up on the request path.
 */
export function smallest(items: Iterable<string>, k: number): string[] {
  if (k <= 0) return [];
  const heap: string[] = []; // max-heap: heap[0] is the largest kept
  for (const s of items) {
    if (heap.length < k) {
      // sift up
      let i = heap.push(s) - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p]! >= heap[i]!) break;
        [heap[p], heap[i]] = [heap[i]!, heap[p]!];
        i = p;
      }
    } else if (s < heap[0]!) {
      // replace the largest, sift down
      heap[0] = s;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]! > heap[m]!) m = l;
        if (r < heap.length && heap[r]! > heap[m]!) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
  }
  return heap.sort();
}
