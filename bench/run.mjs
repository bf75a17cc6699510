#!/usr/bin/env node
// freeq bench runner: starts a server on free ports with a fresh data dir, drives one scenario with
// a load generator, samples the server's RSS from /proc/<pid>/status and CPU from /proc/<pid>/stat,
// and prints ONE JSON line. With --against it runs the same scenario against another server
// (ngircd, inspircd, or any command with {port}/{dir} placeholders) in the same run and adds the
// ratio freeq/other for every numeric result.
//
// Generators (--gen): "native" = bench/native/loadgen.c driven by bench/native-gen.mjs (one C
// process, epoll; default for connect, idle, fanout, channels and sasl), "node" = bench/loadgen.mjs
// (worker threads; needed for history). --sweep runs the fanout/channels send phase at
// several offered rates on the same server and connections and reports the highest sustained one.
// sasl logs every client in once (warm-up, untimed), closes them all, waits until the server has
// let go of them, and times a second round with the same identities and nicks (--cold: one round
// with fresh identities only).
//
//   node bench/run.mjs <connect|idle|fanout|channels|sasl|history> [--clients N] [--senders S] [--rate R]
//        [--channels C] [--duration s] [--workers W] [--inflight K] [--pad bytes] [--gen native|node] [--cold]
//        [--sweep auto|r1,r2,...] [--sweep-start R] [--sweep-bisect B] [--sweep-max-s s]
//        [--against ngircd|inspircd|"<command with {port} and {dir}>"] [--keep]
//
// See docs/performance.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadGen, mergeHist } from './loadgen.mjs';
import { ensureBuilt, freePort } from './lib.mjs';
import { NativeGen, buildNative } from './native-gen.mjs';

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
  gen: undefined, sweep: undefined, sweepStart: undefined, sweepBisect: 2, sweepMaxS: 480, coalesceUs: 200,
  cold: false, baseSettle: 0,
};
const STRING_OPTS = new Set(['against', 'gen', 'sweep']);
for (let i = 1; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith('--')) die(`unexpected argument ${a}`);
  const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (!(key in opt)) die(`unknown option ${a}`);
  if (typeof opt[key] === 'boolean') { opt[key] = true; continue; }
  const v = argv[++i];
  if (v === undefined) die(`${a} needs a value`);
  opt[key] = STRING_OPTS.has(key) ? v : Number(v);
  if (!STRING_OPTS.has(key) && !Number.isFinite(opt[key])) die(`${a}: not a number: ${v}`);
}
const defaults = { connect: 2000, idle: 5000, fanout: 200, channels: 1000, sasl: 2000, history: 50 };
const NOT_YET = [];
if (NOT_YET.includes(scenario)) die(`scenario "${scenario}" is not implemented yet (see docs/performance.md)`, 2);
if (!(scenario in defaults)) die(`usage: node bench/run.mjs <connect|idle|fanout|channels|sasl|history> [options]`);
opt.clients ??= defaults[scenario];
const NODE_ONLY = ['history']; // CHATHISTORY is only in bench/loadgen.mjs
let genNote;
if (opt.gen === undefined && scenario === 'sasl') {
  // native by default; the Node generator if the native one cannot be built with OpenSSL
  let why = null;
  try { if (!buildNative().sasl) why = 'native generator built without OpenSSL'; } catch (e) { why = String(e.message).split('\n')[0]; }
  if (why) { genNote = `fell back to --gen node: ${why}`; process.stderr.write(`bench: ${genNote}\n`); }
  opt.gen = why ? 'node' : 'native';
}
opt.gen ??= NODE_ONLY.includes(scenario) ? 'node' : 'native';
if (!['native', 'node'].includes(opt.gen)) die(`--gen must be native or node`);
if (opt.gen === 'native' && NODE_ONLY.includes(scenario)) die(`scenario "${scenario}" needs --gen node (the native generator does no CHATHISTORY)`);
if (opt.gen === 'native' && scenario === 'sasl' && !buildNative().sasl) die('the native generator was built without OpenSSL (apt-get install libssl-dev), so no SASL: use --gen node');
if (opt.cold && scenario !== 'sasl') die('--cold is for sasl');
if (opt.gen === 'native') delete opt.workers; // one C process; --workers is for the node generator
else delete opt.coalesceUs;
let sweepList = null;
if (opt.sweep !== undefined) {
  if (scenario !== 'fanout' && scenario !== 'channels') die('--sweep is for fanout and channels');
  if (opt.sweep !== 'auto') {
    sweepList = opt.sweep.split(',').map(Number);
    if (!sweepList.length || sweepList.some((r) => !(r > 0))) die(`--sweep: expected auto or a list of rates, got ${opt.sweep}`);
  }
}

