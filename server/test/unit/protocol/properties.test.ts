// fast-check properties of the pure protocol modules (hardening.md §4 "What we should do" 1).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IrcMessage } from '../../../src/protocol/message.js';
import { CLIENT_LINE_LIMITS, parseLine } from '../../../src/protocol/parse.js';
import { serialize, toWire } from '../../../src/protocol/serialize.js';
import { escapeTagValue, isValidTagKey, serializeTags, unescapeTagValue } from '../../../src/protocol/tags.js';
import { caseEquals, foldCase } from '../../../src/protocol/casemap.js';
import { clipUtf8, maskMatch } from '../../../src/protocol/validate.js';

const RUNS = { numRuns: 2000 };
const NO_LIMITS = { maxBodyBytes: 1 << 20, maxTagDataBytes: 1 << 20 };

// ---- generators -------------------------------------------------------------------------------

/** bytes biased towards the ones IRC syntax cares about */
const ircByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0x20, 0x3a, 0x40, 0x3b, 0x3d, 0x5c, 0x2b, 0x2f, 0x21, 0x23, 0x41, 0x61, 0x30) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x0d, 0x0a, 0x09, 0x80, 0xc3, 0xa9, 0xe2, 0xff, 0xf0) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const lineBytes = fc.oneof(
  fc.uint8Array({ maxLength: 700 }),
  fc.array(ircByte, { maxLength: 200 }).map((a) => Uint8Array.from(a)),
);

/** any well-formed Unicode text (no lone surrogates) without the bytes no line may carry */
const text = (constraints: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: 'grapheme', ...constraints }).map((s) => s.replace(/[\0\r\n]/g, ''));
const middleParam = text({ minLength: 1, maxLength: 20 })
  .map((s) => s.replace(/ /g, '_'))
  .filter((s) => s.length > 0 && s[0] !== ':');
const command = fc.oneof(fc.stringMatching(/^[A-Z]{1,12}$/), fc.stringMatching(/^[0-9]{3}$/));
const tagKey = fc.stringMatching(/^\+?(?:[a-z0-9][a-z0-9.-]{0,10}\/)?[A-Za-z0-9-]{1,12}$/);
const source = text({ minLength: 1, maxLength: 40 }).map((s) => s.replace(/ /g, '!')).filter((s) => s.length > 0);

const validMessage: fc.Arbitrary<IrcMessage> = fc.record({
  tags: fc.uniqueArray(fc.tuple(tagKey, text({ maxLength: 30 })), { maxLength: 5, selector: ([k]) => k }).map((e) => new Map(e)),
  source: fc.option(source, { nil: undefined }),
  command,
  params: fc.tuple(fc.array(middleParam, { maxLength: 13 }), fc.option(text({ maxLength: 60 }), { nil: undefined }))
    .map(([mid, last]) => (last === undefined ? mid : [...mid, last])),
}).map((r) => ({ ...r })); // plain prototype, as parseLine returns

/** Messages whose fields may carry anything a buggy caller could put there (except middle params
 * serialize() refuses outright: empty, with a space, or starting with ':'). */
const hostileMessage: fc.Arbitrary<IrcMessage> = fc.record({
  tags: fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 20 })), { maxLength: 4 }).map((e) => new Map(e)),
  source: fc.option(fc.string({ unit: 'binary', maxLength: 20 }), { nil: undefined }),
  command: fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
  params: fc.tuple(
    fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((s) => !s.includes(' ') && s[0] !== ':'), { maxLength: 5 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
  ).map(([mid, last]) => [...mid, last]),
});

// ---- parseLine --------------------------------------------------------------------------------

