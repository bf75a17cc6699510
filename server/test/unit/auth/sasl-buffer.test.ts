import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SaslBuffer, chunkOutgoing, maxDecodedLength } from '../../../src/auth/sasl/buffer.js';
import { decodeBase64, encodeBase64Url } from '../../../src/auth/sasl/base64.js';

const A400 = 'A'.repeat(400);

describe('SASL framing buffer (IRCv3 sasl-3.1)', () => {
  test('a line shorter than 400 bytes is a whole response', () => {
    const b = new SaslBuffer(8192);
    assert.deepEqual(b.push('Zm9v'), { status: 'done', text: 'Zm9v' });
    assert.equal(b.pendingBytes, 0);
  });

  test('exactly 400 bytes means more follows; the next short line completes it', () => {
    const b = new SaslBuffer(8192);
    assert.deepEqual(b.push(A400), { status: 'more' });
    assert.deepEqual(b.push(A400), { status: 'more' });
    assert.equal(b.pendingBytes, 800);
    assert.deepEqual(b.push('QUJD'), { status: 'done', text: A400 + A400 + 'QUJD' });
  });

  test('+ ends a response that is an exact multiple of 400, and alone is the empty response', () => {
    const b = new SaslBuffer(8192);
    assert.deepEqual(b.push(A400), { status: 'more' });
    assert.deepEqual(b.push('+'), { status: 'done', text: A400 });
    assert.deepEqual(b.push('+'), { status: 'done', text: '' });
  });

  test('a line over 400 bytes is too long and drops what was buffered', () => {
    const b = new SaslBuffer(8192);
    b.push(A400);
    assert.deepEqual(b.push('A'.repeat(401)), { status: 'too-long' });
    assert.equal(b.pendingBytes, 0);
    // the byte length counts, not characters
    assert.deepEqual(b.push('é'.repeat(201)), { status: 'too-long' });
  });

  test('over the decoded total: stops at the first chunk that crosses it', () => {
    const b = new SaslBuffer(8192);
    // 27 × 400 chars decode to 8100 bytes; the 28th would be 8400 > 8192
    for (let i = 0; i < 27; i++) assert.deepEqual(b.push(A400), { status: 'more' }, `chunk ${i + 1}`);
    assert.deepEqual(b.push(A400), { status: 'too-big' });
    assert.equal(b.pendingBytes, 0);
    // 21 chunks (8400 base64 bytes = 6300 decoded) cross a 6000-byte limit on the 21st
    const small = new SaslBuffer(6000);
    for (let i = 0; i < 20; i++) assert.deepEqual(small.push(A400), { status: 'more' });
    assert.deepEqual(small.push(A400), { status: 'too-big' });
  });

  test('maxDecodedLength is the base64 bound', () => {
    assert.equal(maxDecodedLength(400), 300);
    assert.equal(maxDecodedLength(4), 3);
    assert.equal(maxDecodedLength(0), 0);
  });

  test('outgoing chunks: 400-byte pieces, + after an exact multiple (and for empty data)', () => {
    assert.deepEqual(chunkOutgoing('abc'), ['abc']);
    assert.deepEqual(chunkOutgoing(''), ['+']);
    assert.deepEqual(chunkOutgoing(A400), [A400, '+']);
    const s = 'B'.repeat(401);
    assert.deepEqual(chunkOutgoing(s), ['B'.repeat(400), 'B']);
    assert.deepEqual(chunkOutgoing(A400 + A400), [A400, A400, '+']);
  });
});

describe('SASL base64', () => {
  test('standard and url alphabets, padded or not', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01]);
    assert.deepEqual(decodeBase64('+//+AQ=='), bytes);
    assert.deepEqual(decodeBase64('-__-AQ=='), bytes);
    assert.deepEqual(decodeBase64('-__-AQ'), bytes);
    assert.equal(encodeBase64Url(bytes), '-__-AQ');
    assert.deepEqual(decodeBase64(''), Buffer.alloc(0));
  });

  test('garbage is rejected', () => {
    assert.equal(decodeBase64('ab!c'), undefined);
    assert.equal(decodeBase64('abcde'), undefined, 'length ≡ 1 (mod 4)');
    assert.equal(decodeBase64('ab=c'), undefined);
    assert.equal(decodeBase64('abc=='), undefined, 'padding past a quantum');
    assert.equal(decodeBase64('ATPROTO-CHALLENGE'), undefined, 'a mechanism name is never data');
    assert.equal(decodeBase64('PLAIN'), undefined);
  });
});
