#!/usr/bin/env node
// freeq bench runner: starts a server on free ports with a fresh data dir, drives one scenario with
// the worker-thread load generator (bench/loadgen.mjs), samples the server's RSS from
// /proc/<pid>/status and prints ONE JSON line. With --against it runs the same scenario against
// another server (ngircd, inspircd, or any command with {port}/{dir} placeholders) in the same
// run and adds the ratio freeq/other for every numeric result.
//
//   node bench/run.mjs <connect|idle|fanout|channels|sasl|history> [--clients N] [--senders S] [--rate R]
//        [--channels C] [--duration s] [--workers W] [--inflight K] [--pad bytes]
//        [--against ngircd|inspircd|"<command with {port} and {dir}>"] [--keep]
//
// See docs/performance.md.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadGen, mergeHist } from './loadgen.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// servers we started: killed if the runner itself is interrupted
const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { for (const c of children) c.kill('SIGKILL'); process.exit(130); });

// ---------------------------------------------------------------- arguments
const argv = process.argv.slice(2);
const scenario = argv[0];
const opt = {
  clients: undefined, senders: 1, rate: 1000, channels: 50, duration: 10, workers: 2, inflight: 200,
  pad: 32, against: undefined, settle: 3, srcAddrs: 50, keep: false, prefill: 5000, limit: 100,
};
for (let i = 1; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith('--')) die(`unexpected argument ${a}`);
  const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (!(key in opt)) die(`unknown option ${a}`);
  if (typeof opt[key] === 'boolean') { opt[key] = true; continue; }
  const v = argv[++i];
  if (v === undefined) die(`${a} needs a value`);
  opt[key] = key === 'against' ? v : Number(v);
  if (key !== 'against' && !Number.isFinite(opt[key])) die(`${a}: not a number: ${v}`);
}
const defaults = { connect: 2000, idle: 5000, fanout: 200, channels: 1000, sasl: 2000, history: 50 };
const NOT_YET = [];
if (NOT_YET.includes(scenario)) die(`scenario "${scenario}" is not implemented yet (see docs/performance.md)`, 2);
if (!(scenario in defaults)) die(`usage: node bench/run.mjs <connect|idle|fanout|channels|sasl|history> [options]`);
opt.clients ??= defaults[scenario];

function die(msg, code = 1) {
  process.stderr.write(`bench: ${msg}\n`);
  process.stdout.write(JSON.stringify({ scenario, error: msg }) + '\n');
  process.exit(code);
}

// ---------------------------------------------------------------- servers
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function rssKb(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(st);
    const h = /VmHWM:\s+(\d+) kB/.exec(st);
    return { rss: m ? Number(m[1]) : null, hwm: h ? Number(h[1]) : null };
  } catch { return { rss: null, hwm: null }; }
}

/** cpu seconds (user+sys) of a process from /proc/<pid>/stat */
function cpuSec(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime (field 14, 15), clk_tck 100
  } catch { return null; }
}

