import { foldCase } from './casemap.js';

/**
 * A ban-style glob (`*` any run, `?` any one character; rfc1459 case-insensitive) compiled once,
 * then tested against already-folded text (#12 finding 13: ban lists were matched by folding the
 * mask and the text again for every mask of every message).
 *
 * Hand-written rather than a glob library: picomatch / micromatch / matcher compile to a RegExp,
 * where `a*a*a*a*…b` backtracks polynomially (any channel operator — a guest who created the
 * channel — chooses the masks), and they give `/` a meaning our cloaks (`freeq/plc/…`) must not
 * have. Here a mask is split at `*` into literal segments: the first is anchored at the start,
 * the last at the end, and each middle one is found leftmost in order — the classic greedy glob,
 * O(len(mask) × len(text)) at worst, equal to `maskMatch` (test/unit/protocol/mask-match.test.ts).
 */
export class CompiledMask {
  /** the folded segments between `*`s; a single segment when there is no `*` */
  private readonly segs: string[];
  private readonly starred: boolean;
  /** shortest text that can match: the segments' total length */
  private readonly minLen: number;

  constructor(readonly mask: string) {
    const folded = foldCase(mask);
    this.starred = folded.includes('*');
    this.segs = folded.split('*');
    this.minLen = this.segs.reduce((n, s) => n + s.length, 0);
  }

  /** No wildcard at all: the mask matches only itself (callers keep these in a Set). */
  get exact(): string | undefined {
    return !this.starred && !this.segs[0]!.includes('?') ? this.segs[0] : undefined;
  }

  /** Does this mask match `text`? `text` must already be folded with foldCase. */
  test(text: string): boolean {
    const segs = this.segs;
    if (!this.starred) return text.length === segs[0]!.length && segAt(segs[0]!, text, 0);
    if (text.length < this.minLen) return false;
    const first = segs[0]!;
    const last = segs[segs.length - 1]!;
    if (!segAt(first, text, 0) || !segAt(last, text, text.length - last.length)) return false;
    let pos = first.length;
    const end = text.length - last.length;
    for (let i = 1; i < segs.length - 1; i++) {
      const s = segs[i]!;
      if (s === '') continue;
      const at = find(s, text, pos, end);
      if (at === -1) return false;
      pos = at + s.length;
    }
    return pos <= end;
  }
}

/** Does segment `s` (may hold `?`) match `text` at `at`? */
function segAt(s: string, text: string, at: number): boolean {
  if (at < 0 || at + s.length > text.length) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== text.charCodeAt(at + i)) return false;
  }
  return true;
}

/** Leftmost position ≥ `from` where `s` matches and ends by `end`, or -1. */
function find(s: string, text: string, from: number, end: number): number {
  if (!s.includes('?')) {
    const at = text.indexOf(s, from);
    return at !== -1 && at + s.length <= end ? at : -1;
  }
  for (let at = from; at + s.length <= end; at++) if (segAt(s, text, at)) return at;
  return -1;
}
