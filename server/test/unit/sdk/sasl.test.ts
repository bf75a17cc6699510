import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthenticateAssembler, base64UrlDecode, buildLine, chunkAuthenticate, decodeChallenge, encodeResponse, parseMessage,
  plainPayload, SASL_CHUNK_SIZE,
} from '../../../../sdk/src/index.js';

const b64u = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

describe('sdk: AUTHENTICATE chunking (IRCv3 sasl-3.1)', () => {
  test('400-byte pieces, `+` after an exact multiple, `+` alone for an empty payload', () => {
    assert.equal(SASL_CHUNK_SIZE, 400);
    assert.deepEqual(chunkAuthenticate(''), ['+']);
    assert.deepEqual(chunkAuthenticate('abc'), ['abc']);
    assert.deepEqual(chunkAuthenticate('x'.repeat(399)), ['x'.repeat(399)]);
    assert.deepEqual(chunkAuthenticate('x'.repeat(400)), ['x'.repeat(400), '+']);
    assert.deepEqual(chunkAuthenticate('x'.repeat(401)), ['x'.repeat(400), 'x']);
    assert.deepEqual(chunkAuthenticate('x'.repeat(800)), ['x'.repeat(400), 'x'.repeat(400), '+']);
    const odd = 'ab'.repeat(500) + 'c';
    const parts = chunkAuthenticate(odd);
    assert.deepEqual(parts.map((p) => p.length), [400, 400, 201]);
    assert.equal(parts.join(''), odd);
  });

  test('the assembler reassembles what chunkAuthenticate produced, for every boundary', () => {
    for (const n of [0, 1, 399, 400, 401, 799, 800, 801, 1200, 4000]) {
      const payload = Array.from({ length: n }, (_, i) => 'ABCDEFGHIJ'[i % 10]).join('');
      const a = new AuthenticateAssembler();
      const parts = chunkAuthenticate(payload);
      let result: string | undefined;
      parts.forEach((p, i) => {
        result = a.push(p);
        if (i < parts.length - 1) {
          assert.equal(result, undefined, `n=${n}: complete too early at piece ${i}`);
          assert.equal(a.pending, true);
        }
      });
      assert.equal(result, payload, `n=${n}`);
      assert.equal(a.pending, false);
    }
  });

  test('the assembler keeps separate payloads apart and can be reset', () => {
    const a = new AuthenticateAssembler();
    assert.equal(a.push('x'.repeat(400)), undefined);
    a.reset();
    assert.equal(a.push('short'), 'short');
    assert.equal(a.push('+'), '');
  });
});

