/** The signature thread (identity/verifier.ts): one batch in, one report out, checks in order. */
import { parentPort } from 'node:worker_threads';
import { verifySignature } from './keys.js';
import type { VerifyReport, VerifyRequest } from './verifier.js';

parentPort!.on('message', (m: VerifyRequest) => {
  const ids: number[] = [];
  const ok: boolean[] = [];
  for (const j of m.jobs) {
    ids.push(j.id);
    // verifySignature never throws; the key id plays no part in the check
    ok.push(verifySignature({ id: '', type: j.type, publicKey: j.publicKey }, j.data, j.sig));
  }
  parentPort!.postMessage({ ids, ok } satisfies VerifyReport);
});
