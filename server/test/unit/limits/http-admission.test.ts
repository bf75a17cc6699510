// #12 finding 4: the HTTP port's accept-time accounting in Admission (pure, with a fake clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Admission, type AdmissionConfig, type DescriptorBudget, type Ticket } from '../../../src/transport/admission.js';

function setup(over: Partial<AdmissionConfig> = {}, descriptors?: DescriptorBudget) {
  const hits: string[] = [];
  const a = new Admission({
    config: {
      maxConnectionsPerIp: 5, connectionThrottle: 1000, connectionThrottleWindow: 600_000, maxConnections: 10_000,
      limitExempt: [], throttleExempt: [], trustedProxies: ['10.0.0.1'], tlsHandshakeTimeout: 10_000,
      httpMaxConnectionsPerIp: 3, httpMaxConnections: 8, httpFdReserve: 10, ...over,
    },
    clock: { now: () => 1_000_000 }, lockdown: () => 'off', limitHit: (k) => hits.push(k), log: pino({ level: 'silent' }),
    ...(descriptors ? { descriptors } : {}),
  });
  return { a, hits };
}
const ok = (r: Ticket | string): Ticket => { assert.equal(typeof r, 'object', `expected a ticket, got ${typeof r === 'string' ? r : typeof r}`); return r as Ticket; };

test('HTTP per-IP cap, then the shared per-IP counter: HTTP + IRC of one IP bounded together', () => {
  const { a, hits } = setup();
  const h = [ok(a.admitHttp('192.0.2.1')), ok(a.admitHttp('192.0.2.1')), ok(a.admitHttp('192.0.2.1'))];
  assert.equal(a.admitHttp('192.0.2.1'), 'http-per-ip');
  assert.equal(a.countFor('192.0.2.1'), 3);
  ok(a.admit('192.0.2.1', 'tcp'));
  ok(a.admit('192.0.2.1', 'tcp'));
  assert.equal(a.admit('192.0.2.1', 'tcp'), 'per-ip', 'IRC refused: 3 HTTP + 2 IRC = 5');
  h[0]!.release();
  h[0]!.release(); // idempotent
  assert.equal(a.countFor('192.0.2.1'), 4);
  assert.equal(a.httpOpen, 2);
  ok(a.admit('192.0.2.1', 'ws'));
  assert.equal(a.admitHttp('192.0.2.1'), 'per-ip', 'under its HTTP cap (2 of 3) but the shared counter is full');
  assert.equal(a.httpOpen, 2, 'a refused attempt counts nowhere');
  assert.deepEqual(hits, ['http-per-ip', 'per-ip', 'per-ip']);
});

test('a trusted proxy peer is not counted per IP (only server-wide); the server-wide HTTP cap refuses everyone', () => {
  const { a, hits } = setup();
  for (let i = 0; i < 8; i++) ok(a.admitHttp('10.0.0.1'));
  assert.equal(a.countFor('10.0.0.1'), 0);
  assert.equal(a.admitHttp('192.0.2.9'), 'http-global');
  assert.deepEqual(hits, ['http-global']);
  assert.equal(a.open, 0, 'HTTP connections are not IRC connections (max-connections)');
});

test('descriptor reserve: refused once baseline + connections + lingering reach limit - reserve', () => {
  const { a } = setup({ httpMaxConnectionsPerIp: 100, httpMaxConnections: 100, maxConnectionsPerIp: 100 }, { limit: 50, baseline: 20 });
  const t: Ticket[] = [];
  for (let i = 0; i < 10; i++) t.push(ok(a.admitHttp(`192.0.2.${i + 1}`)));
  for (let i = 0; i < 9; i++) ok(a.admit(`198.51.100.${i + 1}`, 'tcp'));
  // 20 + 10 + 9 = 39 < 40
  ok(a.admitHttp('192.0.2.200'));
  assert.equal(a.admitHttp('192.0.2.201'), 'fd-reserve');
  t[0]!.release();
  assert.equal(a.admitHttp('192.0.2.202', 1), 'fd-reserve', 'lingering refused sockets hold descriptors too');
  ok(a.admitHttp('192.0.2.203'));
  // IRC itself is not held to the reserve
  ok(a.admit('198.51.100.99', 'tcp'));
});

test('an infinite descriptor limit is no reserve', () => {
  const { a } = setup({}, { limit: Infinity, baseline: 20 });
  ok(a.admitHttp('192.0.2.1'));
});
