/** The signature thread (identity/verifier.ts): one batch in, one report out, checks in order. */
import { verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { VerifyReport, VerifyRequest } from './verifier.js';

parentPort!.on('message', (m: VerifyRequest) => {
  const ids: number[] = [];
  const ok: boolean[] = [];
  for (const j of m.jobs) {
    ids.push(j.id);
    let good: boolean;
    try {
      // shape and high-S checks were done when the job was made (keys.ts prepareVerify)
      good = verify(j.alg, j.data, j.key, j.sig);
    } catch {
      good = false;
    }
    ok.push(good);
  }
  parentPort!.postMessage({ ids, ok } satisfies VerifyReport);
});
