import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { Admission, httpRefusal, type AdmissionConfig, type LockdownLevel, type Ticket } from '../../../src/transport/admission.js';

function setup(over: Partial<AdmissionConfig> = {}, level: LockdownLevel = 'off') {
  let t = 5_000_000;
  const clock = { now: () => t };
  const hits: string[] = [];
  let logged = '';
  const sink = new Writable({ write(c, _e, cb) { logged += String(c); cb(); } });
  const state = { level };
  const a = new Admission({
    config: {
      maxConnectionsPerIp: 20, connectionThrottle: 1000, connectionThrottleWindow: 600_000, maxConnections: 10_000,
      limitExempt: [], throttleExempt: [], trustedProxies: [], tlsHandshakeTimeout: 10_000, ...over,
    },
    clock, lockdown: () => state.level, limitHit: (k) => hits.push(k), log: pino({ level: 'debug' }, sink),
  });
  return { a, hits, state, advance: (ms: number) => { t += ms; }, logs: () => logged };
}

const ok = (r: Ticket | string): Ticket => { assert.equal(typeof r, 'object', `expected a ticket, got ${typeof r === 'string' ? r : typeof r}`); return r as Ticket; };

test('A1 unit: 2001:db8::1 … 2001:db8::15 (21 addresses, one /64) share one counter; the 21st is refused', () => {
  const { a, hits, logs } = setup();
  const tickets: Ticket[] = [];
  for (let i = 1; i <= 0x14; i++) tickets.push(ok(a.admit(`2001:db8::${i.toString(16)}`, 'tcp')));
  assert.equal(a.admit('2001:db8::15', 'ws'), 'per-ip');
  assert.deepEqual(hits, ['per-ip']);
  assert.match(logs(), /"msg":"per-IP limit reached"/);
  assert.match(logs(), /"ipKey":"2001:db8::\/64"/);
  ok(a.admit('2001:db8:0:1::1', 'tcp')); // the next /64 is someone else
  tickets[0]!.release();
  tickets[0]!.release(); // idempotent: must not free a second slot
  ok(a.admit('2001:db8::15', 'tls'));
  assert.equal(a.admit('2001:db8::16', 'tcp'), 'per-ip');
  assert.equal(a.countFor('2001:db8::99'), 20);
});

test('the per-IP warning is logged once per key per minute, not per refused connection', () => {
  const { a, logs, advance } = setup({ maxConnectionsPerIp: 1 });
  ok(a.admit('192.0.2.1', 'tcp'));
  for (let i = 0; i < 5; i++) assert.equal(a.admit('192.0.2.1', 'tcp'), 'per-ip');
  assert.equal(logs().match(/per-IP limit reached/g)?.length, 1);
  advance(60_000);
  assert.equal(a.admit('192.0.2.1', 'tcp'), 'per-ip');
  assert.equal(logs().match(/per-IP limit reached/g)?.length, 2);
  assert.match(logs(), /"suppressed":4/);
});

test('A2: throttle per key, refused attempts do not count, window reopens (fake clock)', () => {
  const { a, hits, advance } = setup({ connectionThrottle: 3, connectionThrottleWindow: 60_000 });
  for (let i = 0; i < 3; i++) ok(a.admit('198.51.100.1', 'tcp')).release();
  assert.equal(a.admit('198.51.100.1', 'tcp'), 'throttle');
  assert.equal(a.open, 0, 'a throttled attempt holds no slot');
  assert.equal(a.countFor('198.51.100.1'), 0);
  ok(a.admit('198.51.100.2', 'tcp'));
  advance(60_000);
  ok(a.admit('198.51.100.1', 'tcp'));
  assert.deepEqual(hits, ['throttle']);
});

test('throttle-exempt skips only the throttle; limit-exempt skips both, not the global cap', () => {
  const t = setup({ connectionThrottle: 1, maxConnectionsPerIp: 2, throttleExempt: ['127.0.0.0/8'] });
  ok(t.a.admit('127.0.0.5', 'tcp'));
  ok(t.a.admit('127.0.0.5', 'tcp'));
  assert.equal(t.a.admit('127.0.0.5', 'tcp'), 'per-ip', 'throttle-exempt is still counted per IP');

  const l = setup({ connectionThrottle: 1, maxConnectionsPerIp: 1, maxConnections: 5, limitExempt: ['192.0.2.0/24'] });
  for (let i = 0; i < 5; i++) ok(l.a.admit('192.0.2.9', 'tcp'));
  assert.equal(l.a.admit('192.0.2.9', 'tcp'), 'global');
  assert.equal(l.a.countFor('192.0.2.9'), 5, 'exempt connections still show up in the count');
});

test('A3: the server-wide cap counts every transport; a release frees it', () => {
  const { a, hits } = setup({ maxConnections: 3 });
  const t = [ok(a.admit('192.0.2.1', 'tcp')), ok(a.admit('192.0.2.2', 'ws')), ok(a.admit('192.0.2.3', 'tls'))];
  assert.equal(a.admit('192.0.2.4', 'ws'), 'global');
  t[1]!.release();
  ok(a.admit('192.0.2.4', 'ws'));
  assert.deepEqual(hits, ['global']);
});

test('I3: lockdown closed refuses all but limit-exempt; the level is read at each attempt', () => {
  const { a, hits, state } = setup({ limitExempt: ['10.0.0.0/8'] }, 'closed');
  assert.equal(a.admit('192.0.2.1', 'tcp'), 'lockdown');
  ok(a.admit('10.1.1.1', 'tcp'));
  state.level = 'sasl-only';
  ok(a.admit('192.0.2.1', 'tcp')); // sasl-only is enforced at registration, not here
  assert.deepEqual(hits, ['lockdown']);
});

test('HTTP refusals: 429 for per-IP/throttle, 503 for full/closed', () => {
  assert.match(httpRefusal('per-ip'), /^HTTP\/1\.1 429 Too Many Requests\r\n/);
  assert.match(httpRefusal('throttle'), /^HTTP\/1\.1 429 /);
  assert.match(httpRefusal('global'), /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*\r\n\r\nServer is full\n$/);
  assert.match(httpRefusal('lockdown'), /^HTTP\/1\.1 503 /);
});
