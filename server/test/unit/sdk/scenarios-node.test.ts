import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FreeqClient } from '../../../../sdk/src/index.js';
import { CheckError, deepEqual, equal, match, ok, rejects } from '../../sdk-scenarios/check.js';
import { ScenarioHost } from '../../sdk-scenarios/host.js';
import { runScenario, scenarios } from '../../sdk-scenarios/scenarios.js';

// The SDK's integration scenarios (#15, test/sdk-scenarios/scenarios.ts) with the Node client
// (sdk/src/index.ts) against a real server, over the IRCv3 WebSocket and over plain TCP. The same
// scenarios run in headless Chromium with the browser client: test/browser/sdk-browser.test.ts.

for (const transport of ['ws', 'irc'] as const) {
  describe(`SDK scenarios: the Node client over ${transport}://`, () => {
    for (const s of scenarios) {
      test(s.name, { timeout: 60_000 }, async () => {
        const host = await ScenarioHost.boot(s.serverOptions);
        try {
          await runScenario(s.name, { url: transport === 'ws' ? host.wsUrl : host.ircUrl, makeClient: (o) => new FreeqClient(o), server: host });
        } finally {
          await host.stop();
        }
      });
    }
  });
}

// the scenarios' checks (check.ts) fail when they should: a scenario that cannot fail tests nothing
test('the scenarios\' assertion helpers throw on a mismatch, and only then', async () => {
  assert.throws(() => ok(0, 'zero'), CheckError);
  assert.throws(() => equal<unknown>('1', 1), /expected 1, got "1"/);
  assert.throws(() => deepEqual([1, [2, { a: 3 }]], [1, [2, { a: 4 }]]), CheckError);
  assert.throws(() => deepEqual<unknown>({ a: 1 }, { a: 1, b: undefined }), CheckError);
  assert.throws(() => deepEqual<unknown>([1, 2], [1, 2, 3]), CheckError);
  assert.throws(() => deepEqual<unknown>(null, {}), CheckError);
  assert.throws(() => match('abc', /^b/), CheckError);
  await assert.rejects(rejects(Promise.resolve(1), /./), /expected a rejection/);
  await assert.rejects(rejects(Promise.reject(new Error('no')), /yes/), /does not match/);
  ok(1);
  equal('a', 'a');
  deepEqual({ a: [1, null, 'x'], b: { c: true } }, { b: { c: true }, a: [1, null, 'x'] });
  match('abc', /b/);
  await rejects(Promise.reject(new Error('yes')), /yes/);
});
