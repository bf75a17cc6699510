import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { base32 } from 'multiformats/bases/base32';
import { checkCloakTemplates, cloakTemplateProblem, Cloaks, DEFAULT_DID_CLOAK, DEFAULT_GUEST_CLOAK } from '../../../src/state/cloak.js';

const KEY = Buffer.alloc(32, 7);
const defaults = { guestCloak: DEFAULT_GUEST_CLOAK, didCloak: DEFAULT_DID_CLOAK };
const mac = (key: Buffer, input: string) => base32.baseEncode(createHmac('sha256', key).update(input).digest().subarray(0, 10));

describe('state/cloak (#12)', () => {
  test('DID cloak: freeq/<method>/<80-bit HMAC of the whole DID>', () => {
    const c = new Cloaks(KEY, defaults);
    const did = 'did:plc:abcdefghijklmnopqrstuvwx';
    assert.equal(c.did(did), `freeq/plc/${mac(KEY, `did\0${did}`)}`);
    assert.match(c.did(did), /^freeq\/plc\/[a-z2-7]{16}$/);
    // the old cloak was the first 8 characters: these two shared it
    assert.notEqual(c.did('did:plc:abcdefghXXXX'), c.did('did:plc:abcdefghYYYY'));
    assert.match(c.did('did:web:Example.COM'), /^freeq\/web\/[a-z2-7]{16}$/);
    assert.match(c.did('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'), /^freeq\/key\/[a-z2-7]{16}$/);
    assert.match(c.did('did:WE_IRD:x'), /^freeq\/weird\/[a-z2-7]{16}$/, 'method reduced to [a-z0-9]');
    assert.match(c.did('not a did'), /^freeq\/did\/[a-z2-7]{16}$/);
  });

  test('guest cloak: one per IPv4 address / IPv6 /64; IPv4-mapped counts as IPv4; keyed', () => {
    const c = new Cloaks(KEY, defaults);
    assert.equal(c.guest('192.0.2.1'), `freeq/guest/${mac(KEY, 'ip\u0000192.0.2.1')}`);
    assert.notEqual(c.guest('192.0.2.1'), c.guest('192.0.2.2'));
    assert.equal(c.guest('::ffff:192.0.2.1'), c.guest('192.0.2.1'));
    assert.equal(c.guest('2001:db8:1:2::1'), c.guest('2001:db8:1:2:ffff::9'));
    assert.notEqual(c.guest('2001:db8:1:2::1'), c.guest('2001:db8:1:3::1'));
    assert.equal(c.guest('192.0.2.1').includes('192'), false);
    const other = new Cloaks(Buffer.alloc(32, 8), defaults);
    assert.notEqual(other.guest('192.0.2.1'), c.guest('192.0.2.1'), 'another key, other cloaks');
    assert.notEqual(other.did('did:plc:x'), c.did('did:plc:x'));
  });

  test('templates', () => {
    const c = new Cloaks(KEY, { guestCloak: '{hash}.guest.example', didCloak: 'u-{hash}.{method}.users.example' });
    assert.match(c.guest('192.0.2.1'), /^[a-z2-7]{16}\.guest\.example$/);
    assert.match(c.did('did:plc:abc'), /^u-[a-z2-7]{16}\.plc\.users\.example$/);
    assert.equal(cloakTemplateProblem('freeq/guest', 'guest'), 'must contain {hash}');
    assert.equal(cloakTemplateProblem('{method}/{hash}', 'guest'), 'unknown placeholder {method} (allowed: {hash})');
    assert.equal(cloakTemplateProblem('{hash}/{x', 'did'), 'unknown placeholder {x (allowed: {hash} {method})');
    for (const bad of ['{hash} x', '{hash}@x', '*{hash}', '{hash},x', '{hash}?', '{hash}:1', '/{hash}', `{hash}.${'a'.repeat(47)}`]) {
      assert.match(cloakTemplateProblem(bad, 'guest') ?? '', /^must expand to a host part/, bad);
    }
    assert.equal(cloakTemplateProblem(`{hash}.${'a'.repeat(46)}`, 'guest'), undefined, '63 characters fit');
    assert.equal(cloakTemplateProblem(DEFAULT_GUEST_CLOAK, 'guest'), undefined);
    assert.equal(cloakTemplateProblem(DEFAULT_DID_CLOAK, 'did'), undefined);
    assert.throws(() => checkCloakTemplates({ guestCloak: 'x', didCloak: DEFAULT_DID_CLOAK }), { message: 'guest-cloak "x": must contain {hash}' });
    assert.throws(() => new Cloaks(KEY, { guestCloak: DEFAULT_GUEST_CLOAK, didCloak: '{method}' }), { message: 'did-cloak "{method}": must contain {hash}' });
  });
});