describe('parseLine', () => {
  test('never throws on arbitrary bytes, and its result is well-formed', () => {
    fc.assert(fc.property(lineBytes, (bytes) => {
      const p = parseLine(bytes);
      const buf = Buffer.from(bytes);
      if (buf.includes(0) || buf.includes(0x0d) || buf.includes(0x0a)) {
        assert.deepEqual(p, { ok: false, error: 'bad-char' });
        return;
      }
      if (!p.ok) {
        assert.ok(['empty', 'bad-char', 'no-command', 'tags-too-long'].includes(p.error));
        return;
      }
      assert.match(p.msg.command, /^[\x21-\x7e]+$/);
      for (const k of p.msg.tags.keys()) assert.ok(isValidTagKey(k), `kept invalid tag key ${k}`);
      p.msg.params.slice(0, -1).forEach((x) => assert.ok(x.length > 0 && !x.includes(' ') && x[0] !== ':'));
      if (p.msg.source !== undefined) assert.ok(!p.msg.source.includes(' '));
    }), { numRuns: 5000 });
  });

  test('line limits: 4094 bytes of tag data and 510 body bytes (512 with CRLF) are the maxima', () => {
    const tags = (n: number) => '@a=' + 'x'.repeat(n - 2);
    assert.equal(parseLine(Buffer.from(`${tags(4094)} PING x`)).ok, true);
    assert.deepEqual(parseLine(Buffer.from(`${tags(4095)} PING x`)), { ok: false, error: 'tags-too-long' });
    const body = (n: number) => 'PRIVMSG #c :' + 'y'.repeat(n - 12);
    const ok = parseLine(Buffer.from(body(510)), CLIENT_LINE_LIMITS);
    assert.ok(ok.ok && !ok.bodyTooLong);
    const long = parseLine(Buffer.from(`${tags(4094)} ${body(511)}`), CLIENT_LINE_LIMITS);
    assert.ok(long.ok && long.bodyTooLong, 'tag bytes do not count against the body');
  });

  test('flags invalid UTF-8 without rejecting the line', () => {
    const p = parseLine(Buffer.from([...Buffer.from('PRIVMSG #c :'), 0xff, 0xfe]));
    assert.ok(p.ok && p.invalidUtf8);
    const q = parseLine(Buffer.from('PRIVMSG #c :héllo ✓'));
    assert.ok(q.ok && !q.invalidUtf8);
  });

  test('empty and blank lines are "empty"; a non-ASCII command is malformed', () => {
    assert.deepEqual(parseLine(Buffer.from('')), { ok: false, error: 'empty' });
    assert.deepEqual(parseLine(Buffer.from('    ')), { ok: false, error: 'empty' });
    assert.deepEqual(parseLine(Buffer.from('PRÏVMSG x')), { ok: false, error: 'bad-char' });
    assert.deepEqual(parseLine(Buffer.from(':src')), { ok: false, error: 'no-command' });
    assert.deepEqual(parseLine(Buffer.from('@a=b')), { ok: false, error: 'no-command' });
  });
});

// ---- serialize / toWire -----------------------------------------------------------------------

describe('serialize', () => {
  test('parse(serialize(m)) round-trips every valid message', () => {
    fc.assert(fc.property(validMessage, (m) => {
      const line = serialize(m);
      const p = parseLine(Buffer.from(line, 'utf8'), NO_LIMITS);
      assert.ok(p.ok, `${JSON.stringify(line)} did not parse: ${JSON.stringify(p)}`);
      assert.deepEqual(p.msg, m, JSON.stringify(line));
      assert.equal(p.invalidUtf8, false);
    }), RUNS);
  });

  test('toWire: exactly one CRLF, at the end, and no NUL — whatever the fields contain', () => {
    fc.assert(fc.property(hostileMessage, (m) => {
      const wire = toWire(m);
      assert.equal(wire.subarray(-2).toString('latin1'), '\r\n');
      const body = wire.subarray(0, -2);
      assert.equal(body.indexOf(0x0d), -1);
      assert.equal(body.indexOf(0x0a), -1);
      assert.equal(body.indexOf(0x00), -1);
    }), RUNS);
  });

  test('toWire: injected tag keys cannot change the command', () => {
    fc.assert(fc.property(validMessage, fc.string({ unit: 'binary', maxLength: 12 }), (m, badKey) => {
      const tags = new Map(m.tags);
      tags.set(`x\r${badKey} QUIT`, '');
      tags.set(`y QUIT ${badKey}`, 'v');
      const wire = toWire({ ...m, tags });
      const p = parseLine(wire.subarray(0, -2), NO_LIMITS);
      assert.ok(p.ok);
      assert.equal(p.msg.command, m.command);
      assert.deepEqual(p.msg.params, m.params);
      assert.deepEqual(p.msg.tags, m.tags, 'invalid keys are dropped, valid ones kept');
    }), RUNS);
  });

  test('an invalid middle parameter is a programming error', () => {
    for (const bad of ['', 'a b', ':x']) {
      assert.throws(() => serialize({ tags: new Map(), command: 'MODE', params: [bad, 'x'] }), /invalid middle param/);
    }
  });
});

// ---- tags -------------------------------------------------------------------------------------

