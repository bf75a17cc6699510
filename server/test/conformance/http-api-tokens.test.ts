// User bearer tokens for the HTTP API (freeq-reference.md §6: the reference used the IRC session id
// as bearer token — predictable; ours are 256 random bits, stored hashed, bound to the account).
// APITOKEN over IRC, GET /api/v1/me over real HTTP, the database and the log checked directly.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RawClient } from '../harness/raw-client.js';
import { cryptoResponse, ed25519Signer, readChallenge, responseLines, startSasl } from './sasl-helpers.js';
import { bootLogged, type LoggedServer } from './http-api-helpers.js';
import { apiToken } from './identity-helpers.js';

const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('APITOKEN and GET /api/v1/me', () => {
  let srv: LoggedServer;
  let db: Database.Database;
  before(async () => {
    srv = await bootLogged();
    db = new Database(join(srv.server.context.config.dataDir, 'freeq.db'));
    db.pragma('busy_timeout = 5000');
  });
  after(async () => {
    db.close();
    await srv.stop();
  });

  const me = (token?: string, scheme = 'Bearer'): Promise<Response> =>
    fetch(`http://127.0.0.1:${srv.webPort}/api/v1/me`, { headers: token === undefined ? {} : { authorization: `${scheme} ${token}` } });

  /** a did:key user logged in with ATPROTO-CHALLENGE crypto, registered */
  async function login(nick: string): Promise<{ c: RawClient; did: string }> {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, nick);
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = await readChallenge(c);
    c.send(...responseLines(await cryptoResponse(s, ch)));
    await c.expect(/ 903 /);
    c.send('CAP END');
    await c.expect(/ 001 /);
    return { c, did: s.did };
  }

  test('a guest gets FAIL APITOKEN ACCOUNT_REQUIRED', async () => {
    const c = await srv.connect();
    await c.register('guest1');
    c.send('APITOKEN');
    assert.equal(await c.expect('FAIL'), ':irc.test FAIL APITOKEN ACCOUNT_REQUIRED :You must be logged in');
    c.send('APITOKEN REVOKE');
    assert.equal(await c.expect('FAIL'), ':irc.test FAIL APITOKEN ACCOUNT_REQUIRED :You must be logged in');
  });

  test('a logged-in user gets a 256-bit token; /api/v1/me returns the DID', async () => {
    const { c, did } = await login('tokenuser');
    const token = await apiToken(c);
    assert.equal(Buffer.from(token, 'base64url').length, 32, '≥ 128 bits: 32 random bytes');
    const r = await me(token);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await r.json(), { did });
    // the scheme is case-insensitive (RFC 7235)
    assert.equal((await me(token, 'bearer')).status, 200);
  });

  test('tokens are random, not derived from the session or connection: every issue differs, all work', async () => {
    const { c, did } = await login('rand');
    const tokens = [await apiToken(c), await apiToken(c), await apiToken(c)];
    assert.equal(new Set(tokens).size, 3);
    const sessionIds = [...srv.server.context.world.users.values()].map((u) => String(u.id));
    const localPort = String(c.socket.localPort);
    for (const t of tokens) {
      const bytes = Buffer.from(t, 'base64url');
      for (const id of [...sessionIds, localPort, `127.0.0.1:${localPort}`]) {
        assert.ok(!t.includes(id) || id.length < 3, `token contains ${id}`);
        assert.ok(!bytes.toString('latin1').includes(`stream-${id}`));
      }
      assert.deepEqual(await (await me(t)).json(), { did });
    }
    // distinct bytes: a counter or an address would repeat most bytes between tokens
    const [a, b] = tokens.map((t) => Buffer.from(t, 'base64url'));
    let same = 0;
    for (let i = 0; i < 32; i++) if (a![i] === b![i]) same++;
    assert.ok(same < 8, `${same} equal bytes`);
  });

  test('only the SHA-256 of a token is stored, bound to the DID, expiring in 24 h', async () => {
    const { c, did } = await login('stored');
    const before = Date.now();
    const token = await apiToken(c);
    const rows = db.prepare('SELECT * FROM api_tokens WHERE did = ?').all(did) as Array<{ token_hash: string; did: string; created_at: number; expires_at: number }>;
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.token_hash, sha256hex(token));
    assert.ok(rows[0]!.created_at >= before - 1000 && rows[0]!.created_at <= Date.now());
    assert.equal(rows[0]!.expires_at - rows[0]!.created_at, 24 * 60 * 60 * 1000);
    const all = JSON.stringify(db.prepare('SELECT * FROM api_tokens').all());
    assert.ok(!all.includes(token), 'the token itself is not in the database');
  });

  test('APITOKEN REVOKE: every token of the account stops working; other accounts keep theirs', async () => {
    const a = await login('revoker');
    const b = await login('bystander');
    const t1 = await apiToken(a.c);
    const t2 = await apiToken(a.c);
    const tb = await apiToken(b.c);
    a.c.send('APITOKEN REVOKE');
    assert.equal(await a.c.expect(/ NOTE APITOKEN REVOKED /), ':irc.test NOTE APITOKEN REVOKED 2 :All your HTTP API tokens are revoked');
    for (const t of [t1, t2]) assert.equal((await me(t)).status, 401);
    assert.deepEqual(await (await me(tb)).json(), { did: b.did });
    // a new token after the revocation works
    assert.equal((await me(await apiToken(a.c))).status, 200);
  });

  test('an expired token → 401 (and the same kind of row unexpired → 200)', async () => {
    const { did } = await login('expiry');
    const expired = randomBytes(32).toString('base64url');
    const live = randomBytes(32).toString('base64url');
    const now = Date.now();
    const ins = db.prepare('INSERT INTO api_tokens (token_hash, did, created_at, expires_at) VALUES (?, ?, ?, ?)');
    ins.run(sha256hex(expired), did, now - 25 * 3600_000, now - 3600_000);
    ins.run(sha256hex(live), did, now, now + 3600_000);
    assert.equal((await me(expired)).status, 401);
    assert.deepEqual(await (await me(live)).json(), { did });
  });

  test('missing, malformed, garbage and session-id-like tokens → 401', async () => {
    const { c } = await login('garbage');
    const good = await apiToken(c);
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'Bearer'], ['', 'Bearer'], [good, 'Basic'], [good + 'A', 'Bearer'], [good.slice(0, -1), 'Bearer'],
      [randomBytes(32).toString('base64url'), 'Bearer'], ['127.0.0.1:54321', 'Bearer'], ['stream-1', 'Bearer'], ['1', 'Bearer'],
      [sha256hex(good), 'Bearer'], // the stored hash is not a token
    ];
    for (const [t, scheme] of cases) {
      const r = await me(t, scheme);
      assert.equal(r.status, 401, `${scheme} ${t}`);
      assert.equal(await r.text(), '{"error":"Unauthorized"}');
    }
    assert.equal((await me(good)).status, 200);
  });

  test('tokens never appear in the log (trace level)', async () => {
    const { c } = await login('logged');
    const token = await apiToken(c);
    await me(token);
    await me(token + 'x');
    c.send('APITOKEN REVOKE');
    await c.expect(/ NOTE APITOKEN REVOKED /);
    await me(token);
    const logs = srv.logs();
    assert.ok(logs.length > 5, 'the log captured the session');
    assert.ok(logs.some((l) => l.includes('SASL login')), 'trace/debug lines are captured');
    assert.ok(!logs.some((l) => l.includes(token)), 'no log line contains the token');
    assert.ok(!logs.some((l) => l.includes(sha256hex(token))), 'nor its hash');
  });
});

