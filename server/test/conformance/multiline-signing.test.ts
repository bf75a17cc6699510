import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { channelVenue, messageEvent } from '../../src/keys/chat-signature.js';
import { ed25519Signer, loginWithDidKey } from './sasl-helpers.js';

// draft/multiline + message signing: the server signs the combined message (lines joined with
// \n, as the reference's chat-signing vectors define for a multiline batch) once; the signature
// rides on the BATCH start, or on the first fallback line


describe('draft/multiline signing', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('+freeq.at/sig on the BATCH start (and first fallback line) verifies over the joined body', async () => {
    const alice = ed25519Signer();
    const a = await loginWithDidKey(srv, 'mlsigA', alice, ['batch', 'draft/multiline', 'message-tags']);
    const b = await loginWithDidKey(srv, 'mlsigB', ed25519Signer(), ['batch', 'draft/multiline', 'message-tags']);
    const p = await loginWithDidKey(srv, 'mlsigP', ed25519Signer(), ['message-tags']);
    for (const c of [a, b, p]) { c.send('JOIN #mlsig'); await c.expect(/ 366 /); }
    await a.sync();
    a.send('BATCH +s draft/multiline #mlsig', '@batch=s PRIVMSG #mlsig :signed ', '@batch=s;draft/multiline-concat PRIVMSG #mlsig :together', '@batch=s PRIVMSG #mlsig :second line', 'BATCH -s');
    const start = parse(await b.expect(/ BATCH \+/));
    const tag = start.tags.get('+freeq.at/sig');
    assert.ok(tag, 'the BATCH start is signed');
    const msgid = start.tags.get('msgid')!;
    const ev = (body: string) => messageEvent({ from: alice.did, msgid, target: channelVenue('#mlsig'), body });
    assert.equal(srv.server.context.signing.verify(tag, ev('signed together\nsecond line')), 'valid');
    assert.equal(srv.server.context.signing.verify(tag, ev('signed together')), 'invalid');
    const first = parse(await p.expect('PRIVMSG'));
    assert.equal(first.tags.get('+freeq.at/sig'), tag);
    assert.equal(first.tags.get('msgid'), msgid);
    const second = parse(await p.expect('PRIVMSG'));
    assert.equal(second.tags.has('+freeq.at/sig'), false);
    assert.equal(second.tags.has('msgid'), false);
    for (const c of [a, b, p]) c.destroy();
  });
});