describe('tag values', () => {
  test('unescape(escape(v)) === v, and escaped values carry no ; SPACE CR LF', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (v) => {
      const e = escapeTagValue(v);
      assert.equal(unescapeTagValue(e), v);
      assert.ok(!/[; \r\n]/.test(e), JSON.stringify(e));
    }), RUNS);
  });

  test('escapes are exactly those of the message-tags spec', () => {
    assert.equal(escapeTagValue('a;b c\\d\re\nf'), 'a\\:b\\sc\\\\d\\re\\nf');
    assert.equal(unescapeTagValue('a\\:b\\sc\\\\d\\re\\nf'), 'a;b c\\d\re\nf');
    assert.equal(unescapeTagValue('x\\y'), 'xy', 'an unknown escape drops the backslash');
    assert.equal(unescapeTagValue('x\\'), 'x', 'a trailing backslash is dropped');
  });

  test('serializeTags writes keys without a value bare', () => {
    assert.equal(serializeTags(new Map([['a', ''], ['+b', 'c d']])), 'a;+b=c\\sd');
  });
});

// ---- casemapping ------------------------------------------------------------------------------

describe('rfc1459 casemapping', () => {
  test('foldCase is idempotent and maps A-Z [ ] \\ ~ to a-z { } | ^', () => {
    assert.equal(foldCase('ABC[]\\~xyz{}|^'), 'abc{}|^xyz{}|^');
    assert.equal(foldCase('Ünïcode'), 'Ünïcode'.replace('U', 'u').replace(/[A-Z]/g, (c) => c.toLowerCase()));
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      const f = foldCase(s);
      assert.equal(foldCase(f), f);
      assert.equal(f.length, s.length);
      assert.ok(!/[A-Z[\]\\~]/.test(f));
      // only the rfc1459 pairs change
      for (let i = 0; i < s.length; i++) {
        const c = s[i]!;
        const expect = /[A-Z]/.test(c) ? c.toLowerCase() : ({ '[': '{', ']': '}', '\\': '|', '~': '^' } as Record<string, string>)[c] ?? c;
        assert.equal(f[i], expect);
      }
    }), RUNS);
  });

  test('caseEquals agrees with foldCase and treats the pairs as equal', () => {
    assert.ok(caseEquals('Nick[away]', 'nick{AWAY}'));
    assert.ok(caseEquals('a\\b~', 'A|B^'));
    assert.ok(!caseEquals('nick_', 'nick-'));
    fc.assert(fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
      assert.equal(caseEquals(a, b), foldCase(a) === foldCase(b));
      assert.equal(caseEquals(a, b), caseEquals(b, a));
    }), RUNS);
  });

  test('maskMatch: a literal mask matches itself case-insensitively, * matches anything', () => {
    const literal = fc.string({ maxLength: 20 }).map((s) => s.replace(/[*?]/g, ''));
    fc.assert(fc.property(literal, (s) => {
      assert.ok(maskMatch(s, s));
      assert.ok(maskMatch(s.toUpperCase(), s.toLowerCase()) === (foldCase(s.toUpperCase()) === foldCase(s.toLowerCase())));
      assert.ok(maskMatch('*', s));
      assert.ok(maskMatch(`*${s}*`, `xx${s}yy`));
    }), RUNS);
    // no exponential blow-up on a pathological mask
    const t0 = Date.now();
    assert.equal(maskMatch('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
    assert.ok(Date.now() - t0 < 1000);
  });
});

// ---- clipUtf8 ---------------------------------------------------------------------------------

describe('clipUtf8', () => {
  test('never splits a character: the result is the longest whole-character prefix within the limit', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.nat({ max: 200 }), (s, max) => {
      const out = clipUtf8(s, max);
      const outBytes = Buffer.from(out, 'utf8');
      assert.ok(outBytes.length <= max);
      assert.ok(s.startsWith(out), 'a prefix of the input');
      assert.ok(!out.includes('\uFFFD') || s.includes('\uFFFD'), 'no replacement character introduced');
      if (out.length < s.length) {
        const next = String.fromCodePoint(s.codePointAt(out.length)!);
        assert.ok(outBytes.length + Buffer.byteLength(next) > max, 'the next character would not have fit');
      }
    }), RUNS);
  });

  test('examples', () => {
    assert.equal(clipUtf8('héllo', 2), 'h');
    assert.equal(clipUtf8('héllo', 3), 'hé');
    assert.equal(clipUtf8('😀x', 3), '');
    assert.equal(clipUtf8('😀x', 4), '😀');
    assert.equal(clipUtf8('abc', 10), 'abc');
  });
});