function die(msg, code = 1) {
  process.stderr.write(`bench: ${msg}\n`);
  process.stdout.write(JSON.stringify({ scenario, error: msg }) + '\n');
  process.exit(code);
}

// ---------------------------------------------------------------- servers
function rssKb(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(st);
    const h = /VmHWM:\s+(\d+) kB/.exec(st);
    return { rss: m ? Number(m[1]) : null, hwm: h ? Number(h[1]) : null };
  } catch { return { rss: null, hwm: null }; }
}

/** cpu seconds (user+sys) of a process from /proc/<pid>/stat (or of a thread: pid = "<pid>/task/<tid>") */
function cpuSec(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime (field 14, 15), clk_tck 100
  } catch { return null; }
}

/** cpu seconds of the server's main thread (the JS event loop; its tid is the pid) */
const mainThreadCpuSec = (pid) => cpuSec(`${pid}/task/${pid}`);

/**
 * Scheduler times from /proc/<pid>/task/<tid>/schedstat: ns on a CPU and ns runnable but waiting
 * for one (run queue), summed over the given thread, or over all threads of the process.
 */
function schedstat(pid, tid) {
  let run = 0, wait = 0;
  let tids;
  try { tids = tid === undefined ? fs.readdirSync(`/proc/${pid}/task`) : [tid]; } catch { return null; }
  for (const t of tids) {
    try {
      const [r, w] = fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      run += r; wait += w;
    } catch { /* thread gone */ }
  }
  return { run, wait };
}

/** busy and total jiffies of the whole machine (/proc/stat "cpu" line; idle + iowait = not busy) */
function machineTicks() {
  try {
    const v = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - v[3] - (v[4] || 0), total };
  } catch { return null; }
}

/** sockets the process holds (its fds that are sockets: listeners and clients) */
function socketCount(pid) {
  let n = 0;
  let fds;
  try { fds = fs.readdirSync(`/proc/${pid}/fd`); } catch { return null; }
  for (const f of fds) {
    try { if (fs.readlinkSync(`/proc/${pid}/fd/${f}`).startsWith('socket:')) n++; } catch { /* closed meanwhile */ }
  }
  return n;
}

