/**
 * Signature checks for SASL logins on one dedicated thread (identity/verify-worker.ts), batched
 * once per event-loop turn. libuv's pool (crypto.verify with a callback) wakes a pool thread for
 * every check; on a 2-core machine each wake-up preempts the event loop, and that cost ~20 % of
 * the SASL login rate (bench sasl: 1.94 k/s with the pool, 2.4 k/s with one queue; see
 * docs/performance.md). The pool is also shared with dns.lookup, so a slow resolver must not
 * hold up logins either. If the thread cannot start or dies, checks fall back to the pool.
 * Each check is prepared here (keys.ts prepareVerify: shape, high-S, the cached KeyObject, which
 * crosses to the thread as a cheap clone), so the thread loads node:crypto and nothing else.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/log.js';
import { startWorker } from '../util/worker.js';
import { prepareVerify, verifySignatureAsync, type NativeCheck } from './keys.js';
import type { VerificationKey } from './types.js';

/**
 * One check, prepared on the main thread (shape and high-S checks, the cached KeyObject): the thread
 * itself only calls crypto.verify, so it loads no curve library (an isolate of ~3 MB, not ~19 MB).
 */
export interface VerifyJob extends NativeCheck {
  id: number;
  data: Uint8Array;
  sig: Uint8Array;
}
export type VerifyRequest = { jobs: VerifyJob[] };
/** `ok[i]` answers `ids[i]` */
export type VerifyReport = { ids: number[]; ok: boolean[] };

interface Pending { key: VerificationKey; data: Uint8Array; sig: Uint8Array; resolve: (ok: boolean) => void }

export class SignatureVerifier {
  private worker?: Worker;
  private failed = false;
  private closed = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private batch: VerifyJob[] = [];
  private flushScheduled = false;

  /** `entry`: the thread's module name next to this file (tests name a missing one to exercise the fallback) */
  constructor(private readonly log: Logger, private readonly entry = 'verify-worker') {}

  /** `idle` until the first check, `running` with the thread up, `pool` after a failure or close */
  get state(): 'idle' | 'running' | 'pool' {
    return this.failed || this.closed ? 'pool' : this.worker ? 'running' : 'idle';
  }

  /** Never rejects; false for anything that is not a valid signature by `key` over `data`. */
  verify(key: VerificationKey, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
    if (this.failed || this.closed) return verifySignatureAsync(key, data, sig);
    let check: NativeCheck | undefined;
    try {
      check = prepareVerify(key, data, sig);
    } catch {
      check = undefined;
    }
    if (check === undefined) return Promise.resolve(false);
    const { alg, key: keyObject } = check;
    return new Promise((resolve) => {
      const id = ++this.nextId;
      this.pending.set(id, { key, data, sig, resolve });
      this.batch.push({ id, alg, key: keyObject, data, sig });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Stop the thread; checks still pending finish on the pool. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handOver();
    void this.worker?.terminate();
  }

  private flush(): void {
    this.flushScheduled = false;
    const jobs = this.batch;
    this.batch = [];
    if (jobs.length === 0 || this.failed || this.closed) return;
    try {
      this.thread().postMessage({ jobs } satisfies VerifyRequest);
    } catch (e) {
      this.lost(e);
    }
  }

  /** started on the first check: a server without crypto logins never pays for the thread */
  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = startWorker(this.entry, import.meta.url);
    w.unref();
    w.on('message', (r: VerifyReport) => {
      for (let i = 0; i < r.ids.length; i++) {
        const p = this.pending.get(r.ids[i]!);
        if (!p) continue;
        this.pending.delete(r.ids[i]!);
        p.resolve(r.ok[i] === true);
      }
    });
    w.on('error', (e) => this.lost(e));
    w.on('exit', (code) => { if (!this.closed) this.lost(new Error(`signature thread exited with code ${code}`)); });
    this.worker = w;
    return w;
  }

  private lost(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.log.error({ err: e }, 'signature thread failed; checking signatures on the libuv pool');
    this.handOver();
  }

  /** everything not yet answered is checked on the pool instead (nothing is left hanging) */
  private handOver(): void {
    this.batch = [];
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const p of left) void verifySignatureAsync(p.key, p.data, p.sig).then(p.resolve);
  }
}
