import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecord } from '../../../src/federation/audit.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { openDb } from '../../../src/storage/db.js';
import { SqliteS2sAudit } from '../../../src/storage/repos/s2s-audit.js';

// The federation audit log (storage/repos/s2s-audit.ts): encrypted at rest, bounded by rows and by
// bytes, so a peer sending large frames cannot fill the disk.

const rec = (i: number, size: number): AuditRecord => ({
  at: 1_700_000_000_000 + i, via: 'b'.repeat(64), origin: 'b'.repeat(64), seq: i, hlc: '1700000000000.000000', kind: 'message',
  outcome: 'applied', envelope: JSON.stringify({ seq: i, pad: 'x'.repeat(size) }),
});

function withAudit(maxRows: number, maxBytes: number, fn: (a: SqliteS2sAudit, db: ReturnType<typeof openDb>) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-audit-'));
  const db = openDb(join(dir, 'freeq.db'));
  try {
    const a = new SqliteS2sAudit(db, new FieldCipher(randomBytes(32)), maxRows, maxBytes, (err) => { throw err; });
    fn(a, db);
    a.close();
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('rows are stored encrypted and read back as received; the newest first', () => {
  withAudit(1000, 1 << 20, (a, db) => {
    for (let i = 0; i < 3; i++) a.record(rec(i, 10));
    const rows = a.latest(10);
    assert.deepEqual(rows.map((r) => JSON.parse(r.envelope).seq), [2, 1, 0]);
    const stored = db.prepare('SELECT envelope FROM s2s_audit').pluck().all() as string[];
    assert.ok(stored.every((e) => e.startsWith('fq1:') && !e.includes('xxxxxxxxxx')));
  });
});

test('the byte budget holds with large envelopes: the oldest go, the newest stay', () => {
  withAudit(1_000_000, 200_000, (a, db) => {
    for (let i = 0; i < 200; i++) a.record(rec(i, 20_000));
    a.flush();
    const total = db.prepare('SELECT SUM(LENGTH(envelope)) FROM s2s_audit').pluck().get() as number;
    assert.ok(total <= 200_000, `stored ${total} bytes`);
    assert.equal(JSON.parse(a.latest(1)[0]!.envelope).seq, 199);
  });
});

test('the row cap holds', () => {
  withAudit(100, 1 << 30, (a, db) => {
    for (let i = 0; i < 1000; i++) a.record(rec(i, 1));
    a.flush();
    const n = db.prepare('SELECT COUNT(*) FROM s2s_audit').pluck().get() as number;
    assert.ok(n <= 200, `${n} rows kept`);
    assert.equal(JSON.parse(a.latest(1)[0]!.envelope).seq, 999);
  });
});
