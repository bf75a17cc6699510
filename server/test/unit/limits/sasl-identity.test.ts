import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerContext } from '../../../src/commands/context.js';
import { allowSaslAttempt, SASL_IDENTITY_WINDOW_MS } from '../../../src/auth/sasl/identity-limit.js';

test('SASL: 30 attempts per (identity, IP) per 5 minutes, with a fake clock; case-folded identity; per server', () => {
  const clock = { t: 0, now() { return this.t; } };
  const server = { config: { saslAttemptsPerIdentity: 30 }, clock } as unknown as ServerContext;
  for (let i = 0; i < 30; i++) assert.equal(allowSaslAttempt(server, 'alice.example.com', '192.0.2.1'), true, `attempt ${i + 1}`);
  assert.equal(allowSaslAttempt(server, 'Alice.Example.COM', '192.0.2.1'), false, '31st (same identity, other case)');
  assert.equal(allowSaslAttempt(server, 'alice.example.com', '192.0.2.2'), true, 'another IP');
  assert.equal(allowSaslAttempt(server, 'bob.example.com', '192.0.2.1'), true, 'another identity');
  const other = { config: { saslAttemptsPerIdentity: 30 }, clock } as unknown as ServerContext;
  assert.equal(allowSaslAttempt(other, 'alice.example.com', '192.0.2.1'), true, 'another server instance has its own counts');
  clock.t = SASL_IDENTITY_WINDOW_MS - 1;
  assert.equal(allowSaslAttempt(server, 'alice.example.com', '192.0.2.1'), false, 'still inside the window');
  clock.t = SASL_IDENTITY_WINDOW_MS;
  assert.equal(allowSaslAttempt(server, 'alice.example.com', '192.0.2.1'), true, 'the first attempts left the window');
});
