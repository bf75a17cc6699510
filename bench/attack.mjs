#!/usr/bin/env node
// freeq attack scenarios (#12): one stranger trying to stall everyone or exhaust memory, against a
// server with its DEFAULT limits (fakelag on, default sendq and budgets). A control client (an
// operator, so its own fakelag does not slow its probes) sends PING every --ping-ms and the
// runner reports its round-trip p50/p99/max during the attack, the server's own event-loop delay
// (from its /metrics), plus the server's RSS growth
// (peak during the attack minus the baseline just before it), as ONE JSON line.
//
//   node bench/attack.mjs history   [--duration s] [--attackers N] [--read] [--messages M] [--lines L]
//   node bench/attack.mjs rest      [--duration s] [--attackers N] [--read] [--pipeline P] [--messages M] [--lines L]
//   node bench/attack.mjs never-read [--duration s] [--attackers N] [--channels C]
//   (any scenario: --ping-ms ms between control PINGs, --keep keeps the data dir, --prof writes a
//   CPU profile of the attacked server to ./attack-prof)
//
// history:    each attacker (one connection each, own 127.0.0.x address) joins #c and pipelines
//             `CHATHISTORY LATEST #c * 500` as fast as fakelag lets it; without --read it never
//             reads a byte. #c is first filled with M draft/multiline messages of L lines (~390 B each)
//             by a preload run of the server on the same data dir (relaxed limits), then the
//             server restarts with defaults.
// rest:       each attacker keeps one HTTP connection open (reconnecting whenever the server
//             closes it) and pipelines --pipeline (32) `GET /api/v1/channels/%23c/history?limit=200`
//             per round, rounds every 50 ms (no login).
// never-read: attackers register and send LIST over and over and never read; the control client
//             first creates C channels with long topics (so one LIST is large).
//
// See docs/performance.md ("Attack scenarios").
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, freePort, vmRssKb } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { for (const c of children) c.kill('SIGKILL'); process.exit(130); });

const argv = process.argv.slice(2);
const scenario = argv[0];
const opt = { duration: 20, attackers: 1, read: false, messages: 500, lines: 100, channels: 400, pingMs: 20, keep: false, prof: false, pipeline: 32 };
for (let i = 1; i < argv.length; i++) {
  const key = argv[i].slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (!argv[i].startsWith('--') || !(key in opt)) die(`unknown option ${argv[i]}`);
  if (typeof opt[key] === 'boolean') { opt[key] = true; continue; }
  opt[key] = Number(argv[++i]);
  if (!Number.isFinite(opt[key])) die(`${argv[i - 1]} needs a number`);
}
if (!['history', 'rest', 'never-read'].includes(scenario)) die('usage: node bench/attack.mjs <history|rest|never-read> [options]');

function die(msg) { process.stderr.write(`attack: ${msg}\n`); process.exit(2); }

const OPER_PASSWORD = 'bench-oper-password-0123456789';

/** start freeq on `dir` with `extra` flags; resolves once the IRC port accepts */
async function startServer(dir, extra, nodeArgs = []) {
  const port = await freePort();
  const web = await freePort();
  const args = [...nodeArgs, path.join(root, 'server/bin/freeq-server.js'), '--listen-addr', `127.0.0.1:${port}`, '--web-addr', `127.0.0.1:${web}`,
    '--data-dir', dir, '--oper-password', OPER_PASSWORD, '--log-level', 'warn', ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  for (let i = 0; i < 200; i++) {
    if (await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); })) return { child, port, web };
    await sleep(100);
  }
  die('server did not start');
}

async function stopServer(srv) {
  srv.child.kill('SIGTERM');
  await new Promise((r) => srv.child.once('exit', r));
}

const rssMb = (pid) => vmRssKb(pid) / 1024;

