import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerContext } from '../../../src/context.js';
import authenticate, { SASL_IDENTITY_WINDOW_MS } from '../../../src/commands/authenticate.js';
import { Dispatcher } from '../../../src/commands/dispatch.js';
import type { Session } from '../../../src/session/session.js';

// AUTHENTICATE declares its D2 limit in the command table (scope: server); the dispatcher keeps the counts
test('SASL: 30 attempts per (identity, IP) per 5 minutes, with a fake clock; per server; refusals counted', () => {
  const clock = { t: 0, now() { return this.t; } };
  const hits: string[] = [];
  const fakeServer = () => ({
    config: { saslAttemptsPerIdentity: 30 }, clock, metrics: { limitHit: (k: string) => hits.push(k) },
  }) as unknown as ServerContext;
  const session = { user: { isOper: false } } as unknown as Session;
  const server = new Dispatcher(fakeServer(), [authenticate]);
  const spec = authenticate.rate!;
  const attempt = (d: Dispatcher, key: string) => d.gate(spec, session).take(key);
  for (let i = 0; i < 30; i++) assert.equal(attempt(server, 'alice.example.com 192.0.2.1'), true, `attempt ${i + 1}`);
  assert.equal(attempt(server, 'alice.example.com 192.0.2.1'), false, '31st');
  assert.deepEqual(hits, ['sasl-rate']);
  assert.equal(attempt(server, 'alice.example.com 192.0.2.2'), true, 'another IP');
  assert.equal(attempt(server, 'bob.example.com 192.0.2.1'), true, 'another identity');
  const other = new Dispatcher(fakeServer(), [authenticate]);
  assert.equal(attempt(other, 'alice.example.com 192.0.2.1'), true, 'another server instance has its own counts');
  const otherSession = { user: { isOper: true } } as unknown as Session;
  assert.equal(server.gate(spec, otherSession).take('alice.example.com 192.0.2.1'), false, 'shared across connections, operators included');
  clock.t = SASL_IDENTITY_WINDOW_MS - 1;
  assert.equal(attempt(server, 'alice.example.com 192.0.2.1'), false, 'still inside the window');
  clock.t = SASL_IDENTITY_WINDOW_MS;
  assert.equal(attempt(server, 'alice.example.com 192.0.2.1'), true, 'the first attempts left the window');
});