describe('GET /api/v1/me during an auth-failure lockout (#12 finding 16)', () => {
  let srv: LoggedServer;
  before(async () => { srv = await bootLogged(); });
  after(async () => { await srv.stop(); });

  test('after 30 wrong tokens from this IP: a wrong token gets 429 (connection closed), the right one still gets 200', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'lockedout');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    c.send(...responseLines(await cryptoResponse(s, await readChallenge(c))));
    await c.expect(/ 903 /);
    c.send('CAP END');
    await c.expect(/ 001 /);
    const token = await apiToken(c);
    const me = (t: string): Promise<Response> => fetch(`http://127.0.0.1:${srv.webPort}/api/v1/me`, { headers: { authorization: `Bearer ${t}` } });
    for (let i = 0; i < 30; i++) {
      const r = await me(randomBytes(32).toString('base64url'));
      assert.equal(r.status, 401, `guess ${i + 1}`);
      await r.arrayBuffer();
    }
    const wrong = await me(randomBytes(32).toString('base64url'));
    assert.equal(wrong.status, 429);
    assert.equal(wrong.headers.get('connection'), 'close');
    assert.ok(Number(wrong.headers.get('retry-after')) > 0);
    assert.deepEqual(await wrong.json(), { error: 'TooManyRequests' });
    const right = await me(token);
    assert.equal(right.status, 200);
    assert.deepEqual(await right.json(), { did: s.did });
  });
});
