import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { foldCase } from '../../../src/protocol/casemap.js';
import { CompiledMask } from '../../../src/protocol/mask-match.js';
import { maskMatch } from '../../../src/protocol/validate.js';

// #12 finding 13: ban lists are compiled once per change (CompiledMask) instead of matched with
// maskMatch per mask per message. Both must agree with the obvious definition of a glob.

/** Reference: dynamic programming over (mask position, text position); obviously right, slow. */
function globOracle(mask: string, text: string): boolean {
  const p = foldCase(mask);
  const t = foldCase(text);
  // dp[j] = p[0..i) matches t[0..j)
  let dp = new Array<boolean>(t.length + 1).fill(false);
  dp[0] = true;
  for (let i = 0; i < p.length; i++) {
    const next = new Array<boolean>(t.length + 1).fill(false);
    if (p[i] === '*') {
      let any = false;
      for (let j = 0; j <= t.length; j++) { any = any || dp[j]!; next[j] = any; }
    } else {
      for (let j = 1; j <= t.length; j++) next[j] = dp[j - 1]! && (p[i] === '?' || p[i] === t[j - 1]);
    }
    dp = next;
  }
  return dp[t.length]!;
}

// small alphabets so that matches are frequent; rfc1459 pairs ([ {, ] }, \ |, ~ ^) and A/a fold
const maskChar = fc.constantFrom('a', 'b', 'A', '*', '?', '!', '@', '[', '{', '~', '^', '.', '/', 'é');
const textChar = fc.constantFrom('a', 'b', 'B', '!', '@', '*', '?', ']', '}', '\\', '|', '.', '/', 'é');
const mask = fc.array(maskChar, { maxLength: 12 }).map((a) => a.join(''));
const text = fc.array(textChar, { maxLength: 16 }).map((a) => a.join(''));

describe('glob matching', () => {
  test('CompiledMask agrees with the oracle (fast-check)', () => {
    fc.assert(fc.property(mask, text, (m, t) => new CompiledMask(m).test(foldCase(t)) === globOracle(m, t)), { numRuns: 20_000 });
  });

  test('maskMatch agrees with the oracle (fast-check)', () => {
    fc.assert(fc.property(mask, text, (m, t) => maskMatch(m, t) === globOracle(m, t)), { numRuns: 20_000 });
  });

  test('realistic masks against realistic user masks', () => {
    const masks = ['*!*@*', 'nick!*@*', '*!*@freeq/guest/*', '*!user@*.example.org', 'n?ck!*@*', '*!*@127.0.0.*', '*!*@2001:db8::*',
      '[x]!*@*', '{X}!*@*', '*a*a*a*a*a*b', '*!~*@*', '**!**@**'];
    const texts = ['nick!user@host.example.org', 'NICK!user@freeq/guest/abcdef', '{x}!u@h', 'nack!*@127.0.0.1', 'a!b@2001:db8::1', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'];
    for (const m of masks) {
      const c = new CompiledMask(m);
      for (const t of texts) assert.equal(c.test(foldCase(t)), globOracle(m, t), `${m} vs ${t}`);
    }
  });

  test('a * in the mask is a wildcard even against a * in the text (maskMatch used to match it literally)', () => {
    assert.equal(maskMatch('a*b', 'a*xb'), true);
    assert.equal(new CompiledMask('a*b').test('a*xb'), true);
    assert.equal(maskMatch('*!a*b@*', 'n!a*xb@h'), true);
  });

  test('exact: masks without wildcards are plain strings (kept in a Set by MaskList)', () => {
    assert.equal(new CompiledMask('Nick!User@Host').exact, 'nick!user@host');
    assert.equal(new CompiledMask('n?ck!*@*').exact, undefined);
    assert.equal(new CompiledMask('').test(''), true);
    assert.equal(new CompiledMask('').test('x'), false);
  });
});
