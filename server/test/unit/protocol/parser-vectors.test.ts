// The ircdocs parser-tests vectors (test/fixtures/irc-parser-tests, CC0) against our parser,
// serializer and mask matcher.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseLine } from '../../../src/protocol/parse.js';
import { serialize } from '../../../src/protocol/serialize.js';
import { maskMatch } from '../../../src/protocol/validate.js';

const FIXTURES = new URL('../../fixtures/irc-parser-tests/', import.meta.url);
function load<T>(name: string): T {
  return parseYaml(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

interface Atoms { tags?: Record<string, string | null>; source?: string; verb: string; params?: string[] }
const NO_LIMITS = { maxBodyBytes: 1 << 20, maxTagDataBytes: 1 << 20 };

describe('parser-tests msg-split.yaml → parseLine', () => {
  const { tests } = load<{ tests: Array<{ input: string; atoms: Atoms }> }>('msg-split.yaml');
  test('the vector file loaded', () => assert.ok(tests.length >= 35, `only ${tests.length} vectors`));
  for (const v of tests) {
    test(JSON.stringify(v.input), () => {
      const p = parseLine(Buffer.from(v.input, 'utf8'), NO_LIMITS);
      assert.ok(p.ok, `parse failed: ${JSON.stringify(p)}`);
      const m = p.msg;
      // we normalise alphabetic commands to upper case (verbs are case-insensitive)
      assert.equal(m.command, v.atoms.verb.toUpperCase());
      assert.equal(m.source, v.atoms.source ?? undefined);
      assert.deepEqual(m.params, v.atoms.params ?? []);
      const tags = Object.fromEntries(Object.entries(v.atoms.tags ?? {}).map(([k, val]) => [k, val ?? '']));
      assert.deepEqual(Object.fromEntries(m.tags), tags);
    });
  }
});

describe('parser-tests msg-join.yaml → serialize', () => {
  const { tests } = load<{ tests: Array<{ desc: string; atoms: Atoms; matches: string[] }> }>('msg-join.yaml');
  test('the vector file loaded', () => assert.ok(tests.length >= 15, `only ${tests.length} vectors`));
  for (const v of tests) {
    test(v.desc, () => {
      const tags = new Map(Object.entries(v.atoms.tags ?? {}).map(([k, val]) => [k, val ?? '']));
      const line = serialize({ tags, source: v.atoms.source, command: v.atoms.verb, params: v.atoms.params ?? [] });
      assert.ok(v.matches.includes(line), `${JSON.stringify(line)} is none of ${JSON.stringify(v.matches)}`);
      // and every accepted spelling parses back to the same atoms
      for (const alt of v.matches) {
        const p = parseLine(Buffer.from(alt, 'utf8'), NO_LIMITS);
        assert.ok(p.ok);
        assert.deepEqual(p.msg.params, v.atoms.params ?? [], alt);
        assert.deepEqual(p.msg.tags, tags, alt);
      }
    });
  }
});

describe('parser-tests mask-match.yaml → maskMatch', () => {
  const { tests } = load<{ tests: Array<{ mask: string; matches: string[]; fails: string[] }> }>('mask-match.yaml');
  test('the vector file loaded', () => assert.ok(tests.length >= 5));
  for (const v of tests) {
    test(v.mask, () => {
      for (const s of v.matches) assert.equal(maskMatch(v.mask, s), true, `${v.mask} should match ${s}`);
      for (const s of v.fails) assert.equal(maskMatch(v.mask, s), false, `${v.mask} should not match ${s}`);
    });
  }
});