describe('sdk: ATPROTO-CHALLENGE encoding', () => {
  const challengeJson = '{"session_id":"c42","nonce":"bm9uY2Utbm9uY2U","timestamp":1700000000}';

  test('decodeChallenge returns the exact bytes and the fields (unpadded and padded input)', () => {
    for (const enc of [b64u(challengeJson), Buffer.from(challengeJson).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')]) {
      const ch = decodeChallenge(enc);
      assert.equal(Buffer.from(ch.bytes).toString('utf8'), challengeJson);
      assert.equal(ch.nonce, 'bm9uY2Utbm9uY2U');
      assert.equal(ch.sessionId, 'c42');
      assert.equal(ch.timestamp, 1700000000);
    }
  });

  test('decodeChallenge keeps the bytes verbatim (whitespace and key order are what gets signed)', () => {
    const odd = '{ "timestamp": 1, "nonce" : "n",  "extra":[1,2] }';
    const ch = decodeChallenge(b64u(odd));
    assert.deepEqual(Buffer.from(ch.bytes), Buffer.from(odd));
    assert.deepEqual(ch.fields.extra, [1, 2]);
  });

  test('decodeChallenge rejects bad base64, non-JSON, non-objects and a missing nonce', () => {
    assert.throws(() => decodeChallenge('not base64!'), /base64/);
    assert.throws(() => decodeChallenge('a+b/'), /base64/);
    assert.throws(() => decodeChallenge('A'), /base64/);
    assert.throws(() => decodeChallenge(b64u('{nope')), /JSON/);
    assert.throws(() => decodeChallenge(b64u('[1,2]')), /object/);
    assert.throws(() => decodeChallenge(b64u('{"session_id":"x"}')), /nonce/);
    assert.throws(() => decodeChallenge(b64u('{"nonce":""}')), /nonce/);
  });

  test('base64UrlDecode is strict about the alphabet', () => {
    assert.deepEqual(Buffer.from(base64UrlDecode('_-8')), Buffer.from([0xff, 0xef]));
    assert.throws(() => base64UrlDecode('ab$c'));
  });

  test('encodeResponse: base64url without padding, fields in order, optional fields omitted', () => {
    const enc = encodeResponse({ did: 'did:key:z6Mkx', method: 'crypto', signature: 'c2ln', challenge_nonce: 'n1' });
    assert.match(enc, /^[A-Za-z0-9_-]+$/);
    assert.equal(Buffer.from(enc, 'base64url').toString(), '{"did":"did:key:z6Mkx","method":"crypto","signature":"c2ln","challenge_nonce":"n1"}');
    const full = encodeResponse({ did: 'did:plc:a', method: 'pds-oauth', signature: 'tok', pds_url: 'http://localhost:1', dpop_proof: 'p.r.f', challenge_nonce: 'n2' });
    assert.deepEqual(JSON.parse(Buffer.from(full, 'base64url').toString()), {
      did: 'did:plc:a', method: 'pds-oauth', signature: 'tok', pds_url: 'http://localhost:1', dpop_proof: 'p.r.f', challenge_nonce: 'n2',
    });
    // a long response (e.g. an OAuth token) chunks and reassembles to the same JSON
    const long = encodeResponse({ did: 'did:plc:a', method: 'pds-session', signature: 'x'.repeat(1234), challenge_nonce: 'n' });
    const a = new AuthenticateAssembler();
    let out: string | undefined;
    for (const p of chunkAuthenticate(long)) out = a.push(p);
    assert.equal(JSON.parse(Buffer.from(out!, 'base64url').toString()).signature.length, 1234);
  });

  test('plainPayload: authzid NUL authcid NUL password, standard base64', () => {
    assert.equal(Buffer.from(plainPayload('alice.test', 'abcd-efgh-ijkl-mnop'), 'base64').toString(), '\0alice.test\0abcd-efgh-ijkl-mnop');
    assert.equal(Buffer.from(plainPayload('did:plc:x', 'pw', 'did:plc:x'), 'base64').toString(), 'did:plc:x\0did:plc:x\0pw');
  });
});

describe('sdk: line handling', () => {
  test('parseMessage handles tags, source, trailing and middle params', () => {
    const m = parseMessage('@time=2024-01-01T00:00:00.000Z;account=did:plc:x;esc=a\\sb\\:c :alice!a@freeq/plc/x PRIVMSG #chan :hello world');
    assert.deepEqual(m, {
      tags: new Map([['time', '2024-01-01T00:00:00.000Z'], ['account', 'did:plc:x'], ['esc', 'a b;c']]),
      source: 'alice!a@freeq/plc/x', command: 'PRIVMSG', params: ['#chan', 'hello world'],
    });
    assert.deepEqual(parseMessage('AUTHENTICATE +'), { tags: new Map(), command: 'AUTHENTICATE', params: ['+'] });
    assert.deepEqual(parseMessage(':irc.test 904 * :SASL authentication failed')?.params, ['*', 'SASL authentication failed']);
    assert.equal(parseMessage(''), undefined);
  });

  test('buildLine adds a trailing colon only when needed and refuses CR/LF/NUL', () => {
    assert.equal(buildLine('PRIVMSG', '#c', 'hi there'), 'PRIVMSG #c :hi there');
    assert.equal(buildLine('AUTHENTICATE', '+'), 'AUTHENTICATE +');
    assert.equal(buildLine('TOPIC', '#c', ''), 'TOPIC #c :');
    assert.equal(buildLine('PRIVMSG', '#c', ':)'), 'PRIVMSG #c ::)');
    assert.throws(() => buildLine('PRIVMSG', '#c', 'a\r\nQUIT'));
    assert.throws(() => buildLine('PRIVMSG', 'a b', 'x'));
  });
});
