import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AuthenticateAssembler, base64Encode, base64UrlDecode, base64UrlEncode, chunkAuthenticate, parseMessage, plainPayload, serialize,
} from '@freeq/protocol';
import { parseLine } from '../../../src/protocol/parse.js';

// @freeq/protocol (#15): the pieces the server, the SDK and the web client share, without Node's
// Buffer. Checked against Buffer's own encodings and against the server's byte-level parser.

test('base64 and base64url without Buffer agree with Buffer\'s, both ways, for any bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const b = Buffer.from(bytes);
    assert.equal(base64Encode(bytes), b.toString('base64'));
    assert.equal(base64UrlEncode(bytes), b.toString('base64url'));
    assert.deepEqual(base64UrlDecode(b.toString('base64url')), new Uint8Array(bytes));
  }), { numRuns: 500 });
  assert.equal(base64Encode('héllo'), Buffer.from('héllo').toString('base64'));
  assert.throws(() => base64UrlDecode('ab+c'), /invalid base64url/);
  assert.throws(() => base64UrlDecode('a'), /invalid base64url/);
  assert.equal(plainPayload('alice', 'pw'), Buffer.from('\0alice\0pw').toString('base64'));
});

test('a client reads every line the way the server does (same tags, source, command and params)', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9#&!@.*:-]{1,12}$/);
  const line = fc.tuple(
    fc.option(fc.array(fc.tuple(fc.stringMatching(/^\+?[a-z][a-z0-9-]{0,8}$/), fc.stringMatching(/^[a-z0-9 ;\\=]{0,8}$/)), { maxLength: 3 })),
    fc.option(word), fc.constantFrom('PRIVMSG', 'privmsg', '001', 'JOIN', 'x'), fc.array(word, { maxLength: 4 }), fc.option(fc.string({ maxLength: 20 })),
  ).map(([tags, source, command, middles, trailing]) => {
    const t = tags?.length ? `@${tags.map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\').replace(/;/g, '\\:').replace(/ /g, '\\s')}`).join(';')} ` : '';
    const tr = trailing === null ? '' : ` :${trailing.replace(/[\r\n\0]/g, '')}`;
    return `${t}${source ? `:${source} ` : ''}${command}${middles.map((m) => ` ${m.replace(/^:/, 'x')}`).join('')}${tr}`;
  });
  fc.assert(fc.property(line, (l) => {
    const server = parseLine(Buffer.from(l));
    const client = parseMessage(l);
    if (!server.ok) { assert.equal(client, undefined, l); return; }
    assert.ok(client, l);
    assert.deepEqual([client.tags, client.source, client.command, client.params], [server.msg.tags, server.msg.source, server.msg.command, server.msg.params], l);
    // and what a client serializes, the server reads back the same
    const again = parseLine(Buffer.from(serialize(client)));
    assert.ok(again.ok);
    assert.deepEqual(again.msg.params, client.params);
  }), { numRuns: 1000 });
});

test('SASL framing: 400-byte pieces and the + terminator, reassembled to the same payload', () => {
  for (const n of [0, 1, 399, 400, 401, 800, 1234]) {
    const payload = 'x'.repeat(n);
    const pieces = chunkAuthenticate(payload);
    assert.ok(pieces.every((p) => p.length <= 400));
    assert.equal(pieces.at(-1) === '+', n % 400 === 0);
    const asm = new AuthenticateAssembler();
    let out: string | undefined;
    for (const p of pieces) out = asm.push(p) ?? out;
    assert.equal(out, payload);
  }
});