/** a line client: `lines` collects, `waitFor(re)` resolves with the first line matching after the call */
function ircClient(port, localAddress) {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress });
  let buf = '';
  const waiters = [];
  const c = {
    sock, bytes: 0, onLine: undefined,
    send: (...ls) => sock.write(ls.map((l) => `${l}\r\n`).join('')),
    waitFor: (re, ms = 30000) => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting for ${re}`)), ms);
      waiters.push({ re, resolve: (l) => { clearTimeout(t); resolve(l); } });
    }),
    ready: new Promise((r) => sock.once('connect', r)),
  };
  sock.on('data', (d) => {
    c.bytes += d.length;
    buf += d.toString('latin1');
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line.startsWith('PING ')) sock.write(`PONG ${line.slice(5)}\r\n`);
      c.onLine?.(line);
      for (let w = 0; w < waiters.length; w++) if (waiters[w].re.test(line)) { waiters.splice(w, 1)[0].resolve(line); w--; }
    }
  });
  sock.on('error', () => {});
  return c;
}

async function register(port, nick, localAddress, caps = []) {
  const c = ircClient(port, localAddress);
  await c.ready;
  if (caps.length) c.send(`CAP REQ :${caps.join(' ')}`, 'CAP END');
  c.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.waitFor(/ 001 /);
  return c;
}

// ---------------------------------------------------------------- preload (history, rest)
async function preloadHistory(dir) {
  const relaxed = fs.readFileSync(path.join(here, 'relaxed.args'), 'utf8').trim().split(/\s+/);
  const srv = await startServer(dir, relaxed);
  const c = await register(srv.port, 'preload', '127.0.0.1', ['batch', 'draft/multiline']);
  c.send('JOIN #c');
  await c.waitFor(/ 366 /);
  const text = 'x'.repeat(380);
  for (let i = 0; i < opt.messages; i++) {
    const out = [`BATCH +b${i} draft/multiline #c`];
    for (let j = 0; j < opt.lines; j++) out.push(`@batch=b${i} PRIVMSG #c :${i}.${j} ${text}`);
    out.push(`BATCH -b${i}`);
    c.send(...out);
    if (i % 20 === 19) { c.send(`PING :p${i}`); await c.waitFor(new RegExp(`PONG .*p${i}$`)); }
  }
  c.send('PING :done');
  await c.waitFor(/PONG .*done$/);
  c.sock.destroy();
  await stopServer(srv);
}

// ---------------------------------------------------------------- the control client
async function control(port) {
  const c = await register(port, 'control', '127.0.0.250');
  c.send(`OPER bench ${OPER_PASSWORD}`);
  await c.waitFor(/ 381 /);
  c.send('JOIN #c');
  await c.waitFor(/ 366 /);
  return c;
}

function probe(c) {
  const rtts = [];
  const sent = new Map();
  let seq = 0;
  c.onLine = (line) => {
    const m = /PONG \S+ :?(t\d+)$/.exec(line);
    if (m && sent.has(m[1])) { rtts.push(performance.now() - sent.get(m[1])); sent.delete(m[1]); }
  };
  const timer = setInterval(() => { const id = `t${seq++}`; sent.set(id, performance.now()); c.send(`PING :${id}`); }, opt.pingMs);
  return {
    stop() {
      clearInterval(timer);
      const now = performance.now();
      // a probe that never came back counts with the time it has waited so far
      for (const t of sent.values()) rtts.push(now - t);
      rtts.sort((a, b) => a - b);
      const q = (p) => (rtts.length ? Math.round(rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))] * 10) / 10 : null);
      return { probes: rtts.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: rtts.length ? Math.round(rtts[rtts.length - 1] * 10) / 10 : null, unanswered: sent.size };
    },
  };
}

// ---------------------------------------------------------------- attackers
async function historyAttacker(port, i) {
  const c = await register(port, `att${i}`, `127.0.0.${10 + i}`, ['batch', 'server-time', 'message-tags', 'draft/chathistory', 'draft/multiline']);
  c.send('JOIN #c');
  await c.waitFor(/ 366 /);
  if (!opt.read) c.sock.pause();
  let stop = false;
  // "as fast as fakelag lets it": keep requests queued in the kernel; fakelag paces them
  const pump = async () => {
    while (!stop) {
      if (c.sock.writableLength < 64 * 1024) c.send(...Array.from({ length: 32 }, () => 'CHATHISTORY LATEST #c * 500'));
      await sleep(20);
    }
  };
  void pump();
  return { stop() { stop = true; c.sock.destroy(); return { received_bytes: c.bytes }; } };
}

/**
 * One HTTP connection at a time from its own address, pipelining `--pipeline` (default 32: what
 * the server lets wait) history requests per round, rounds every 50 ms while the socket takes
 * them; when the server closes the connection (429 + close, or too many waiting) it reconnects at
 * once, so the attack lasts the whole run.
 */
async function restAttacker(web, i) {
  const req = 'GET /api/v1/channels/%23c/history?limit=200 HTTP/1.1\r\nHost: x\r\n\r\n';
  let bytes = 0;
  let connections = 0;
  let stop = false;
  let sock;
  const connect = () => {
    if (stop) return;
    connections++;
    const s = net.connect({ port: web, host: '127.0.0.1', localAddress: `127.0.0.${10 + i}` });
    sock = s;
    s.on('data', (d) => { bytes += d.length; });
    s.on('error', () => {});
    s.once('close', () => { if (!stop) setTimeout(connect, 5); });
    s.once('connect', () => { if (!opt.read) s.pause(); s.write(req.repeat(opt.pipeline)); });
  };
  connect();
  const pump = async () => {
    while (!stop) {
      if (sock && !sock.destroyed && !sock.connecting && sock.writableLength < 64 * 1024) sock.write(req.repeat(opt.pipeline));
      await sleep(50);
    }
  };
  void pump();
  return { stop() { stop = true; sock?.destroy(); return { received_bytes: bytes, connections }; } };
}