async function startServer(kind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `freeq-bench-${kind.name}-`));
  const port = await freePort();
  let cmd;
  if (kind.name === 'freeq') {
    ensureBuilt();
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
function makeGen(port) {
  const o = { host: '127.0.0.1', port, srcAddrs: opt.srcAddrs };
  return opt.gen === 'native' ? new NativeGen({ ...o, coalesceUs: opt.coalesceUs }) : new LoadGen({ workers: opt.workers, ...o });
}

/**
 * In-flight registrations for a server. Where registration speed is not what is measured (idle,
 * fanout, channels), the runner picks what suits each server; the connect scenario uses
 * --inflight as given for every server.
 * - InspIRCd 3 completes registrations only in its once-a-second background pass
 *   (UserManager::DoBackgroundUserStuff), so it registers about <in-flight> clients per second:
 *   8 in flight is 8/s, and 10,000 idle clients would take 21 minutes. At least 1000 here.
 * - ngircd listens with a backlog of 10 (hard-coded listen(sock, 10)); more attempts in flight
 *   overflow it and wait for SYN retransmits (1 s, 3 s, ...). At most 8 here.
 */
function inflightFor(srv) {
  if (scenario === 'connect') return opt.inflight;
  if (srv.name === 'inspircd') return Math.max(opt.inflight, 1000);
  if (srv.name === 'ngircd') return Math.min(opt.inflight, 8);
  return opt.inflight;
}

async function connectAll(lg, srv, n, extra = {}) {
  const t0 = process.hrtime.bigint();
  const cpu0 = cpuSec(srv.pid);
  const inflight = inflightFor(srv);
  const res = await lg.all('connect', (w) => ({ ids: lg.idsFor(w, n), inflight: Math.max(1, Math.ceil(inflight / lg.workers.length)), ...extra }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const ok = res.reduce((a, r) => a + r.ok, 0);
  const failed = res.reduce((a, r) => a + r.failed, 0);
  const reasons = {};
  for (const r of res) for (const [k, v] of Object.entries(r.reasons)) reasons[k] = (reasons[k] || 0) + v;
  return { ok, failed, reasons, secs, serverCpu: cpuSec(srv.pid) - cpu0 };
}

/** fanout/channels: every client joins its channel; returns what the send steps need */
async function setupChannels(lg, n) {
  const C = scenario === 'fanout' ? 1 : opt.channels;
  const chanOf = (id) => (C === 1 ? '#bench' : `#c${id % C}`);
  const t0 = Date.now();
  const j = await lg.all('join', (w) => ({ channels: Object.fromEntries(lg.idsFor(w, n).map((id) => [id, chanOf(id)])) }));
  const members = new Map();
  for (let id = 0; id < n; id++) members.set(chanOf(id), (members.get(chanOf(id)) || 0) + 1);
  // fanout: the first S clients send (R/S each); channels: every client sends (R/N each)
  const S = scenario === 'fanout' ? Math.min(opt.senders, n) : n;
  let fan = 0;
  for (let id = 0; id < S; id++) fan += members.get(chanOf(id)) - 1;
  await sleep(1000);
  return { C, chanOf, members, S, fanPerMsg: fan / S, joined: j.reduce((a, r) => a + r.joined, 0), join_s: round((Date.now() - t0) / 1000, 2) };
}

/**
 * One send step at `rate` msgs/s in total (spread over ctx.S senders) for durationS seconds,
 * then a drain: until everything arrived (settled), or nothing new arrived for quietMs (settled:
 * the rest is lost), or drainMaxMs (not settled). quietMs must be longer than the server's
 * pauses: freeq, overloaded, can stop delivering for more than a second and then catch up.
 * "in window" = deliveries counted by the generator when the send window closed.
 */
async function sendStep(lg, srv, ctx, n, rate, { durationS = opt.duration, quietMs = 1500, drainMaxMs = 20000 } = {}) {
  await lg.all('fast');
  const perSender = rate / ctx.S;
  const rss0 = rssKb(srv.pid).rss;
  const cpu0 = cpuSec(srv.pid);
  const g0 = lg.cpuSec();
  const ts = Date.now();
  const sres = await lg.all('send', (w) => ({
    senders: lg.idsFor(w, n).filter((id) => id < ctx.S).map((id) => [id, ctx.chanOf(id)]),
    rate: perSender, durationMs: durationS * 1000, pad: opt.pad,
  }));
  const sendSecs = (Date.now() - ts) / 1000;
  const cpuSend = cpuSec(srv.pid) - cpu0;
  const genCpu = lg.cpuSec() - g0;
  const rssDuring = rssKb(srv.pid);
  // the native generator reports its count at the end of the window; for node, ask at once
  const inWindow = sres.every((r) => typeof r.received === 'number')
    ? sres.reduce((a, r) => a + r.received, 0)
    : (await lg.all('stats')).reduce((a, s) => a + s.received, 0);
  let expected = 0, sent = 0;
  for (const r of sres) { sent += r.sent; for (const [t, k] of Object.entries(r.byTarget)) expected += k * ((ctx.members.get(t) || 1) - 1); }
  let last = -1, lastChange = Date.now(), st, settled = false;
  const drainStart = Date.now();
  for (;;) {
    st = await lg.all('stats');
    const got = st.reduce((a, s) => a + s.received, 0);
    const seen = got + st.reduce((a, s) => a + (s.stale || 0), 0);
    if (got >= expected) { settled = true; break; }
    if (seen !== last) { last = seen; lastChange = Date.now(); } else if (Date.now() - lastChange >= quietMs) { settled = true; break; }
    if (Date.now() - drainStart > drainMaxMs) break;
    await sleep(250);
  }
  const received = st.reduce((a, s) => a + s.received, 0);
  const open = st.reduce((a, s) => a + s.open, 0);
  const alive = srv.child.exitCode === null;
  const inWindowRatio = expected ? inWindow / expected : 1;
  return {
    offered_msgs_per_s: rate, offered_deliveries_per_s: round(rate * ctx.fanPerMsg, 0),
    sent, sent_per_s: round(sent / sendSecs, 0), pending_out_kb: round(sres.reduce((a, r) => a + (r.pendingOutBytes || 0), 0) / 1024, 1),
    expected_deliveries: expected, delivered: received, lost: expected - received,
    delivered_per_s: round(received / sendSecs, 0),
    delivered_in_window: inWindow, delivered_in_window_per_s: round(inWindow / sendSecs, 0), in_window_ratio: round(inWindowRatio, 4),
    stale: st.reduce((a, s) => a + (s.stale || 0), 0),
    drain_s: round((Date.now() - drainStart) / 1000, 2),
    latency_ms: mergeHist(st),
    server_cpu_util: round(cpuSend / sendSecs, 2),
    gen_cpu_util: genCpu == null ? null : round(genCpu / sendSecs, 2),
    rss_before_send_kb: rss0, rss_after_send_kb: rssDuring.rss, rss_peak_kb: rssDuring.hwm,
    open_after: open, server_alive: alive, drain_settled: settled,
    // sustained: nothing lost, the server kept pace inside the window, nobody was disconnected
    pass: expected - received === 0 && inWindowRatio >= 0.98 && open === n && alive,
  };
}

/** the fields of a step kept in the sweep's step list */
function compactStep(r) {
  return {
    offered_msgs_per_s: r.offered_msgs_per_s, offered_deliveries_per_s: r.offered_deliveries_per_s, pass: r.pass,
    delivered_per_s: r.delivered_per_s, in_window_ratio: r.in_window_ratio, lost: r.lost, drain_s: r.drain_s,
    p50_ms: r.latency_ms.p50_ms, p99_ms: r.latency_ms.p99_ms, max_ms: r.latency_ms.max_ms,
    server_cpu_util: r.server_cpu_util, gen_cpu_util: r.gen_cpu_util, open_after: r.open_after,
    ...(r.pending_out_kb ? { pending_out_kb: r.pending_out_kb } : {}), ...(r.stale ? { stale: r.stale } : {}),
    ...(r.server_alive ? {} : { server_alive: false }), ...(r.drain_settled ? {} : { drain_settled: false }),
  };
}

/**
 * Rate sweep on one server: explicit rates (sweepList) or auto: from the start rate, ×1.5 while
 * steps pass (÷1.5 while they fail) until one passing and one failing rate bracket the ceiling,
 * then --sweep-bisect geometric bisections. Then one step at half the highest sustained rate
 * (and, with --against, one at half the other server's). If a step cost connections or the
 * server, the server is restarted and the clients reconnect before the next step.
 * env.reset() restarts; env.step(rate) runs one step.
 */
async function sweep(env, extraHalf) {
  const t0 = Date.now();
  const budgetMs = opt.sweepMaxS * 1000;
  const steps = [];
  let restarts = 0, lastStepMs = opt.duration * 1000 + 3000;
  const fits = () => Date.now() - t0 + lastStepMs <= budgetMs;
  let good = null, bad = null;
  const run = async (rate, record = true) => {
    rate = Math.max(1, Math.round(rate));
    const ts = Date.now();
    const r = await env.step(rate);
    lastStepMs = Date.now() - ts;
    if (record) steps.push(compactStep(r));
    // lost clients, a dead server, or a backlog still draining after the drain limit would
    // spoil the next step: start over with a fresh server and clients, warmed up for a few
    // seconds at half the best rate so far (a cold server fails rates a warm one sustains)
    if (r.open_after < opt.clients || !r.server_alive || !r.drain_settled) {
      restarts++;
      await env.reset();
      if (good) await env.step(Math.round(good / 2), Math.min(opt.duration, 3));
    }
    return r;
  };
  let stopped = null;
  // a short unrecorded warm-up (JIT, buffers) at a low rate
  await env.step(Math.max(1, Math.round((sweepList ? sweepList[0] : opt.sweepStart ?? 200000 / env.fanPerMsg()) / 2)), Math.min(opt.duration, 2));
  if (sweepList) {
    for (const rate of sweepList) {
      if (!fits()) { stopped = 'time budget'; break; }
      const r = await run(rate);
      if (r.pass) good = Math.max(good ?? 0, r.offered_msgs_per_s);
    }
  } else {
    let rate = opt.sweepStart ?? 200000 / env.fanPerMsg(); // start near 200,000 deliveries/s
    while (!(good && bad)) {
      if (!fits()) { stopped = 'time budget'; break; }
      if (rate * env.fanPerMsg() < 1000) { stopped = 'failed even below 1000 deliveries/s'; break; }
      const r = await run(rate);
      if (r.pass) good = Math.max(good ?? 0, r.offered_msgs_per_s); else bad = Math.min(bad ?? Infinity, r.offered_msgs_per_s);
      rate = r.pass ? rate * 1.5 : rate / 1.5;
    }
    for (let i = 0; i < opt.sweepBisect && good && bad && bad / good > 1.03; i++) {
      if (!fits()) { stopped = 'time budget'; break; }
      const r = await run(Math.sqrt(good * bad));
      if (r.pass) good = r.offered_msgs_per_s; else bad = r.offered_msgs_per_s;
    }
  }
  const passed = steps.filter((s) => s.pass);
  const best = passed.length ? passed.reduce((a, b) => (b.offered_msgs_per_s > a.offered_msgs_per_s ? b : a)) : null;
  const out = {
    mode: sweepList ? 'list' : 'auto', step_s: opt.duration, steps, restarts, ...(stopped ? { stopped } : {}),
    max_sustained: best && { ...best, max_sustained_delivered_per_s: best.delivered_per_s },
    first_failed: steps.find((s) => !s.pass && (!best || s.offered_msgs_per_s > best.offered_msgs_per_s)) ?? null,
  };
  // false: no step above max_sustained failed, so it is a lower bound, not the ceiling
  out.ceiling_found = Boolean(best && out.first_failed);
  if (best) out.half_rate_step = compactStep(await run(best.offered_msgs_per_s / 2, false));
  if (extraHalf) out.at_other_half_rate_step = compactStep(await run(extraHalf, false));
  out.sweep_s = round((Date.now() - t0) / 1000, 1);
  return out;
}

/**
 * One round of SASL crypto logins: every client connects, logs in (ATPROTO-CHALLENGE, method
 * crypto) and registers, at most --inflight at a time. CPU: the server process (main thread =
 * the JS event loop; the rest is mostly libuv's pool, where signatures are checked), the
 * generator, and the whole machine (busy cores from /proc/stat: 2.0 = both cores busy).
 */
async function saslRound(lg, srv, n) {
  const genPid = lg.pid ?? process.pid; // the node generator runs in this process
  const m0 = machineTicks();
  const main0 = mainThreadCpuSec(srv.pid);
  const g0 = lg.cpuSec();
  const sm0 = schedstat(srv.pid, srv.pid), sa0 = schedstat(srv.pid), sg0 = schedstat(genPid);
  const c = await connectAll(lg, srv, n, { sasl: true });
  const sm1 = schedstat(srv.pid, srv.pid), sa1 = schedstat(srv.pid), sg1 = schedstat(genPid);
  const main = mainThreadCpuSec(srv.pid) - main0;
  const gen = lg.cpuSec() - g0;
  const m1 = machineTicks();
  // share of the round a thread (or all threads of a process, summed) spent runnable but waiting for a core
  const waitUtil = (a, b) => (a && b ? round((b.wait - a.wait) / 1e9 / c.secs, 2) : null);
  const ok = Math.max(1, c.ok);
  const machine = m0 && m1 && m1.total > m0.total ? round(((m1.busy - m0.busy) / (m1.total - m0.total)) * os.cpus().length, 2) : null;
  const ms = (sec) => round((sec * 1000) / ok, 3);
  return {
    logins: c.ok, failed: c.failed, ...(c.failed ? { fail_reasons: c.reasons } : {}), secs: round(c.secs, 3),
    logins_per_s: round(c.ok / c.secs, 0),
    server_cpu_s: round(c.serverCpu, 2), server_main_cpu_s: round(main, 2),
    server_cpu_per_login_ms: ms(c.serverCpu), server_main_cpu_per_login_ms: ms(main),
    server_cpu_util: round(c.serverCpu / c.secs, 2), server_main_thread_util: round(main / c.secs, 2),
    // run queue: the main thread had work but no core (main util + this ≈ 1.0: the event loop
    // is the limit, and the other threads take cores from it)
    server_main_runqueue_util: waitUtil(sm0, sm1), server_runqueue_util: waitUtil(sa0, sa1),
    gen_cpu_s: round(gen, 2), gen_cpu_per_login_ms: ms(gen), gen_cpu_util: round(gen / c.secs, 2),
    gen_runqueue_util: waitUtil(sg0, sg1),
    machine_cpu_util: machine,
    // busy cores not accounted to the server or the generator: other processes, interrupts
    // (a figure well above ~0.1 means the run shared the machine with something else)
    other_cpu_util: machine === null ? null : round(machine - c.serverCpu / c.secs - gen / c.secs, 2),
  };
}

/**
 * sasl: keys first (untimed). Then, unless --cold, a warm-up round that logs every client in
 * once (the server's DID/key caches hold every identity afterwards), closes all connections and
 * waits until the server holds no more of them; then the timed round with the same identities
 * and nicks. did:key resolves locally (no network), so "cold" means only the server's first
 * sight of a key.
 */
async function saslScenario(lg, srv, n, base) {
  const out = { inflight: opt.inflight, warm: !opt.cold };
  const kt = Date.now();
  const kr = await lg.all('keys', (w) => ({ ids: lg.idsFor(w, n) }));
  out.keygen_s = round((Date.now() - kt) / 1000, 2);
  out.sample_did = kr[0].sample;
  if (!opt.cold) {
    const sock0 = socketCount(srv.pid);
    const w = await saslRound(lg, srv, n);
    out.warmup = w;
    out.warmup_logins_per_s = w.logins_per_s;
    if (w.failed) out.warmup_failed = w.failed;
    await lg.all('close');
    // the server has let go of every client when its socket count is back to where it was;
    // then a short pause so that the timed round does not start in the middle of the clean-up
    const t0 = Date.now();
    let socks = socketCount(srv.pid);
    while (socks !== null && socks > sock0 && Date.now() - t0 < 30000) { await sleep(100); socks = socketCount(srv.pid); }
    await sleep(500);
    out.between_rounds = { wait_s: round((Date.now() - t0) / 1000, 2), server_sockets_before: sock0, server_sockets_after: socks };
  }
  const r = await saslRound(lg, srv, n);
  Object.assign(out, r);
  const rss = rssKb(srv.pid);
  Object.assign(out, {
    // the fields every connect-like scenario has, for the timed round
    registered: r.logins, time_to_all_s: r.secs, registrations_per_s: r.logins_per_s,
    rss_kb: rss.rss, rss_peak_kb: rss.hwm, rss_per_conn_kb: round((rss.rss - base.rss) / Math.max(1, r.logins), 2),
  });
  return out;
}

async function runScenario(kind, sweepOpts = {}) {
  let srv = await startServer(kind);
  let lg = makeGen(srv.port);
  await lg.start();
  try {
    // idle: the baseline can wait as long as the end does, so both are taken in a steady state
    // (V8's memory reducer shrinks a Node server's heap some seconds after start-up and after a burst)
    if (scenario === 'idle' && opt.baseSettle > 0) await sleep(opt.baseSettle * 1000);
    const base = rssKb(srv.pid);
    const out = { server: srv.name, rss_base_kb: base.rss, ...(scenario === 'idle' ? { base_settle_s: opt.baseSettle } : {}) };
    const n = opt.clients;
    if (scenario === 'sasl') {
      Object.assign(out, await saslScenario(lg, srv, n, base));
      out.server_alive = srv.child.exitCode === null;
      if (!out.server_alive) out.server_stderr = srv.stderr().slice(-500);
      return out;
    }
    const g0 = lg.cpuSec();
    const c = await connectAll(lg, srv, n, scenario === 'history' ? { caps: ['draft/chathistory', 'batch', 'server-time', 'message-tags'] } : {});
    const genConnectCpu = lg.cpuSec() - g0;
    Object.assign(out, {
      registered: c.ok, failed: c.failed, ...(c.failed ? { fail_reasons: c.reasons } : {}),
      time_to_all_s: round(c.secs, 3), registrations_per_s: round(c.ok / c.secs, 0), server_cpu_s: round(c.serverCpu, 2),
      gen_cpu_s: round(genConnectCpu, 2), ...(inflightFor(srv) !== opt.inflight ? { inflight_used: inflightFor(srv) } : {}),
    });
    if (scenario === 'connect') {
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
      let ctx = await setupChannels(lg, n);
      Object.assign(out, {
        joined: ctx.joined, join_s: ctx.join_s,
        members_per_channel: ctx.C === 1 ? n : round(n / ctx.C, 1), channels: ctx.C, senders: ctx.S,
      });
      if (!opt.sweep) {
        const r = await sendStep(lg, srv, ctx, n, opt.rate);
        delete r.pass;
        Object.assign(out, r);
      } else {
        const env = {
          fanPerMsg: () => ctx.fanPerMsg,
          step: (rate, durationS) => sendStep(lg, srv, ctx, n, rate, { durationS, quietMs: 5000, drainMaxMs: 30000 }),
          async reset() {
            // a step cost connections or the server: start over with a fresh server and clients
            await lg.stop();
            await srv.stop();
            srv = await startServer(kind);
            lg = makeGen(srv.port);
            await lg.start();
            const c2 = await connectAll(lg, srv, n);
            if (c2.failed) throw new Error(`sweep restart: ${c2.failed} clients failed to register`);
            ctx = await setupChannels(lg, n);
          },
        };
        out.sweep = await sweep(env, sweepOpts.extraHalf);
        if (out.sweep.restarts) out.rss_base_kb_note = 'server restarted during the sweep';
      }
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
    if (Array.isArray(v)) continue; // sweep steps run at different rates: no element-wise ratio
    if (typeof v === 'number' && typeof w === 'number' && w !== 0) r[prefix + k] = round(v / w, 3);
    else if (v && typeof v === 'object' && w && typeof w === 'object') Object.assign(r, ratios(v, w, `${prefix}${k}.`));
  }
  return r;
}

/** the sweep figures the issue asks about, side by side */
function sweepCompare(f, o) {
  const fm = f?.max_sustained?.delivered_per_s ?? null, om = o?.max_sustained?.delivered_per_s ?? null;
  const fp = f?.at_other_half_rate_step?.p99_ms ?? null, op = o?.half_rate_step?.p99_ms ?? null;
  return {
    max_sustained_delivered_per_s: { freeq: fm, other: om, ratio: fm != null && om ? round(fm / om, 3) : null },
    p99_ms_at_half_other_max: {
      rate_msgs_per_s: o?.half_rate_step?.offered_msgs_per_s ?? null, freeq: fp, other: op,
      ratio: fp != null && op ? round(fp / op, 3) : null,
    },
  };
}

// ---------------------------------------------------------------- main
const params = { ...opt };
delete params.keep;
if (genNote) params.gen_note = genNote;
if (scenario !== 'sasl') delete params.cold;
const machine = { nproc: os.cpus().length, node: process.version, mem_gb: round(os.totalmem() / 2 ** 30, 1) };
try {
  const kind = opt.against && (['ngircd', 'inspircd'].includes(opt.against) ? { name: opt.against } : { name: 'other', command: opt.against });
  let freeq, other;
  if (kind && opt.sweep) {
    // sweep: the other server first, so that freeq can also run one step at half the other's
    // highest sustained rate (the latency target is stated at that rate)
    other = await runScenario(kind);
    await sleep(1000);
    const half = other.sweep?.half_rate_step?.offered_msgs_per_s;
    freeq = await runScenario({ name: 'freeq' }, { extraHalf: half });
  } else {
    freeq = await runScenario({ name: 'freeq' });
    if (kind) { await sleep(1000); other = await runScenario(kind); }
  }
  const line = { scenario, params, machine, freeq };
  if (other) {
    line.against = other;
    line.ratio_freeq_over_other = ratios(freeq, other);
    if (opt.sweep) line.sweep_compare = sweepCompare(freeq.sweep, other.sweep);
  }
  process.stdout.write(JSON.stringify(line) + '\n');
  process.exit(0);
} catch (e) {
  die(String(e?.stack || e));
}
