// freeq bench: driver for the native load generator (bench/native/loadgen.c).
//
// NativeGen has the interface bench/run.mjs uses on LoadGen (bench/loadgen.mjs): start(),
// all(cmd, argsFn) → one result per "worker", idsFor(w, n), workers, stop(), cpuSec(). There is
// one worker: a single C process (epoll, one thread) that owns every connection. Commands are
// sent as one text line each on its stdin and answered by one JSON line on its stdout, in order.
//
// The program is compiled with gcc on first use into bench/native/build/ (ignored by git) and
// recompiled when loadgen.c is newer than the binary. It links OpenSSL's libcrypto for the sasl
// scenario (Ed25519 keys and signatures); without libcrypto's headers or library it is built
// with -DNO_SASL (everything but sasl works, and the runner falls back to --gen node for sasl).
// CAP requests other than sasl and the history scenario are not implemented natively: use
// --gen node for those.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(here, 'native', 'loadgen.c');
const BUILD = path.join(here, 'native', 'build');
const BIN = path.join(BUILD, 'loadgen');
const NOSASL = path.join(BUILD, 'loadgen.nosasl'); // present: the binary was built without OpenSSL

/**
 * Compile bench/native/loadgen.c if the binary is missing or older than the source: with
 * -lcrypto, or, if that fails to compile or link, with -DNO_SASL. Returns {bin, sasl}.
 */
export function buildNative() {
  const srcTime = fs.statSync(SRC).mtimeMs;
  let binTime = -1;
  try { binTime = fs.statSync(BIN).mtimeMs; } catch { /* not built yet */ }
  if (binTime >= srcTime) return { bin: BIN, sasl: !fs.existsSync(NOSASL) };
  fs.mkdirSync(BUILD, { recursive: true });
  const tmp = `${BIN}.${process.pid}.tmp`; // another runner may be building at the same time
  const gcc = (extra) => execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-std=gnu11', ...extra.pre, '-o', tmp, SRC, ...extra.post], { stdio: ['ignore', 'ignore', 'pipe'] });
  let sasl = true;
  try {
    gcc({ pre: [], post: ['-lcrypto'] });
  } catch (e) {
    if (e.code === 'ENOENT') {
      throw new Error('the native load generator needs gcc (apt-get install gcc); or run with --gen node (slower: the Node generator may be the bottleneck)', { cause: e });
    }
    const withSsl = String(e.stderr || e.message);
    try {
      gcc({ pre: ['-DNO_SASL'], post: [] });
      sasl = false;
      process.stderr.write('bench: native load generator built without SASL (OpenSSL libcrypto headers/library missing: apt-get install libssl-dev)\n');
    } catch (e2) {
      throw new Error(`compiling ${SRC} failed:\n${withSsl}\n${e2.stderr || e2.message}`, { cause: e2 });
    }
  }
  if (sasl) fs.rmSync(NOSASL, { force: true }); else fs.writeFileSync(NOSASL, 'built with -DNO_SASL\n');
  fs.renameSync(tmp, BIN);
  return { bin: BIN, sasl };
}

/** [0,1,2,5,6] → "0-2,5-6" (the C side expands ranges) */
function encodeIds(ids) {
  const parts = [];
  for (let i = 0; i < ids.length;) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export class NativeGen {
  /**
   * @param {{host:string, port:number, srcAddrs:number, connectTimeoutMs?:number, coalesceUs?:number}} opts
   * coalesceUs: pause between epoll rounds when many sockets each had little to read (see loadgen.c)
   */
  constructor(opts) {
    this.opts = opts;
    this.workers = [];
    this.pending = [];
    this.proc = null;
    this.exitErr = null;
  }
  async start() {
    const { bin, sasl } = buildNative();
    this.sasl = sasl;
    const args = [this.opts.host, String(this.opts.port), String(this.opts.srcAddrs), String(this.opts.coalesceUs ?? 200)];
    const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc = proc;
    this.pid = proc.pid;
    this.workers = [proc];
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const p = this.pending.shift();
      if (!p) return;
      let r;
      try { r = JSON.parse(line); } catch { p.reject(new Error(`native loadgen: bad reply ${line.slice(0, 200)}`)); return; }
      if (r && typeof r === 'object' && r.error) p.reject(new Error(`native loadgen: ${r.error}`));
      else p.resolve(r);
    });
    proc.on('exit', (code, sig) => {
      this.exitErr = new Error(`native loadgen exited (${code ?? sig})`);
      for (const p of this.pending.splice(0)) p.reject(this.exitErr);
    });
    proc.stdin.on('error', () => {}); // EPIPE after an exit is reported through 'exit'
  }
  request(line) {
    if (this.exitErr) return Promise.reject(this.exitErr);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.stdin.write(line + '\n');
    });
  }
  /** same contract as LoadGen.all: args(w) gives the payload; resolves to [result] */
  async all(cmd, args = () => ({})) {
    const a = args(0);
    let line;
    switch (cmd) {
      case 'keys':
        // an Ed25519 key pair and did:key per id (before the timed phase)
        line = `keys ${encodeIds(a.ids)}`;
        break;
      case 'connect':
        if (a.caps?.length) throw new Error('the native load generator does no CAP requests other than sasl: use --gen node');
        line = `connect ${a.inflight} ${this.opts.connectTimeoutMs ?? 60000} ${encodeIds(a.ids)}${a.sasl ? ' sasl' : ''}`;
        break;
      case 'join':
        line = `join ${Object.entries(a.channels).map(([id, chan]) => `${id}:${chan}`).join(' ')}`;
        break;
      case 'send':
        line = `send ${a.rate} ${Math.round(a.durationMs)} ${a.pad} ${a.senders.map(([id, t]) => `${id}:${t}`).join(' ')}`;
        break;
      case 'fast': case 'stats': case 'close':
        line = cmd;
        break;
      default:
        throw new Error(`the native load generator does not implement "${cmd}": use --gen node`);
    }
    return [await this.request(line.trimEnd())];
  }
  /** one process owns every client id */
  idsFor(w, n) {
    return w === 0 ? Array.from({ length: n }, (_, i) => i) : [];
  }
  /** CPU seconds (user+sys) used by the generator process so far */
  cpuSec() {
    try {
      const f = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return (Number(rest[11]) + Number(rest[12])) / 100;
    } catch { return null; }
  }
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.exitErr) return;
    await Promise.race([this.request('close').catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    this.proc.stdin.end();
    const t = Date.now();
    while (this.proc.exitCode === null && this.proc.signalCode === null && Date.now() - t < 3000) await new Promise((r) => setTimeout(r, 20));
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
