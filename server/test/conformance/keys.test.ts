import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { kidOf } from '../../src/keys/chat-signature.js';
import { openDb } from '../../src/storage/db.js';

// Key files, encryption at rest, `freeq-server keys` and `freeq-server db rekey` (DESIGN.md §7,
// reference §1.10: never a derived key, never a silent fallback, never "[decryption failed]").

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MAIN = join(ROOT, 'server/src/main.ts');
const FILES = ['msg-signing-key.secret', 'db-encryption-key.secret', 'iroh-key.secret', 'cloak-key.secret'] as const;

function cli(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FREEQ_')));
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...env, FREEQ_LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const tmp = (p = 'freeq-keys-') => mkdtempSync(join(tmpdir(), p));
const hexOf = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8').trim();
const kidOfSeedHex = (hex: string) => kidOf(ed25519.getPublicKey(Buffer.from(hex, 'hex')));

async function setTopic(srv: TestServer, channel: string, topic: string, key?: string): Promise<void> {
  const c = await srv.client('topicsetter');
  c.send(`JOIN ${channel}`);
  await c.expect(/ 366 /);
  c.send(`TOPIC ${channel} :${topic}`);
  await c.expect(/ TOPIC /);
  if (key) { c.send(`MODE ${channel} +k ${key}`); await c.expect(/ MODE /); }
  c.destroy();
}

async function topicOf(srv: TestServer, channel: string): Promise<string> {
  const c = await srv.client('topicreader');
  c.send(`TOPIC ${channel}`);
  const line = await c.expect(/ (331|332) /);
  c.destroy();
  return line;
}

describe('keys: files on first start', () => {
  test('four independent random keys, 0600, none derived from another', async () => {
    const srv = await bootServer();
    try {
      const hex = Object.fromEntries(FILES.map((f) => {
        assert.equal(statSync(join(srv.dataDir, f)).mode & 0o777, 0o600, f);
        const h = hexOf(srv.dataDir, f);
        assert.match(h, /^[0-9a-f]{64}$/, f);
        return [f, h];
      })) as Record<(typeof FILES)[number], string>;
      assert.equal(new Set(Object.values(hex)).size, 4, 'four different keys');
      // the reference derived the DB key from the signing key (§1.10); we must not
      const derived = createHmac('sha256', Buffer.from(hex['msg-signing-key.secret'], 'hex')).update('freeq-db-encryption-v1').digest('hex');
      assert.notEqual(hex['db-encryption-key.secret'], derived);
      const signing = srv.server.context.signing;
      assert.equal(signing.kid, kidOfSeedHex(hex['msg-signing-key.secret']));
      assert.equal(signing.signingKeyInfo().public_key, Buffer.from(ed25519.getPublicKey(Buffer.from(hex['msg-signing-key.secret'], 'hex'))).toString('base64url'));
      assert.equal(srv.server.context.peerId, Buffer.from(ed25519.getPublicKey(Buffer.from(hex['iroh-key.secret'], 'hex'))).toString('hex'));
      const again = await srv.restart();
      for (const f of FILES) assert.equal(hexOf(again.dataDir, f), hex[f], `${f} stable across restart`);
      await again.stop();
    } finally {
      rmSync(srv.dataDir, { recursive: true, force: true });
    }
  });

  for (const f of FILES) {
    test(`${f} readable by group/others: refused with the exact message; fix-key-permissions fixes it`, async () => {
      const srv = await bootServer();
      const dir = srv.dataDir;
      await srv.server.stop();
      try {
        const path = join(dir, f);
        chmodSync(path, 0o644);
        await assert.rejects(bootServer({}, dir), (e: Error) => {
          assert.equal(e.message, `${path} is accessible by group/others (mode 644); run: chmod 600 ${path} (or start with --fix-key-permissions)`);
          return true;
        });
        const r = cli(['--data-dir', dir, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0']);
        assert.equal(r.code, 1);
        assert.equal(r.stderr.trim(), `freeq-server: cannot start: ${path} is accessible by group/others (mode 644); run: chmod 600 ${path} (or start with --fix-key-permissions)`);
        const fixed = await bootServer({ 'fix-key-permissions': 'true' }, dir);
        assert.equal(statSync(path).mode & 0o777, 0o600);
        await fixed.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('keys: encryption at rest', () => {
  test('topic and channel key are stored encrypted and read back after a restart', async () => {
    let srv = await bootServer();
    try {
      await setTopic(srv, '#vault', 'classified launch plans', 'hunter2key');
      srv = await srv.restart();
      assert.match(await topicOf(srv, '#vault'), / 332 topicreader #vault :classified launch plans$/);
      const file = join(srv.dataDir, 'freeq.db');
      const db = new Database(file, { readonly: true });
      const row = db.prepare('SELECT topic, chan_key FROM channels WHERE name_folded = ?').get('#vault') as { topic: string; chan_key: string };
      db.close();
      assert.match(row.topic, /^fq1:[A-Za-z0-9_-]+$/);
      assert.match(row.chan_key, /^fq1:[A-Za-z0-9_-]+$/);
      await srv.server.stop();
      for (const f of [file, `${file}-wal`]) {
        if (!existsSync(f)) continue;
        const bytes = readFileSync(f);
        assert.equal(bytes.includes('classified launch plans'), false, `${f} holds the topic in plaintext`);
        assert.equal(bytes.includes('hunter2key'), false, `${f} holds the channel key in plaintext`);
      }
    } finally {
      rmSync(srv.dataDir, { recursive: true, force: true });
    }
  });

  test('a wrong db-encryption-key.secret stops the start with a clear message (startServer and the CLI)', async () => {
    const srv = await bootServer();
    const dir = srv.dataDir;
    try {
      await setTopic(srv, '#x', 'before the key swap');
      await srv.server.stop();
      const path = join(dir, 'db-encryption-key.secret');
      writeFileSync(path, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
      await assert.rejects(bootServer({}, dir), /^KeyFileError: db-encryption-key\.secret does not match this database \(the database was encrypted with key [0-9a-f]{16}, .*db-encryption-key\.secret holds key [0-9a-f]{16}\)/);
      const r = cli(['--data-dir', dir, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^freeq-server: cannot start: db-encryption-key\.secret does not match this database \(/);
      assert.doesNotMatch(r.stderr + r.stdout, /decryption failed\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing key file with an encrypted database: refused, and no new key is created', async () => {
    const srv = await bootServer();
    const dir = srv.dataDir;
    try {
      await setTopic(srv, '#y', 'keep me');
      await srv.server.stop();
      const path = join(dir, 'db-encryption-key.secret');
      rmSync(path);
      await assert.rejects(bootServer({}, dir), /db-encryption-key\.secret is missing but this database is encrypted .*restore the key file from your backup/);
      assert.equal(existsSync(path), false, 'a new key was created over existing data');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a database from before encryption is encrypted in place on first start', async () => {
    const dir = tmp();
    try {
      const db = openDb(join(dir, 'freeq.db'));
      db.prepare("INSERT INTO channels (name_folded, name, created_at, topic, topic_set_by, topic_set_at, modes) VALUES ('#old', '#old', 1, 'legacy plaintext topic', 'x', 1, 'nt')").run();
      db.close();
      const srv = await bootServer({}, dir);
      assert.match(await topicOf(srv, '#old'), / 332 topicreader #old :legacy plaintext topic$/);
      await srv.stop();
      const raw = new Database(join(dir, 'freeq.db'), { readonly: true });
      const row = raw.prepare("SELECT topic FROM channels WHERE name_folded = '#old'").get() as { topic: string };
      raw.close();
      assert.match(row.topic, /^fq1:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('keys: the `freeq-server keys` command', () => {
  test('creates missing keys, --force rotates signing (old kid still listed) and iroh, never the DB key', async () => {
    const dir = tmp();
    try {
      let r = cli(['keys', '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      for (const f of FILES) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
      const before = Object.fromEntries(FILES.map((f) => [f, hexOf(dir, f)]));
      const oldKid = kidOfSeedHex(before['msg-signing-key.secret']!);
      assert.match(r.stdout, new RegExp(`msg-signing-key\\.secret: created; kid ${oldKid}`));
      assert.match(r.stdout, /iroh-key\.secret: created; peer ID [0-9a-f]{64}/);
      assert.match(r.stdout, /db-encryption-key\.secret: created;/);
      assert.match(r.stdout, /^cloak-key\.secret: created$/m);
      for (const f of FILES) assert.equal(r.stdout.includes(before[f]!), false, 'key material printed');

      r = cli(['keys', '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /msg-signing-key\.secret: present/);
      for (const f of FILES) assert.equal(hexOf(dir, f), before[f], `${f} unchanged without --force`);

      r = cli(['keys', '--force', '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      const after = Object.fromEntries(FILES.map((f) => [f, hexOf(dir, f)]));
      assert.notEqual(after['msg-signing-key.secret'], before['msg-signing-key.secret']);
      assert.notEqual(after['iroh-key.secret'], before['iroh-key.secret']);
      assert.equal(after['db-encryption-key.secret'], before['db-encryption-key.secret'], '--force never replaces the DB key');
      for (const f of FILES) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
      const newKid = kidOfSeedHex(after['msg-signing-key.secret']!);
      const newPeer = Buffer.from(ed25519.getPublicKey(Buffer.from(after['iroh-key.secret']!, 'hex'))).toString('hex');
      assert.match(r.stdout, new RegExp(`msg-signing-key\\.secret: rotated; new kid ${newKid}\\. The previous kid ${oldKid} stays listed`));
      assert.match(r.stdout, new RegExp(`iroh-key\\.secret: rotated; new peer ID ${newPeer}`));
      assert.match(r.stdout, /db-encryption-key\.secret: kept .*freeq-server db rekey/);
      assert.notEqual(after['cloak-key.secret'], before['cloak-key.secret']);
      assert.match(r.stdout, /^cloak-key\.secret: rotated; every user's cloak changes at the next start, so bans and invite exceptions on cloaks \(\+b\/\+I\/\+e, UBAN masks\) no longer match$/m);

      r = cli(['keys', '--force', 'db-encryption', '--data-dir', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /db-encryption-key\.secret cannot be replaced with --force.*`freeq-server db rekey`/);

      const srv = await bootServer({}, dir);
      try {
        const info = srv.server.context.signing.signingKeyInfo();
        assert.equal(kidOf(Buffer.from(info.public_key, 'base64url')), newKid);
        assert.deepEqual(info.previous_keys.map((k) => k.kid), [oldKid]);
        assert.equal(info.previous_keys[0]!.public_key, Buffer.from(ed25519.getPublicKey(Buffer.from(before['msg-signing-key.secret']!, 'hex'))).toString('base64url'));
        assert.deepEqual(srv.server.context.signing.publicKeys().map((k) => [k.kid, k.current]), [[newKid, true], [oldKid, false]]);
        assert.equal(srv.server.context.peerId, newPeer);
        // a server is running (#12: it holds the data directory lock): rotation refused, keys untouched
        const held = Object.fromEntries(FILES.map((f) => [f, hexOf(dir, f)]));
        r = cli(['keys', '--force', '--data-dir', dir]);
        assert.equal(r.code, 1);
        assert.equal(r.stderr.trim(), `freeq-server: data directory ${dir} is in use by another freeq server (pid ${process.pid}); stop it before rotating keys`);
        for (const f of FILES) assert.equal(hexOf(dir, f), held[f], f);
        // without --force the keys are only read (public facts printed)
        r = cli(['keys', '--data-dir', dir]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`msg-signing-key\\.secret: present; kid ${newKid}`));
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('replacing msg-signing-key.secret by hand (the old runbook) still keeps the old kid listed', async () => {
    const srv = await bootServer();
    const dir = srv.dataDir;
    try {
      const oldKid = srv.server.context.signing.kid;
      await srv.server.stop();
      rmSync(join(dir, 'msg-signing-key.secret'));
      const again = await bootServer({}, dir);
      assert.notEqual(again.server.context.signing.kid, oldKid);
      assert.deepEqual(again.server.context.signing.signingKeyInfo().previous_keys.map((k) => k.kid), [oldKid]);
      await again.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('keys: `freeq-server db rekey`', () => {
  test('re-encrypts under a new key; the server then starts with it and shows the same topic', async () => {
    const srv = await bootServer();
    const dir = srv.dataDir;
    try {
      await setTopic(srv, '#rekey', 'survives the rekey', 'chankey1');
      // refused while the server runs
      let r = cli(['db', 'rekey', '--data-dir', dir]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `freeq-server: data directory ${dir} is in use by another freeq server (pid ${process.pid}); stop it before running db rekey`);
      await srv.server.stop();

      const keyFile = join(dir, 'db-encryption-key.secret');
      const oldKey = hexOf(dir, 'db-encryption-key.secret');
      const readRow = () => {
        const db = new Database(join(dir, 'freeq.db'), { readonly: true });
        const row = db.prepare("SELECT topic, chan_key FROM channels WHERE name_folded = '#rekey'").get() as { topic: string; chan_key: string };
        db.close();
        return row;
      };
      const beforeRow = readRow();
      r = cli(['db', 'rekey', '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /re-encrypted 2 value\(s\) under a new key/);
      const newKey = hexOf(dir, 'db-encryption-key.secret');
      assert.notEqual(newKey, oldKey);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.equal(hexOf(dir, 'db-encryption-key.secret.old'), oldKey, 'previous key kept as .old');
      assert.equal(statSync(`${keyFile}.old`).mode & 0o777, 0o600);
      assert.equal(existsSync(`${keyFile}.new`), false);
      assert.equal(r.stdout.includes(newKey) || r.stdout.includes(oldKey), false, 'key material printed');
      const afterRow = readRow();
      assert.notEqual(afterRow.topic, beforeRow.topic);
      assert.notEqual(afterRow.chan_key, beforeRow.chan_key);

      const again = await bootServer({}, dir);
      assert.match(await topicOf(again, '#rekey'), / 332 topicreader #rekey :survives the rekey$/);
      await again.server.stop();

      // the old key no longer opens the database
      writeFileSync(keyFile, oldKey + '\n', { mode: 0o600 });
      await assert.rejects(bootServer({}, dir), /db-encryption-key\.secret does not match this database/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no database: nothing to rekey (exit 1)', () => {
    const dir = tmp();
    try {
      const r = cli(['db', 'rekey', '--data-dir', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no database at .*freeq\.db; nothing to re-encrypt/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('freeq-server peer-id (#14 interface)', () => {
  test('prints the 64-hex peer ID, creating iroh-key.secret (0600) if missing; the same ID afterwards and as the running server reports', async () => {
    const dir = tmp();
    try {
      const first = cli(['peer-id', '--data-dir', dir]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^[0-9a-f]{64}\n$/);
      assert.equal(statSync(join(dir, 'iroh-key.secret')).mode & 0o777, 0o600);
      assert.equal(existsSync(join(dir, 'msg-signing-key.secret')), false, 'only the federation key is created');
      const id = first.stdout.trim();
      assert.equal(id, Buffer.from(ed25519.getPublicKey(Buffer.from(hexOf(dir, 'iroh-key.secret'), 'hex'))).toString('hex'));
      assert.equal(cli(['peer-id', '--data-dir', dir]).stdout, first.stdout, 'stable');
      const srv = await bootServer({ 'data-dir': dir });
      try {
        assert.equal(srv.server.context.peerId, id, 'the server uses the same identity');
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a key file others can read is refused (exit 1), as at server start', () => {
    const dir = tmp();
    try {
      writeFileSync(join(dir, 'iroh-key.secret'), randomBytes(32).toString('hex'), { mode: 0o644 });
      chmodSync(join(dir, 'iroh-key.secret'), 0o644);
      const r = cli(['peer-id', '--data-dir', dir]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^freeq-server: .*iroh-key\.secret/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
