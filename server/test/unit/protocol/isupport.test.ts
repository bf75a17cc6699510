import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadConfig } from '../../../src/config/load.js';
import { isupportLines, isupportTokens } from '../../../src/protocol/isupport.js';
import { bootServer } from '../../harness/server.js';
import { parse } from '../../harness/raw-client.js';

function tokenMap(tokens: readonly string[]): Map<string, string> {
  return new Map(tokens.map((t) => {
    const eq = t.indexOf('=');
    return eq === -1 ? [t, ''] : [t.slice(0, eq), t.slice(eq + 1)];
  }));
}

describe('RPL_ISUPPORT tokens', () => {
  test('every limit token equals its configured value', () => {
    const limits = fc.record({
      'nick-len': fc.integer({ min: 1, max: 64 }),
      'channel-len': fc.integer({ min: 2, max: 64 }),
      'topic-len': fc.integer({ min: 1, max: 390 }),
      'kick-len': fc.integer({ min: 1, max: 390 }),
      'away-len': fc.integer({ min: 1, max: 390 }),
      'user-len': fc.integer({ min: 1, max: 64 }),
      'max-channels': fc.integer({ min: 1, max: 10000 }),
      'max-targets': fc.integer({ min: 1, max: 100 }),
      'max-list-entries': fc.integer({ min: 1, max: 10000 }),
      'max-modes': fc.integer({ min: 1, max: 100 }),
      'monitor-limit': fc.integer({ min: 1, max: 10000 }),
      'network-name': fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/),
    });
    fc.assert(fc.property(limits, (cli) => {
      const c = loadConfig({ env: {}, cli });
      const t = tokenMap(isupportTokens(c));
      assert.equal(t.get('NICKLEN'), String(cli['nick-len']));
      assert.equal(t.get('CHANNELLEN'), String(cli['channel-len']));
      assert.equal(t.get('TOPICLEN'), String(cli['topic-len']));
      assert.equal(t.get('KICKLEN'), String(cli['kick-len']));
      assert.equal(t.get('AWAYLEN'), String(cli['away-len']));
      assert.equal(t.get('USERLEN'), String(cli['user-len']));
      assert.equal(t.get('CHANLIMIT'), `#:${cli['max-channels']}`);
      assert.equal(t.get('MAXLIST'), `beI:${cli['max-list-entries']}`);
      assert.equal(t.get('MODES'), String(cli['max-modes']));
      assert.equal(t.get('MONITOR'), String(cli['monitor-limit']));
      assert.equal(t.get('NETWORK'), cli['network-name']);
      assert.equal(t.get('MAXTARGETS'), String(cli['max-targets']));
      for (const cmd of ['PRIVMSG', 'NOTICE', 'TAGMSG']) {
        assert.ok(t.get('TARGMAX')!.split(',').includes(`${cmd}:${cli['max-targets']}`), `TARGMAX ${cmd}`);
      }
    }), { numRuns: 200 });
  });

  test('fixed tokens describe what the server implements', () => {
    const t = tokenMap(isupportTokens(loadConfig({ env: {} })));
    assert.equal(t.get('CASEMAPPING'), 'rfc1459');
    assert.equal(t.get('CHANTYPES'), '#');
    assert.equal(t.get('PREFIX'), '(ov)@+');
    assert.ok(t.has('UTF8ONLY'));
    // every token is a valid middle parameter: no space, not empty, no leading ':'; a name is upper-case
    // letters and digits, optionally after a vendor prefix (IRCv3 style, as `draft/ICON`)
    for (const tok of isupportTokens(loadConfig({ env: {} }))) assert.match(tok, /^([a-z0-9.-]+\/)?[A-Z0-9]+(=\S*)?$/);
    assert.equal(t.get('freeq.at/CHATHISTORYBYTES'), '262144');
    assert.equal(t.get('freeq.at/CHATHISTORYLINES'), '2000');
  });

  test('isupportLines: at most 13 tokens per line, none lost, order kept', () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[A-Z]{1,8}$/), { maxLength: 60 }), (tokens) => {
      const lines = isupportLines(tokens);
      assert.ok(lines.every((l) => l.length >= 1 && l.length <= 13));
      assert.deepEqual(lines.flat(), tokens);
    }));
  });

  test('the advertised limits are the enforced ones (NICKLEN, CHANNELLEN)', async () => {
    const srv = await bootServer({ 'nick-len': 12, 'channel-len': 10 });
    try {
      const c = await srv.connect();
      c.send('NICK abcdefghijklm', 'NICK abcdefghijkl', 'USER u 0 * :r');
      assert.equal(await c.expect('432'), ':irc.test 432 * abcdefghijklm :Erroneous nickname');
      const burst = await c.collectUntil(/ (376|422) /);
      const t = tokenMap(burst.filter((l) => parse(l).command === '005').flatMap((l) => parse(l).params.slice(1, -1)));
      assert.equal(t.get('NICKLEN'), '12');
      assert.equal(t.get('CHANNELLEN'), '10');
      assert.match(burst[0]!, / 001 abcdefghijkl /);
      // CHANNELLEN counts the whole name, '#' included
      c.send('JOIN #123456789', 'JOIN #1234567890');
      assert.match(await c.expect('JOIN'), / JOIN #123456789$/);
      await c.expect(/ 366 /);
      const after = await c.sync();
      assert.ok(!after.some((l) => / JOIN #1234567890$/.test(l)), `a channel name longer than CHANNELLEN is refused:\n${after.join('\n')}`);
      assert.ok(after.includes(':irc.test 476 abcdefghijkl #1234567890 :Bad Channel Mask'), after.join('\n'));
    } finally {
      await srv.stop();
    }
  });
});
