import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { hasForbiddenChannelChars, isValidChannelName } from '../../../src/protocol/validate.js';

// #12 finding 15: channel names accepted DEL, C1 controls, bidi overrides and zero-width characters.

const hex = (c: string) => [...c].map((x) => `U+${x.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');

describe('channel name characters', () => {
  const forbidden: string[] = [
    '\x7f', // DEL
    ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)), // C1 U+0080–U+009F
    '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', // bidi embeddings / overrides
    '\u2066', '\u2067', '\u2068', '\u2069', // bidi isolates
    '\u200e', '\u200f', '\u061c', // bidi marks
    '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', // zero-width space / joiners, word joiner, BOM
    '\u00ad', '\u180e', '\u2061', '\u{e0041}', // soft hyphen, Mongolian vowel separator, invisible times, a tag character
    '\u00a0', '\u2000', '\u3000', '\u2028', '\u2029', // Unicode spaces and separators
    '\u3164', '\u115f', '\u034f', // blank-looking fillers
    '\x01', '\x07', '\x1f', ' ', ',', ':', // what was already refused
  ];
  for (const c of forbidden) {
    test(`refused: ${hex(c)}`, () => {
      const name = `#a${c}b`;
      assert.equal(hasForbiddenChannelChars(name), true);
      assert.equal(isValidChannelName(name, 64), false);
    });
  }

  test('ordinary names, accents, CJK and emoji (with a variation selector) are accepted', () => {
    for (const name of ['#freeq', '#a-b_c.d', '#café', '#中文', '#😀', '#❤️', '#[x]^{y}|~', '#a!b@c', '#🏳️\u200d🌈'.replace('\u200d', '')]) {
      assert.equal(isValidChannelName(name, 64), true, name);
    }
  });

  test('the character rule is independent of the length rule', () => {
    const long = `#${'a'.repeat(80)}`;
    assert.equal(hasForbiddenChannelChars(long), false);
    assert.equal(isValidChannelName(long, 64), false);
    assert.equal(isValidChannelName('#', 64), false);
  });
});