async function startServer(kind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `freeq-bench-${kind.name}-`));
  const port = await freePort();
  let cmd;
  if (kind.name === 'freeq') {
    if (!fs.existsSync(path.join(root, 'server/dist/main.js'))) {
      process.stderr.write('bench: server/dist missing, running npm run build\n');
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const relaxed = fs.readFileSync(path.join(here, 'relaxed.args'), 'utf8').trim();
    const web = await freePort();
    cmd = `node ${path.join(root, 'server/bin/freeq-server.js')} ${relaxed} --listen-addr 127.0.0.1:${port} --web-addr 127.0.0.1:${web} --data-dir ${dir}`;
  } else if (kind.name === 'ngircd' || kind.name === 'inspircd') {
    const tmpl = fs.readFileSync(path.join(here, `${kind.name}.conf.tmpl`), 'utf8');
    const conf = path.join(dir, `${kind.name}.conf`);
    fs.writeFileSync(conf, tmpl.replaceAll('{PORT}', String(port)).replaceAll('{DIR}', dir));
    fs.writeFileSync(path.join(dir, 'motd.txt'), 'bench\n');
    cmd = kind.name === 'ngircd' ? `ngircd -n -f ${conf}` : `inspircd --nofork --runasroot --config=${conf}`;
  } else {
    cmd = kind.command.replaceAll('{port}', String(port)).replaceAll('{dir}', dir);
  }
  // exec: the shell is replaced, so child.pid is the server's pid (RSS sampling, kill)
  const child = spawn('/bin/sh', ['-c', `ulimit -n 20000 2>/dev/null; exec ${cmd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind.name} exited (${child.exitCode}): ${stderr}`);
    const ok = await new Promise((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`${kind.name} did not listen on ${port}: ${stderr}`); }
    await sleep(100);
  }
  await sleep(1000); // let start-up allocations settle before the baseline RSS
  return {
    name: kind.name, cmd, port, dir, pid: child.pid, child, stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = Date.now();
        while (child.exitCode === null && Date.now() - t < 5000) await sleep(50);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!opt.keep) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- scenarios
async function connectAll(lg, srv, n, extra = {}) {
  const t0 = process.hrtime.bigint();
  const cpu0 = cpuSec(srv.pid);
  const res = await lg.all('connect', (w) => ({ ids: lg.idsFor(w, n), inflight: Math.max(1, Math.ceil(opt.inflight / lg.workers.length)), ...extra }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const ok = res.reduce((a, r) => a + r.ok, 0);
  const failed = res.reduce((a, r) => a + r.failed, 0);
  const reasons = {};
  for (const r of res) for (const [k, v] of Object.entries(r.reasons)) reasons[k] = (reasons[k] || 0) + v;
  return { ok, failed, reasons, secs, serverCpu: cpuSec(srv.pid) - cpu0 };
}

async function runScenario(kind) {
  const srv = await startServer(kind);
  const lg = new LoadGen({ workers: opt.workers, host: '127.0.0.1', port: srv.port, srcAddrs: opt.srcAddrs });
  await lg.start();
  try {
    const base = rssKb(srv.pid);
    const out = { server: srv.name, rss_base_kb: base.rss };
    const n = opt.clients;
    if (scenario === 'sasl') {
      // keys are generated before the timed phase; did:key resolves locally (no network, no cache miss)
      const kt = Date.now();
      const kr = await lg.all('keys', (w) => ({ ids: lg.idsFor(w, n) }));
      out.keygen_s = round((Date.now() - kt) / 1000, 2);
      out.sample_did = kr[0].sample;
    }
    const c = await connectAll(lg, srv, n, scenario === 'sasl' ? { sasl: true }
      : scenario === 'history' ? { caps: ['draft/chathistory', 'batch', 'server-time', 'message-tags'] } : {});
    if (scenario === 'sasl') {
      out.logins = c.ok;
      out.logins_per_s = round(c.ok / c.secs, 0);
      out.server_cpu_per_login_ms = round((c.serverCpu * 1000) / Math.max(1, c.ok), 3);
      out.inflight = opt.inflight;
    }
    Object.assign(out, {
      registered: c.ok, failed: c.failed, ...(c.failed ? { fail_reasons: c.reasons } : {}),
      time_to_all_s: round(c.secs, 3), registrations_per_s: round(c.ok / c.secs, 0), server_cpu_s: round(c.serverCpu, 2),
    });
    if (scenario === 'connect' || scenario === 'sasl') {
      const r = rssKb(srv.pid);
      out.rss_kb = r.rss;
      out.rss_per_conn_kb = round((r.rss - base.rss) / Math.max(1, c.ok), 2);
    } else if (scenario === 'idle') {
      await sleep(opt.settle * 1000);
      const r = rssKb(srv.pid);
      Object.assign(out, { held_s: opt.settle, rss_kb: r.rss, rss_peak_kb: r.hwm, rss_per_conn_kb: round((r.rss - base.rss) / Math.max(1, c.ok), 2) });
      const st = await lg.all('stats');
      out.open_after = st.reduce((a, s) => a + s.open, 0);
    } else if (scenario === 'history') {
      // client 0 joins alone and pre-fills #hist through the server; then everyone joins and
      // runs a closed loop of CHATHISTORY LATEST/BEFORE (one query in flight per client)
      const chan = '#hist';
      await lg.all('join', (w) => ({ channels: w === 0 ? { 0: chan } : {} }));
      const fromMs = Date.now();
      const tp = Date.now();
      const pf = await lg.all('prefill', (w) => (w === 0 ? { id: 0, target: chan, count: opt.prefill, perTick: 100, pad: opt.pad } : { id: -1, target: chan, count: 0, perTick: 0, pad: 0 }));
      if (!pf[0].lastTime) throw new Error('prefill: last message never showed up in CHATHISTORY LATEST');
      const toMs = Date.parse(pf[0].lastTime);
      out.prefilled = pf[0].sent;
      out.prefill_s = round((Date.now() - tp) / 1000, 2);
      const j = await lg.all('join', (w) => ({ channels: Object.fromEntries(lg.idsFor(w, n).filter((id) => id !== 0).map((id) => [id, chan])) }));
      out.joined = j.reduce((a, r) => a + r.joined, 0) + 1;
      await sleep(500);
      const cpu0 = cpuSec(srv.pid);
      const hr = await lg.all('history', (w) => ({ ids: lg.idsFor(w, n), target: chan, limit: opt.limit, durationMs: opt.duration * 1000, fromMs, toMs }));
      const secs = Math.max(...hr.map((r) => r.secs));
      const cpu = cpuSec(srv.pid) - cpu0;
      const batches = hr.reduce((a, r) => a + r.batches, 0);
      const msgs = hr.reduce((a, r) => a + r.msgs, 0);
      Object.assign(out, {
        query_clients: n, limit: opt.limit, queries: hr.reduce((a, r) => a + r.queries, 0), batches, fails: hr.reduce((a, r) => a + r.fails, 0),
        batches_per_s: round(batches / secs, 0), msgs_per_batch: round(msgs / Math.max(1, batches), 1), msgs_per_s: round(msgs / secs, 0),
        server_cpu_util: round(cpu / secs, 2), server_cpu_per_query_ms: round((cpu * 1000) / Math.max(1, batches), 3),
        rss_kb: rssKb(srv.pid).rss,
      });
    } else if (scenario === 'fanout' || scenario === 'channels') {
      const C = scenario === 'fanout' ? 1 : opt.channels;
      const chanOf = (id) => (C === 1 ? '#bench' : `#c${id % C}`);
      const t0 = Date.now();
      const j = await lg.all('join', (w) => ({ channels: Object.fromEntries(lg.idsFor(w, n).map((id) => [id, chanOf(id)])) }));
      out.joined = j.reduce((a, r) => a + r.joined, 0);
      out.join_s = round((Date.now() - t0) / 1000, 2);
      const members = new Map();
      for (let id = 0; id < n; id++) members.set(chanOf(id), (members.get(chanOf(id)) || 0) + 1);
      await sleep(1000);
      await lg.all('fast');
      // fanout: the first S clients send (R/S each); channels: every client sends (R/N each)
      const S = scenario === 'fanout' ? Math.min(opt.senders, n) : n;
      const perSender = opt.rate / S;
      const rss0 = rssKb(srv.pid).rss;
      const cpu0 = cpuSec(srv.pid);
      const ts = Date.now();
      const sres = await lg.all('send', (w) => ({
        senders: lg.idsFor(w, n).filter((id) => id < S).map((id) => [id, chanOf(id)]),
        rate: perSender, durationMs: opt.duration * 1000, pad: opt.pad,
      }));
      const sendSecs = (Date.now() - ts) / 1000;
      const cpuSend = cpuSec(srv.pid) - cpu0;
      const rssDuring = rssKb(srv.pid);
      let expected = 0, sent = 0;
      for (const r of sres) { sent += r.sent; for (const [t, k] of Object.entries(r.byTarget)) expected += k * ((members.get(t) || 1) - 1); }
      // drain: until everything arrived or nothing new for 1.5 s (max 20 s)
      let last = -1, stable = 0, st;
      const drainStart = Date.now();
      for (;;) {
        st = await lg.all('stats');
        const got = st.reduce((a, s) => a + s.received, 0);
        if (got >= expected) break;
        if (got === last) { if (++stable >= 3) break; } else stable = 0;
        last = got;
        if (Date.now() - drainStart > 20000) break;
        await sleep(500);
      }
      const received = st.reduce((a, s) => a + s.received, 0);
      const lat = mergeHist(st);
      Object.assign(out, {
        members_per_channel: C === 1 ? n : round(n / C, 1), channels: C, senders: S,
        offered_msgs_per_s: opt.rate, sent, sent_per_s: round(sent / sendSecs, 0),
        expected_deliveries: expected, delivered: received, lost: expected - received,
        delivered_per_s: round(received / sendSecs, 0),
        drain_s: round((Date.now() - drainStart) / 1000, 2),
        latency_ms: lat,
        server_cpu_util: round(cpuSend / sendSecs, 2),
        rss_before_send_kb: rss0, rss_after_send_kb: rssDuring.rss, rss_peak_kb: rssDuring.hwm,
        open_after: st.reduce((a, s) => a + s.open, 0),
      });
    }
    out.server_alive = srv.child.exitCode === null;
    if (!out.server_alive) out.server_stderr = srv.stderr().slice(-500);
    return out;
  } finally {
    await lg.stop();
    await srv.stop();
  }
}

function round(x, d) { const f = 10 ** d; return Math.round(x * f) / f; }

function ratios(a, b, prefix = '') {
  const r = {};
  for (const [k, v] of Object.entries(a)) {
    const w = b?.[k];
    if (typeof v === 'number' && typeof w === 'number' && w !== 0) r[prefix + k] = round(v / w, 3);
    else if (v && typeof v === 'object' && w && typeof w === 'object') Object.assign(r, ratios(v, w, `${prefix}${k}.`));
  }
  return r;
}

// ---------------------------------------------------------------- main
const params = { ...opt };
delete params.keep;
const machine = { nproc: os.cpus().length, node: process.version, mem_gb: round(os.totalmem() / 2 ** 30, 1) };
try {
  const freeq = await runScenario({ name: 'freeq' });
  const line = { scenario, params, machine, freeq };
  if (opt.against) {
    const kind = ['ngircd', 'inspircd'].includes(opt.against) ? { name: opt.against } : { name: 'other', command: opt.against };
    await sleep(1000);
    const other = await runScenario(kind);
    line.against = other;
    line.ratio_freeq_over_other = ratios(freeq, other);
  }
  process.stdout.write(JSON.stringify(line) + '\n');
  process.exit(0);
} catch (e) {
  die(String(e?.stack || e));
}
