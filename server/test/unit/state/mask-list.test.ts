import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { foldCase } from '../../../src/protocol/casemap.js';
import { maskMatch } from '../../../src/protocol/validate.js';
import { MaskList, type MaskSubject } from '../../../src/state/mask-list.js';

// #12 finding 13: a channel's +b/+e/+I list compiles its masks once per change. Its answer must be
// the old per-mask semantics: a DID entry matches the account exactly, `$a:` the account folded,
// anything else is a glob on `nick!user@cloak` or `nick!user@ip`.

interface Who { nick: string; user: string; host: string; ip: string; account?: string }

function subject(w: Who): MaskSubject {
  return { account: w.account, texts: [foldCase(`${w.nick}!${w.user}@${w.host}`), foldCase(`${w.nick}!${w.user}@${w.ip}`)] };
}

/** the pre-#12 Ops.matches, entry by entry */
function oldMatches(w: Who, mask: string): boolean {
  if (mask.startsWith('did:')) return w.account !== undefined && w.account === mask;
  if (mask.startsWith('$a:')) return w.account !== undefined && foldCase(w.account) === foldCase(mask.slice(3));
  return maskMatch(mask, `${w.nick}!${w.user}@${w.host}`) || maskMatch(mask, `${w.nick}!${w.user}@${w.ip}`);
}

const entry = (mask: string) => ({ mask, setBy: 'op!op@h', setAt: 0 });

const part = fc.constantFrom('a', 'b', 'A', 'x', '[', '{', '1');
const word = fc.array(part, { minLength: 1, maxLength: 4 }).map((a) => a.join(''));
const globPart = fc.array(fc.oneof(part, fc.constant('*'), fc.constant('?')), { minLength: 1, maxLength: 4 }).map((a) => a.join(''));
const who: fc.Arbitrary<Who> = fc.record({
  nick: word, user: word, host: fc.constantFrom('freeq/guest/abc', 'freeq/plc/xyz', 'h.example'), ip: fc.constantFrom('127.0.0.1', '10.0.0.2'),
  account: fc.option(fc.constantFrom('did:plc:aaa', 'did:plc:AAA', 'did:web:x'), { nil: undefined }),
});
const maskArb = fc.oneof(
  fc.tuple(globPart, globPart, fc.oneof(globPart, fc.constantFrom('freeq/guest/*', '127.0.0.*', '*.example'))).map(([n, u, h]) => `${n}!${u}@${h}`),
  fc.constantFrom('did:plc:aaa', 'did:plc:AAA', '$a:DID:PLC:AAA', '$a:did:web:x', '*!*@*', 'a!a@h.example'),
);

describe('MaskList', () => {
  test('matches exactly when some entry matched the old way (fast-check), through adds and removes', () => {
    fc.assert(fc.property(fc.array(maskArb, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), fc.array(who, { minLength: 1, maxLength: 5 }), (masks, removals, people) => {
      const list = new MaskList();
      const model: string[] = [];
      for (const m of masks) { list.add(entry(m)); model.push(m); }
      const check = () => { for (const w of people) assert.equal(list.matches(subject(w)), model.some((m) => oldMatches(w, m))); };
      check();
      for (const r of removals) {
        if (model.length === 0) break;
        const i = r % model.length;
        assert.equal(list.removeAt(i).mask, model[i]);
        model.splice(i, 1);
        check();
      }
    }), { numRuns: 3000 });
  });

  test('indexOf is case-insensitive (rfc1459); entries keep their order', () => {
    const list = new MaskList([entry('Nick[1]!*@*'), entry('*!*@host')]);
    assert.equal(list.indexOf('nick{1}!*@*'), 0);
    assert.equal(list.indexOf('*!*@HOST'), 1);
    assert.equal(list.indexOf('other!*@*'), -1);
    assert.deepEqual(list.entries.map((e) => e.mask), ['Nick[1]!*@*', '*!*@host']);
  });

  test('a list changed after a check is compiled again', () => {
    const list = new MaskList();
    const w = subject({ nick: 'bad', user: 'u', host: 'h', ip: '127.0.0.1' });
    assert.equal(list.matches(w), false);
    list.add(entry('BAD!*@*'));
    assert.equal(list.matches(w), true);
    list.removeAt(0);
    assert.equal(list.matches(w), false);
    list.add(entry('*!*@127.0.0.*'));
    assert.equal(list.matches(w), true);
  });
});
