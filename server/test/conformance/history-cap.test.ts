// #12 finding 8 (history part): history-max-bytes caps the stored bytes of all history; beyond it
// the oldest messages of any venue are deleted first, and /metrics reports freeq_history_bytes and
// freeq_history_evicted_total. The running total survives a restart.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { history, HISTORY_CAPS } from './history-helpers.js';

const CAP = 32 * 1024;
const TEXT = 'x'.repeat(400);

async function metric(srv: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${srv.webPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

describe('#12: history-max-bytes', () => {
  test('over the cap the oldest messages of all venues go first; the metrics say how much is kept and how much went', async () => {
    let srv = await bootServer({ 'history-max-bytes': String(CAP) });
    try {
      const alice = await srv.client('alice', { caps: HISTORY_CAPS });
      alice.send('JOIN #old,#new');
      await alice.expect(/ 366 alice #new /);
      for (let i = 0; i < 100; i++) alice.send(`PRIVMSG #old :old ${i} ${TEXT}`);
      await alice.sync();
      for (let i = 0; i < 200; i++) alice.send(`PRIVMSG #new :new ${i} ${TEXT}`);
      await alice.sync();

      // #old is older than everything in #new: all of it went before any of #new
      assert.deepEqual((await history(alice, 'CHATHISTORY LATEST #old * 500')).items, []);
      const kept = (await history(alice, 'CHATHISTORY LATEST #new * 500')).items.map((l) => parse(l).params[1]!.split(' ').slice(0, 2).join(' '));
      assert.ok(kept.length > 10 && kept.length < 200, `some of #new kept: ${kept.length}`);
      // the newest ones, contiguous
      assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => `new ${200 - kept.length + i}`));
      const rest = await (await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/channels/%23new/history?limit=200`)).json() as { messages: { text: string }[] };
      assert.equal(rest.messages.length, kept.length, 'REST shows the same');

      const bytes = await metric(srv, 'freeq_history_bytes');
      assert.ok(bytes <= CAP && bytes > CAP - 2000, `stored bytes just under the cap: ${bytes}`);
      assert.equal(await metric(srv, 'freeq_history_evicted_total'), 100 + 200 - kept.length);

      // the running total is stored with the rows: the same after a restart
      srv = await srv.restart();
      assert.equal(await metric(srv, 'freeq_history_bytes'), bytes);
      assert.equal(await metric(srv, 'freeq_history_evicted_total'), 0, 'evictions are counted per run');
    } finally {
      await srv.stop();
    }
  });
});
