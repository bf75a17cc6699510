// hardening.md D2: SASL attempts per (claimed identity, IP) across connections. Over the limit the
// server answers 904 WITHOUT verifying: a local PLC stand-in counts the lookups it would cause.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';

const FAIL = / 904 \S+ :SASL authentication failed$/;
const ALICE = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const BOB = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb';

const plain = (authcid: string): string => Buffer.from(`\0${authcid}\0not-the-password`).toString('base64');

describe('SASL per (identity, IP) limit across connections (D2)', () => {
  let srv: TestServer;
  let plc: http.Server;
  const lookups: string[] = [];

  before(async () => {
    // every DID lookup lands here and fails slowly with a 500 (never negatively cached, unlike a
    // 404): one request = one verification attempted
    plc = http.createServer((req, res) => {
      lookups.push(decodeURIComponent(req.url ?? ''));
      setTimeout(() => res.writeHead(500).end(), 200);
    });
    plc.listen(0, '127.0.0.1');
    await once(plc, 'listening');
    const port = (plc.address() as { port: number }).port;
    srv = await bootServer({
      fakelag: true, 'sasl-attempts-per-identity': 2, 'plc-url': `http://127.0.0.1:${port}`, 'ssrf-allow-loopback': 'true', 'http-timeout': '2s',
    });
  });
  after(async () => { await srv.stop(); plc.close(); });

  async function start(opts: { localAddress?: string } = {}): Promise<RawClient> {
    const c = await srv.connect(opts);
    c.send('CAP LS 302', 'CAP REQ :sasl');
    await c.expect(/ CAP \S+ ACK :?sasl$/);
    return c;
  }

  async function attempt(c: RawClient, authcid: string): Promise<string> {
    c.send('AUTHENTICATE PLAIN');
    await c.expect(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${plain(authcid)}`);
    return c.expect(/ 90[0-9] /);
  }

  const hits = (did: string): number => lookups.filter((u) => u.includes(did)).length;

  test('the 3rd attempt for one DID from one IP (limit 2), on a new connection, is refused without a lookup and counted', async () => {
    const c1 = await start();
    assert.match(await attempt(c1, ALICE), FAIL);
    assert.match(await attempt(c1, ALICE), FAIL);
    assert.equal(hits(ALICE), 2, 'both were verified (and failed)');
    c1.send('QUIT');
    const c2 = await start();
    const metricsBefore = await srv.server.context.metrics.text();
    const t0 = Date.now();
    assert.match(await attempt(c2, ALICE), FAIL);
    assert.ok(Date.now() - t0 < 150, 'answered at once, not after the 200 ms lookup');
    assert.equal(hits(ALICE), 2, 'no lookup for the refused attempt');
    const metricsAfter = await srv.server.context.metrics.text();
    const count = (t: string): number => Number(/^freeq_limit_hits_total\{kind="sasl-rate"\} (\d+)$/m.exec(t)?.[1] ?? 0);
    assert.equal(count(metricsAfter) - count(metricsBefore), 1);
    // another identity from the same connection is still verified
    assert.match(await attempt(c2, BOB), FAIL);
    assert.equal(hits(BOB), 1);
    // the refusal counted as this connection's 2nd failure: a 3rd closes it (per-connection rule)
    assert.match(await attempt(c2, ALICE), FAIL);
    assert.equal(await c2.expect(/^ERROR /), 'ERROR :Too many SASL failures');
    assert.equal(hits(ALICE), 2);
  });

  test('the same DID from another IP is not affected', async () => {
    const c = await start({ localAddress: '127.0.0.2' });
    const before = hits(ALICE);
    assert.match(await attempt(c, ALICE), FAIL);
    assert.equal(hits(ALICE), before + 1, 'verified: the limit is per (identity, IP)');
  });
});
