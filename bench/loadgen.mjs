// freeq bench load generator: Node worker_threads, raw net sockets, no IRC library.
//
// The main thread (bench/run.mjs) creates a LoadGen; each worker owns a slice of the client
// connections and talks to the server with plain NICK/USER/JOIN/PRIVMSG lines. Setup phases
// (registration, JOIN) parse lines; the measured phase only scans received bytes for the
// benchmark marker " :BM " and the timestamp after it, so the generator stays cheap.
//
// Latency: the sender embeds process.hrtime.bigint() (CLOCK_MONOTONIC, the same clock in every
// thread) taken right before socket.write; the receiver subtracts it from its own clock on arrival.
// Latencies go into a log-bucket histogram (2 % bucket width) merged by the main thread.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import { splitCommand } from './lib.mjs';

const BUCKET_BASE = Math.log(1.02);
const NBUCKETS = 1400; // 1.02^1400 µs ≈ far beyond any run
const bucketOf = (us) => (us <= 1 ? 0 : Math.min(NBUCKETS - 1, Math.ceil(Math.log(us) / BUCKET_BASE)));
const bucketUpper = (b) => Math.pow(1.02, b);
const nowNs = () => Number(process.hrtime.bigint());

// ---------------------------------------------------------------- main thread side
export class LoadGen {
  /** @param {{workers:number, host:string, port:number, srcAddrs:number}} opts */
  constructor(opts) {
    this.opts = opts;
    this.workers = [];
    this.seq = 0;
    this.pending = new Map();
  }
  async start() {
    const file = fileURLToPath(import.meta.url);
    for (let w = 0; w < this.opts.workers; w++) {
      const worker = new Worker(file, { workerData: { index: w, ...this.opts } });
      worker.on('message', (m) => {
        const p = this.pending.get(m.reqId);
        if (p) { this.pending.delete(m.reqId); p(m); }
      });
      worker.on('error', (e) => { console.error('loadgen worker error', e); process.exitCode = 1; });
      this.workers.push(worker);
    }
  }
  /** send one request to every worker; args(w) gives the per-worker payload */
  all(cmd, args = () => ({})) {
    return Promise.all(this.workers.map((worker, w) => new Promise((resolve) => {
      const reqId = ++this.seq;
      this.pending.set(reqId, resolve);
      worker.postMessage({ cmd, reqId, ...args(w) });
    })));
  }
  /** split client ids 0..n-1 round-robin over workers */
  idsFor(w, n) {
    const ids = [];
    for (let i = w; i < n; i += this.workers.length) ids.push(i);
    return ids;
  }
  /** CPU seconds (user+sys) of this whole process: the worker threads plus the runner's main thread */
  cpuSec() {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  async stop() {
    await this.all('close').catch(() => {});
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export function mergeHist(results) {
  const h = new Float64Array(NBUCKETS);
  let max = 0, n = 0;
  for (const r of results) {
    if (!r.hist) continue;
    for (let i = 0; i < NBUCKETS; i++) h[i] += r.hist[i];
    if (r.maxUs > max) max = r.maxUs;
    n += r.latN;
  }
  const pct = (p) => {
    if (n === 0) return null;
    const target = Math.ceil(n * p);
    let acc = 0;
    for (let i = 0; i < NBUCKETS; i++) { acc += h[i]; if (acc >= target) return Math.min(bucketUpper(i), max); }
    return max;
  };
  const ms = (us) => (us == null ? null : Math.round(us) / 1000);
  return { samples: n, p50_ms: ms(pct(0.5)), p90_ms: ms(pct(0.9)), p99_ms: ms(pct(0.99)), max_ms: ms(max) };
}

// ---------------------------------------------------------------- worker side
if (!isMainThread) {
  const { host, port, srcAddrs } = workerData;
  /** @type {Map<number, Conn>} */
  const conns = new Map();
  let hist = new Float64Array(NBUCKETS);
  let maxUs = 0, latN = 0, received = 0, stale = 0;
  let resetNs = 0; // messages stamped before the last 'fast' (a previous sweep step) count as stale
  let histBatches = 0, histMsgs = 0, histFails = 0;
  const MARK = Buffer.from(' :BM ');
  const NL = 10;

  class Conn {
    constructor(id) {
      this.id = id;
      this.nick = `b${id}`;
      this.carry = null;
      this.fast = false;
      this.registered = false;
      this.waiters = [];
      this.closed = false;
      this.sock = null;
    }
    /**
     * opts.caps: capabilities to request (CAP LS 302 / CAP REQ / … / CAP END);
     * opts.sasl: {did, priv} → SASL ATPROTO-CHALLENGE crypto login before CAP END.
     */
    connect(onDone, opts = {}) {
      const localAddress = srcAddrs > 1 ? `127.0.0.${2 + (this.id % Math.min(srcAddrs, 250))}` : undefined;
      const sock = net.connect({ host, port, localAddress, noDelay: true });
      this.sock = sock;
      let done = false;
      const finish = (ok, why) => { if (!done) { done = true; onDone(ok, why); } };
      const caps = opts.sasl ? ['sasl', ...(opts.caps || [])] : opts.caps || [];
      sock.on('connect', () => {
        const pre = caps.length ? `CAP LS 302\r\nCAP REQ :${caps.join(' ')}\r\n` : '';
        const post = opts.sasl ? 'AUTHENTICATE ATPROTO-CHALLENGE\r\n' : caps.length ? 'CAP END\r\n' : '';
        sock.write(`${pre}NICK ${this.nick}\r\nUSER b${this.id} 0 * :freeq bench\r\n${post}`);
      });
      if (caps.length) this.waitFor((cmd, rest) => cmd === 'CAP' && / NAK /.test(rest), () => finish(false, `CAP NAK`));
      if (opts.sasl) {
        let ch = '';
        const onAuth = (line) => {
          const arg = line.slice(line.indexOf('AUTHENTICATE ') + 13);
          if (arg !== '+') ch += arg;
          if (arg === '+' || arg.length < 400) {
            // native (OpenSSL) Ed25519: ~30 µs instead of ~1 ms in pure JS, so signing does not eat the server's cores
            const sig = crypto.sign(null, Buffer.from(ch, 'base64url'), opts.sasl.priv);
            const resp = Buffer.from(JSON.stringify({ did: opts.sasl.did, method: 'crypto', signature: sig.toString('base64url') })).toString('base64url');
            let out = '';
            for (let i = 0; i < resp.length; i += 400) out += `AUTHENTICATE ${resp.slice(i, i + 400)}\r\n`;
            if (resp.length % 400 === 0) out += 'AUTHENTICATE +\r\n';
            sock.write(out);
          }
        };
        this.onAuth = onAuth;
        this.waitFor((cmd) => cmd === '903', () => { this.loggedIn = true; sock.write('CAP END\r\n'); });
        // reason: the numeric and its text, without the server name and nick (so that they add up)
        this.waitFor((cmd) => cmd === '904' || cmd === '905' || cmd === '906', (line) => {
          const rest = line.slice(line.indexOf(' ') + 1);
          const txt = rest.indexOf(' :');
          finish(false, `${rest.slice(0, 3)} ${txt < 0 ? '' : rest.slice(txt + 2)}`.slice(0, 120));
        });
      }
      sock.on('data', (buf) => this.onData(buf));
      sock.on('error', (e) => { finish(false, e.code || String(e)); });
      sock.on('close', () => { this.closed = true; finish(false, 'closed'); });
      this.waitFor((cmd) => cmd === '376' || cmd === '422', () => { this.registered = true; finish(true); });
      this.waitFor((cmd) => cmd === 'ERROR' || cmd === '433' || cmd === '432' || cmd === '465', (line) => finish(false, line.slice(0, 120)));
    }
    waitFor(pred, cb) { this.waiters.push({ pred, cb }); }
    onData(buf) {
      if (this.carry) { buf = Buffer.concat([this.carry, buf]); this.carry = null; }
      const last = buf.lastIndexOf(NL);
      if (last < 0) { this.carry = Buffer.from(buf); return; }
      if (last < buf.length - 1) this.carry = Buffer.from(buf.subarray(last + 1));
      const body = last === buf.length - 1 ? buf : buf.subarray(0, last + 1);
      if (this.hist) this.scanHist(body);
      else if (this.fast) this.scanFast(body);
      else this.scanLines(body.toString('latin1'));
    }
    /** history phase: count batch ends and PRIVMSG lines; each batch end triggers the next query */
    scanHist(buf) {
      let at = 0;
      for (;;) { const i = buf.indexOf(' PRIVMSG ', at); if (i < 0) break; histMsgs++; at = i + 9; }
      at = 0;
      for (;;) {
        const i = buf.indexOf(' BATCH -', at);
        if (i < 0) break;
        at = i + 8;
        histBatches++;
        if (this.hist.running) this.hist.next();
      }
      if (buf.indexOf('FAIL ') >= 0) { histFails++; if (this.hist.running) this.hist.next(); }
      if (buf.indexOf('PING ') >= 0) this.scanLines(buf.toString('latin1'), true);
    }
    scanFast(buf) {
      let at = 0;
      const t = nowNs();
      for (;;) {
        const i = buf.indexOf(MARK, at);
        if (i < 0) break;
        let j = i + MARK.length, ts = 0;
        for (let c = buf[j]; c >= 48 && c <= 57; c = buf[++j]) ts = ts * 10 + (c - 48);
        at = j;
        if (ts < resetNs) { stale++; continue; }
        const us = (t - ts) / 1000;
        hist[bucketOf(us)]++;
        if (us > maxUs) maxUs = us;
        latN++; received++;
      }
      // PING may arrive during the measured phase (server keepalive): answer it.
      if (buf.indexOf('PING ') >= 0) this.scanLines(buf.toString('latin1'), true);
    }
    scanLines(text, pingOnly = false) {
      for (const raw of text.split('\n')) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (!line) continue;
        const { cmd, rest } = splitCommand(line);
        if (cmd === 'PING') { this.sock.write(`PONG ${rest.slice(5)}\r\n`); continue; }
        if (pingOnly) continue;
        if (cmd === 'AUTHENTICATE' && this.onAuth) { this.onAuth(line); continue; }
        if (cmd === 'PRIVMSG' && rest.includes(' :BM ')) this.scanFast(Buffer.from(line + '\n', 'latin1'));
        if (this.waiters.length) {
          for (let k = 0; k < this.waiters.length; k++) {
            const w = this.waiters[k];
            if (w.pred(cmd, rest)) { this.waiters.splice(k, 1); k--; w.cb(line); }
          }
        }
      }
    }
  }

  /** id → {priv: KeyObject, did} for the sasl scenario */
  const keys = new Map();
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  function base58(bytes) {
    let n = 0n;
    for (const b of bytes) n = n * 256n + BigInt(b);
    let out = '';
    while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n; }
    for (const b of bytes) { if (b !== 0) break; out = '1' + out; }
    return out;
  }
  const reply = (m, extra) => parentPort.postMessage({ reqId: m.reqId, ...extra });

  parentPort.on('message', async (m) => {
    switch (m.cmd) {
      case 'connect': {
        // m.ids: global client ids; m.inflight: concurrent connection attempts in this worker
        const ids = m.ids;
        let next = 0, ok = 0, failed = 0, active = 0;
        const reasons = {};
        const t0 = nowNs();
        let lastDone = t0;
        await new Promise((resolve) => {
          if (ids.length === 0) return resolve();
          const launch = () => {
            while (active < m.inflight && next < ids.length) {
              const c = new Conn(ids[next++]);
              conns.set(c.id, c);
              active++;
              const sasl = m.sasl ? keys.get(c.id) : undefined;
              c.connect((good, why) => {
                if (good && m.sasl && !c.loggedIn) { good = false; why = 'registered without 903'; }
                active--;
                // a failed client is closed (as in the native generator): it must not keep its nick
                if (good) ok++; else { failed++; reasons[why] = (reasons[why] || 0) + 1; conns.delete(c.id); c.sock.destroy(); }
                lastDone = nowNs();
                if (ok + failed === ids.length) resolve(); else launch();
              }, { sasl, caps: m.caps });
            }
          };
          launch();
        });
        reply(m, { ok, failed, reasons, t0, lastDone });
        break;
      }
      case 'keys': {
        // pre-generate ed25519 did:key identities for m.ids (outside the timed phase), natively:
        // did:key:z + base58btc(multicodec 0xed 0x01 + raw 32-byte public key)
        for (const id of m.ids) {
          const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
          const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
          keys.set(id, { priv: privateKey, did: `did:key:z${base58(Uint8Array.from([0xed, 0x01, ...pub]))}` });
        }
        reply(m, { n: m.ids.length, sample: keys.get(m.ids[0])?.did });
        break;
      }
      case 'prefill': {
        // m.id sends m.count PRIVMSGs to m.target (m.perTick every 5 ms), then polls
        // CHATHISTORY LATEST until the last one is stored; replies with the last server-time
        const c = conns.get(m.id);
        if (!c || m.count === 0) { reply(m, { sent: 0, lastTime: null }); break; }
        const pad = 'x'.repeat(m.pad);
        let i = 0;
        await new Promise((resolve) => {
          const tick = () => {
            let out = '';
            for (let k = 0; k < m.perTick && i < m.count; k++, i++) out += `PRIVMSG ${m.target} :h${i} ${pad}\r\n`;
            c.sock.write(out);
            if (i >= m.count) resolve(); else setTimeout(tick, 5);
          };
          tick();
        });
        const want = `:h${m.count - 1} `;
        let lastTime = null;
        for (let tries = 0; tries < 600 && !lastTime; tries++) {
          lastTime = await new Promise((resolve) => {
            let found = null;
            c.waitFor((cmd, rest) => cmd === 'PRIVMSG' && rest.includes(want) , (line) => { found = /time=([^; ]+)/.exec(line)?.[1] ?? null; });
            c.waitFor((cmd, rest) => cmd === 'BATCH' && rest.startsWith('BATCH -'), () => resolve(found));
            c.sock.write(`CHATHISTORY LATEST ${m.target} * 1\r\n`);
          });
          // drop a leftover PRIVMSG waiter if this poll did not find the message
          c.waiters = c.waiters.filter((w) => !String(w.pred).includes('want'));
          if (!lastTime) await new Promise((r) => setTimeout(r, 100));
        }
        reply(m, { sent: i, lastTime });
        break;
      }
      case 'history': {
        // every connection in m.ids runs a closed loop of CHATHISTORY queries for m.durationMs
        histBatches = 0; histMsgs = 0; histFails = 0;
        const t0 = Date.now();
        const endAt = t0 + m.durationMs;
        let queries = 0;
        const span = m.toMs - m.fromMs;
        await new Promise((resolve) => {
          let running = 0;
          for (const id of m.ids) {
            const c = conns.get(id);
            if (!c) continue;
            running++;
            let n = 0;
            c.hist = {
              running: true,
              next() {
                if (Date.now() >= endAt) { this.running = false; if (--running === 0) resolve(); return; }
                n++; queries++;
                const q = (n + id) % 2 === 0
                  ? `CHATHISTORY LATEST ${m.target} * ${m.limit}`
                  : `CHATHISTORY BEFORE ${m.target} timestamp=${new Date(m.fromMs + Math.random() * span).toISOString()} ${m.limit}`;
                c.sock.write(q + '\r\n');
              },
            };
            c.hist.next();
          }
          if (running === 0) resolve();
        });
        const secs = (Date.now() - t0) / 1000;
        for (const id of m.ids) { const c = conns.get(id); if (c) c.hist = null; }
        reply(m, { queries, batches: histBatches, msgs: histMsgs, fails: histFails, secs });
        break;
      }
      case 'join': {
        // m.channels: {id: channel}; wait for 366 (end of NAMES) per join
        const entries = Object.entries(m.channels);
        let done = 0, failed = 0;
        await new Promise((resolve) => {
          if (entries.length === 0) return resolve();
          for (const [idStr, chan] of entries) {
            const c = conns.get(Number(idStr));
            if (!c) { failed++; if (++done === entries.length) resolve(); continue; }
            c.waitFor((cmd) => cmd === '366' || cmd === '405' || cmd === '471' || cmd === '500' || cmd === '403', (line) => {
              if (!/ 366 /.test(line)) failed++;
              if (++done === entries.length) resolve();
            });
            c.sock.write(`JOIN ${chan}\r\n`);
          }
        });
        reply(m, { joined: done - failed, failed });
        break;
      }
      case 'fast': {
        for (const c of conns.values()) c.fast = true;
        hist = new Float64Array(NBUCKETS); maxUs = 0; latN = 0; received = 0; stale = 0;
        resetNs = nowNs();
        reply(m, {});
        break;
      }
      case 'send': {
        // m.senders: [[id, target], ...]; m.rate: messages/s per sender; m.durationMs; m.pad
        const senders = m.senders.map(([id, target]) => ({ c: conns.get(id), target, sent: 0 })).filter((s) => s.c);
        const pad = 'x'.repeat(m.pad);
        const start = nowNs();
        const endNs = start + m.durationMs * 1e6;
        let sent = 0;
        await new Promise((resolve) => {
          const tick = () => {
            const t = nowNs();
            const el = Math.min(t, endNs) - start;
            for (const s of senders) {
              const due = Math.floor((el / 1e9) * m.rate) - s.sent;
              if (due <= 0) continue;
              let out = '';
              for (let k = 0; k < due; k++) out += `PRIVMSG ${s.target} :BM ${nowNs()} ${pad}\r\n`;
              s.c.sock.write(out);
              s.sent += due; sent += due;
            }
            if (t >= endNs) resolve(); else setTimeout(tick, 2);
          };
          tick();
        });
        const byTarget = {};
        for (const s of senders) byTarget[s.target] = (byTarget[s.target] || 0) + s.sent;
        reply(m, { sent, byTarget });
        break;
      }
      case 'stats': {
        reply(m, { received, stale, hist: Array.from(hist), maxUs, latN, open: [...conns.values()].filter((c) => !c.closed).length });
        break;
      }
      case 'close': {
        for (const c of conns.values()) c.sock.destroy();
        conns.clear();
        reply(m, {});
        break;
      }
    }
  });
}
