// identity/lookup-limits.ts (#12 finding 6): the layered slots of outbound identity requests,
// driven with a manual clock.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DNS_HOST, LookupLimits, type LookupRequester } from '../../../src/identity/lookup-limits.js';

const PLC = 'plc.example';

function limits(over: Partial<ConstructorParameters<typeof LookupLimits>[0]> = {}) {
  const clock = { t: 1_000_000 };
  const l = new LookupLimits({
    maxInFlight: 10, reserved: 4, perHost: 3, perIp: 2, perConnection: 1, hostFailureTtlMs: 60_000,
    trustedHosts: [PLC], now: () => clock.t, ...over,
  });
  return { l, clock };
}

const client = (conn: number, ip: string): LookupRequester => ({ conn, ip });

describe('LookupLimits', () => {
  test('one request in flight per connection, per-IP quota across connections; released slots are reusable', () => {
    const { l } = limits();
    const a1 = client(1, '192.0.2.1'), a2 = client(2, '192.0.2.1'), a3 = client(3, '192.0.2.1');
    assert.equal(l.tryAcquire('h1', a1, false), undefined);
    assert.equal(l.tryAcquire('h2', a1, false), 'connection');
    assert.equal(l.tryAcquire('h2', a2, false), undefined);
    assert.equal(l.tryAcquire('h3', a3, false), 'ip', 'third connection of the same IP');
    assert.equal(l.tryAcquire('h3', client(4, '192.0.2.2'), false), undefined, 'another IP is not affected');
    l.release('h1', a1);
    assert.equal(l.tryAcquire('h3', a3, false), undefined);
    assert.equal(l.inFlight, 3);
  });

  test('per-host cap, except for configured services', () => {
    const { l } = limits({ perIp: 100, perConnection: 100, maxInFlight: 100, reserved: 0 });
    for (let i = 0; i < 3; i++) assert.equal(l.tryAcquire('dead.example', client(i, `ip${i}`), false), undefined);
    assert.equal(l.tryAcquire('dead.example', client(9, 'ip9'), false), 'host');
    assert.equal(l.tryAcquire('other.example', client(9, 'ip9'), false), undefined);
    for (let i = 0; i < 10; i++) assert.equal(l.tryAcquire(PLC, client(20 + i, `p${i}`), false), undefined);
  });

  test('the reserved share: only priority requests (or requests to a configured service) take the last slots', () => {
    const { l } = limits({ perHost: 100, perIp: 100, perConnection: 100 });
    for (let i = 0; i < 6; i++) assert.equal(l.tryAcquire(`web${i}`, client(i, 'x'), false), undefined);
    assert.equal(l.tryAcquire('web9', client(50, 'y'), false), 'reserved');
    assert.equal(l.tryAcquire('web9', undefined, false), 'reserved', 'unattributed requests too');
    // no client is promoted (a PDS call is never priority, whatever identity it is made for)
    assert.equal(l.tryAcquire('pds.example', client(51, 'y'), false), 'reserved', 'a PDS call');
    assert.equal(l.tryAcquire(DNS_HOST, client(51, 'y'), false), 'reserved', 'a DNS TXT lookup');
    assert.equal(l.tryAcquire('pds.example', client(51, 'y'), true), undefined, 'a priority request');
    assert.equal(l.tryAcquire('web.example', client(52, 'y'), true), undefined, 'a priority request (cached DID refresh)');
    assert.equal(l.tryAcquire(PLC, client(53, 'z'), false), undefined, 'the PLC directory');
    assert.equal(l.tryAcquire(PLC, client(54, 'z'), false), undefined);
    assert.equal(l.inFlight, 10);
    assert.equal(l.tryAcquire(PLC, client(55, 'z'), false), 'global', 'the global cap binds everyone');
  });

  test('reserved is clamped so one slot stays open to everyone', () => {
    const { l } = limits({ maxInFlight: 2, reserved: 5, perHost: 10, perIp: 10, perConnection: 10 });
    assert.equal(l.tryAcquire('a', client(1, 'x'), false), undefined);
    assert.equal(l.tryAcquire('b', client(2, 'x'), false), 'reserved');
  });

  test('a host that timed out is refused for the TTL (before any quota is taken); configured services never are', () => {
    const { l, clock } = limits();
    l.hostTimedOut('dead.example');
    l.hostTimedOut(PLC);
    assert.equal(l.tryAcquire('dead.example', client(1, 'x'), true), 'host-down');
    assert.equal(l.inFlight, 0);
    assert.equal(l.tryAcquire(PLC, client(1, 'x'), false), undefined);
    l.release(PLC, client(1, 'x'));
    clock.t += 59_999;
    assert.equal(l.tryAcquire('dead.example', client(1, 'x'), false), 'host-down');
    clock.t += 1;
    assert.equal(l.tryAcquire('dead.example', client(1, 'x'), false), undefined);
  });

  test('DNS lookups (pseudo-host dns:) count against the connection, IP and global quotas, never per host or host-down', () => {
    const { l } = limits({ perHost: 1, perIp: 2, perConnection: 1, maxInFlight: 4, reserved: 0 });
    assert.equal(l.tryAcquire(DNS_HOST, client(1, 'x'), false), undefined);
    assert.equal(l.tryAcquire('web.example', client(1, 'x'), false), 'connection', 'the connection has its DNS lookup in flight');
    assert.equal(l.tryAcquire(DNS_HOST, client(2, 'x'), false), undefined, 'no per-host cap on dns:');
    assert.equal(l.tryAcquire(DNS_HOST, client(3, 'x'), false), 'ip');
    l.hostTimedOut(DNS_HOST);
    assert.equal(l.tryAcquire(DNS_HOST, client(4, 'y'), false), undefined, 'dns: is never marked down');
    assert.equal(l.tryAcquire(DNS_HOST, client(5, 'z'), false), undefined);
    assert.equal(l.tryAcquire(DNS_HOST, client(6, 'w'), false), 'global');
    l.release(DNS_HOST, client(1, 'x'));
    assert.equal(l.tryAcquire('web.example', client(1, 'x'), false), undefined);
  });

  test('host-failure TTL 0 disables the negative cache', () => {
    const { l } = limits({ hostFailureTtlMs: 0 });
    l.hostTimedOut('dead.example');
    assert.equal(l.tryAcquire('dead.example', client(1, 'x'), false), undefined);
  });
});
