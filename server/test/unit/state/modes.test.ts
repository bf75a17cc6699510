import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseChannelModes, parseUserModes, renderModeChanges, userModeString } from '../../../src/state/modes.js';

describe('parseChannelModes', () => {
  test('splits flags and parameter modes in order, tracking +/-', () => {
    const p = parseChannelModes('+o-v+b', ['alice', 'bob', 'x!*@*'], 20);
    assert.deepEqual(p.changes, [
      { adding: true, mode: 'o', param: 'alice' },
      { adding: false, mode: 'v', param: 'bob' },
      { adding: true, mode: 'b', param: 'x!*@*' },
    ]);
    assert.deepEqual(p.listQueries, []);
    assert.deepEqual(p.unknown, []);
    assert.deepEqual(p.missingParam, []);
  });

  test('a modestring without a sign means adding', () => {
    assert.deepEqual(parseChannelModes('im', [], 20).changes, [{ adding: true, mode: 'i' }, { adding: true, mode: 'm' }]);
  });

  test('list modes without a parameter are queries (deduplicated), with or without a sign', () => {
    const p = parseChannelModes('b+e-Ib', [], 20);
    assert.deepEqual(p.listQueries, ['b', 'e', 'I']);
    assert.deepEqual(p.changes, []);
  });

  test('+k and +l take a parameter, -l takes none, -k swallows one if given', () => {
    assert.deepEqual(parseChannelModes('+kl', ['sekrit', '10'], 20).changes, [
      { adding: true, mode: 'k', param: 'sekrit' },
      { adding: true, mode: 'l', param: '10' },
    ]);
    // -k's key is swallowed, so the next parameter goes to +o
    assert.deepEqual(parseChannelModes('-k+o', ['oldkey', 'alice'], 20).changes, [
      { adding: false, mode: 'k' },
      { adding: true, mode: 'o', param: 'alice' },
    ]);
    assert.deepEqual(parseChannelModes('-l+o', ['alice'], 20).changes, [
      { adding: false, mode: 'l' },
      { adding: true, mode: 'o', param: 'alice' },
    ]);
  });

  test('unknown letters are reported once each and do not consume parameters', () => {
    const p = parseChannelModes('+XoXZ', ['alice'], 20);
    assert.deepEqual(p.unknown, ['X', 'Z']);
    assert.deepEqual(p.changes, [{ adding: true, mode: 'o', param: 'alice' }]);
  });

  test('missing parameters are reported', () => {
    const p = parseChannelModes('+kov', [], 20);
    assert.deepEqual(p.missingParam, ['k', 'o', 'v']);
    assert.deepEqual(p.changes, []);
    assert.deepEqual(parseChannelModes('+l', [''], 20).missingParam, ['l']);
  });

  test('at most maxParamModes parameter changes are kept; flags are not counted', () => {
    const p = parseChannelModes('+vvvim', ['a', 'b', 'c'], 2);
    assert.deepEqual(p.changes, [
      { adding: true, mode: 'v', param: 'a' },
      { adding: true, mode: 'v', param: 'b' },
      { adding: true, mode: 'i' },
      { adding: true, mode: 'm' },
    ]);
  });

  test('extra parameters are ignored', () => {
    assert.deepEqual(parseChannelModes('+i', ['junk'], 20).changes, [{ adding: true, mode: 'i' }]);
  });
});

describe('parseUserModes', () => {
  test('known letters become changes; unknown letters set the flag', () => {
    assert.deepEqual(parseUserModes('+iwB-x'), {
      changes: [{ adding: true, mode: 'i' }, { adding: true, mode: 'w' }, { adding: true, mode: 'B' }],
      unknown: true,
    });
    assert.deepEqual(parseUserModes('-o+i'), { changes: [{ adding: false, mode: 'o' }, { adding: true, mode: 'i' }], unknown: false });
  });

  test('user modes are case-sensitive: b is not B', () => {
    assert.deepEqual(parseUserModes('+b'), { changes: [], unknown: true });
  });
});

describe('renderModeChanges', () => {
  test('groups signs and appends parameters in order', () => {
    assert.deepEqual(renderModeChanges([
      { adding: true, mode: 'o', param: 'alice' },
      { adding: true, mode: 'v', param: 'bob' },
      { adding: false, mode: 'k', param: '*' },
      { adding: false, mode: 'i' },
      { adding: true, mode: 'l', param: '5' },
    ]), ['+ov-ki+l', 'alice', 'bob', '*', '5']);
  });

  test('a leading minus is rendered; empty input renders an empty modestring', () => {
    assert.deepEqual(renderModeChanges([{ adding: false, mode: 'w' }]), ['-w']);
    assert.deepEqual(renderModeChanges([]), ['']);
  });
});

describe('userModeString', () => {
  test('canonical order, + alone when none', () => {
    assert.equal(userModeString(new Set(['B', 'w', 'i'])), '+iwB');
    assert.equal(userModeString(new Set()), '+');
  });
});
