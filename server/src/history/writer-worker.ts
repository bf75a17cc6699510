/** The history writer thread (history/writer.ts ThreadWriter): its own connection, one transaction per batch. */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../storage/db.js';
import { FieldCipher } from '../storage/crypto.js';
import { SqliteMessageRepo } from '../storage/repos/messages.js';
import type { StoredMessage } from './types.js';
import { HistoryLedger, LAST_FAILED, publishUsage, type WorkerInit, type WorkerReport, type WorkerRequest } from './writer.js';

const init = workerData as WorkerInit;
const state = new Int32Array(init.state);
const usage = new BigInt64Array(init.usage);
const db = openDb(init.dbPath);
const repo = new SqliteMessageRepo(db, new FieldCipher(Buffer.from(init.key)));
const ledger = new HistoryLedger(repo, init.limits);
const report = (r: WorkerReport) => parentPort!.postMessage(r);
publishUsage(usage, ledger);
report({ t: 'ready' });

parentPort!.on('message', (m: WorkerRequest) => {
  try {
    if (m.t === 'batch') {
      const msgs = JSON.parse(m.msgs) as StoredMessage[];
      let ok = true;
      try {
        ledger.write(msgs);
      } catch (e) {
        ok = false;
        Atomics.store(state, LAST_FAILED, m.seq); // before COMMITTED moves past it (finally below)
        report({ t: 'error', what: 'write', message: String((e as Error)?.message ?? e), messages: msgs.length });
      }
      publishUsage(usage, ledger);
      // #12: the echo / labeled ACK of a message in this batch waits for this report
      if (m.ack) report({ t: 'committed', seq: m.seq, ok });
    } else if (m.t === 'prune') {
      try {
        const deleted = ledger.prune(m.minTime);
        if (deleted > 0) report({ t: 'pruned', deleted });
      } catch (e) {
        report({ t: 'error', what: 'prune', message: String((e as Error)?.message ?? e) });
      }
      publishUsage(usage, ledger);
    } else {
      db.close();
      Atomics.store(state, 1, 1);
      Atomics.notify(state, 1);
    }
  } finally {
    Atomics.store(state, 0, m.seq);
    Atomics.notify(state, 0);
  }
  if (m.t === 'close') parentPort!.close();
});