async function neverReadAttacker(port, i) {
  const c = await register(port, `att${i}`, `127.0.0.${10 + i}`);
  c.sock.pause();
  let stop = false;
  const pump = async () => {
    while (!stop) {
      if (c.sock.writableLength < 64 * 1024) c.send(...Array.from({ length: 32 }, () => 'LIST'));
      await sleep(20);
    }
  };
  void pump();
  return { stop() { stop = true; c.sock.destroy(); return {}; } };
}

/** never-read setup: channels with 300-byte topics, created by operators on their own addresses */
async function makeChannels(port) {
  const perClient = 90;
  const topic = 'topic '.padEnd(300, 't');
  for (let k = 0; k * perClient < opt.channels; k++) {
    const c = await register(port, `maker${k}`, `127.0.1.${1 + k}`);
    c.send(`OPER bench ${OPER_PASSWORD}`);
    await c.waitFor(/ 381 /);
    for (let j = 0; j < perClient && k * perClient + j < opt.channels; j++) c.send(`JOIN #ch${k}_${j}`, `TOPIC #ch${k}_${j} :${topic}`);
    c.send('PING :made');
    await c.waitFor(/PONG .*made$/, 120000);
    // makers stay connected (a channel without members would be gone)
  }
}

/** nodejs_eventloop_lag_{p50,p99,max}_seconds from /metrics (open without a key on loopback), in ms */
async function eventLoopLag(web) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${web}/metrics`)).text();
    const get = (name) => { const m = new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text); return m ? Math.round(Number(m[1]) * 1e4) / 10 : null; };
    return { p50_ms: get('nodejs_eventloop_lag_p50_seconds'), p99_ms: get('nodejs_eventloop_lag_p99_seconds'), max_ms: get('nodejs_eventloop_lag_max_seconds') };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

/** the server's heap and external memory from /metrics (prom-client default metrics), in MB */
async function memoryMb(web) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${web}/metrics`)).text();
    const get = (name) => { const m = new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text); return m ? Math.round(Number(m[1]) / 1048576) : null; };
    return { heap_used: get('nodejs_heap_size_used_bytes'), heap_total: get('nodejs_heap_size_total_bytes'), external: get('nodejs_external_memory_bytes') };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

// ---------------------------------------------------------------- run
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freeq-attack-'));
try {
  ensureBuilt('attack');
  if (scenario !== 'never-read') await preloadHistory(dir);
  // --prof: a CPU profile of the attacked server in ./attack-prof (node --cpu-prof)
  const srv = await startServer(dir, [], opt.prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve('attack-prof')}`] : []);
  const ctl = await control(srv.port);
  if (scenario === 'never-read') await makeChannels(srv.port);
  await sleep(2000);
  const base = rssMb(srv.child.pid);
  let peak = base;
  const t0 = Date.now();
  /** RSS every second of the attack (MB), to tell a steady climb from a spike */
  const timeline = [];
  const sampler = setInterval(() => {
    const r = rssMb(srv.child.pid);
    peak = Math.max(peak, r);
    const sec = Math.floor((Date.now() - t0) / 1000);
    timeline[sec] = Math.max(timeline[sec] ?? 0, Math.round(r));
  }, 100);
  const attackers = [];
  for (let i = 0; i < opt.attackers; i++) {
    attackers.push(scenario === 'history' ? await historyAttacker(srv.port, i) : scenario === 'rest' ? await restAttacker(srv.web, i) : await neverReadAttacker(srv.port, i));
  }
  const p = probe(ctl);
  const memBase = await memoryMb(srv.web);
  await sleep(opt.duration * 500);
  // where the RSS goes while the attack runs: V8 heap (used / reserved) and memory outside it
  const memMid = await memoryMb(srv.web);
  await sleep(opt.duration * 500);
  const memLate = await memoryMb(srv.web);
  const ping = p.stop();
  const att = attackers.map((a) => a.stop());
  // the server's own view of its event loop over its whole life (prom-client's monitorEventLoopDelay)
  const loop = await eventLoopLag(srv.web);
  clearInterval(sampler);
  const end = rssMb(srv.child.pid);
  const alive = srv.child.exitCode === null;
  await stopServer(srv);
  console.log(JSON.stringify({
    scenario, ...opt, node: process.version, cpus: os.cpus().length,
    control_ping: ping, server_event_loop: loop, rss_base_mb: Math.round(base), rss_peak_mb: Math.round(peak), rss_growth_mb: Math.round(peak - base), rss_end_mb: Math.round(end),
    server_memory_mb: { before: memBase, mid: memMid, late: memLate }, rss_timeline_mb: timeline,
    server_alive: alive,
    attacker_received_bytes: att.reduce((n, a) => n + (a.received_bytes ?? 0), 0),
    attacker_connections: att.reduce((n, a) => n + (a.connections ?? 0), 0),
  }));
} finally {
  if (!opt.keep) fs.rmSync(dir, { recursive: true, force: true });
}
