// §4 property tests, parser and framing side: what unit/protocol/properties.test.ts does not
// cover — adversarial (not uniformly random) lines, exact rules for the error classes, and
// chunking-invariant framing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CLIENT_LINE_LIMITS, parseLine } from '../../src/protocol/parse.js';
import { LineReader } from '../../src/transport/line-reader.js';

const enc = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/** pieces that make parsers stumble */
const nasty = fc.oneof(
  fc.constantFrom([0x00], [0x0d], [0x0a], [0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x20], [0x3a], [0x40], [0x3b], [0x3d], [0x5c], [0x21]),
  fc.string({ maxLength: 12 }).map(enc),
  fc.string({ unit: 'grapheme', maxLength: 6 }).map(enc),
  fc.uint8Array({ maxLength: 16 }).map((a) => [...a]),
);
const command = fc.oneof(
  fc.constantFrom('PRIVMSG', 'NOTICE', 'TAGMSG', 'JOIN', 'PING', 'NICK', 'MODE', 'AUTHENTICATE', 'CAP', 'WHO', '001', 'privmsg', 'PRÏVMSG', '', '12', '1234'),
  fc.string({ maxLength: 20 }),
);
const tagSection = fc.oneof(
  fc.constant(''),
  fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.option(fc.string({ maxLength: 20 }))), { maxLength: 6 })
    .map((ts) => '@' + ts.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(';') + ' '),
  // huge: around the 4094-byte client limit and far beyond
  fc.integer({ min: 4000, max: 12000 }).map((n) => `@+x=${'y'.repeat(n)} `),
);
const ircish = fc.tuple(tagSection, fc.option(fc.string({ maxLength: 20 }).map((s) => `:${s} `)), command, fc.array(nasty, { maxLength: 8 }), fc.option(fc.string({ maxLength: 600 })))
  .map(([tags, src, cmd, parts, trailing]) => Buffer.from([
    ...enc(tags), ...enc(src ?? ''), ...enc(cmd),
    ...parts.flatMap((p) => [0x20, ...p]),
    ...(trailing === null ? [] : enc(` :${trailing}`)),
  ]));
const anyLine = fc.oneof(ircish, fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)));

const isUtf8 = (b: Buffer): boolean => { try { new TextDecoder('utf-8', { fatal: true }).decode(b); return true; } catch { return false; } };

describe('parseLine (adversarial lines)', () => {
  test('never throws; bad-char exactly when NUL/CR/LF occur; results are well-formed', () => {
    fc.assert(fc.property(anyLine, (b) => {
      const p = parseLine(b, CLIENT_LINE_LIMITS);
      const hasCtl = b.includes(0) || b.includes(0x0d) || b.includes(0x0a);
      if (hasCtl) { assert.deepEqual(p, { ok: false, error: 'bad-char' }); return; }
      if (!p.ok) { assert.ok(['empty', 'tags-too-long', 'bad-char', 'no-command'].includes(p.error)); return; }
      // printable ASCII only; letters-only commands are upper-cased (anything else is a 421)
      assert.match(p.msg.command, /^[\x21-\x7e]+$/);
      if (/^[A-Za-z]+$/.test(p.msg.command)) assert.equal(p.msg.command, p.msg.command.toUpperCase());
      for (const x of p.msg.params) assert.ok(!/[\0\r\n]/.test(x));
      for (const x of p.msg.params.slice(0, -1)) assert.ok(x !== '' && !x.includes(' ') && !x.startsWith(':'), 'middle params are single words');
      if (isUtf8(b)) assert.equal(p.invalidUtf8, false, 'valid UTF-8 is never flagged');
    }), { numRuns: 2000 });
  });

  test('tag data over 4094 bytes is always refused, never truncated', () => {
    fc.assert(fc.property(fc.integer({ min: 4095, max: 20000 }), fc.constantFrom('PRIVMSG #c :hi', 'TAGMSG #c', 'PING x'), (n, rest) => {
      const p = parseLine(Buffer.from(`@+k=${'v'.repeat(n - 3)} ${rest}`), CLIENT_LINE_LIMITS); // n bytes of tag data
      assert.deepEqual(p, { ok: false, error: 'tags-too-long' });
    }), { numRuns: 200 });
  });
});

describe('LineReader framing', () => {
  test('lines do not depend on how the bytes are chunked, and none exceeds readq', () => {
    const readq = 600;
    const frame = (chunks: Buffer[]): { lines: string[]; overflows: number; flood: boolean } => {
      const out = { lines: [] as string[], overflows: 0, flood: false };
      const r = new LineReader(readq, { line: (l) => out.lines.push(l.toString('latin1')), overflow: () => { out.overflows++; }, flood: () => { out.flood = true; } });
      for (const c of chunks) r.push(c);
      return out;
    };
    const stream = fc.array(fc.oneof(anyLine.map((b) => Buffer.concat([b, Buffer.from('\r\n')])), fc.uint8Array({ maxLength: 900 }).map((a) => Buffer.from(a))), { maxLength: 12 });
    fc.assert(fc.property(stream, fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }), (parts, cuts) => {
      const all = Buffer.concat(parts);
      const whole = frame([all]);
      const chunks: Buffer[] = [];
      let pos = 0, i = 0;
      while (pos < all.length) { const n = cuts[i++ % cuts.length]!; chunks.push(all.subarray(pos, pos + n)); pos += n; }
      const pieces = frame(chunks);
      assert.deepEqual(pieces.lines, whole.lines);
      for (const l of whole.lines) assert.ok(Buffer.byteLength(l, 'latin1') <= readq);
      assert.equal(pieces.overflows > 0, whole.overflows > 0);
    }), { numRuns: 500 });
  });
});
