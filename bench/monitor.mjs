#!/usr/bin/env node
// freeq MONITOR benchmark (#16): W clients each MONITOR N nicks; what that costs in server memory
// per monitoring client, what a MONITOR + of N nicks costs, and what one notification fan-out
// (a watched nick connecting, changing nick, quitting) to all W watchers costs.
//
//   node bench/monitor.mjs [--watchers 10000] [--nicks 100] [--pool 1000] [--rounds 10]
//        [--settle 5] [--src-addrs 50] [--inflight 200] [--server dist|source]
//
// Every watcher monitors `hot` plus N-1 nicks of a pool of --pool nicks (spread evenly, so each
// pool nick has about W*(N-1)/pool watchers), sent as MONITOR + lines of at most 400 bytes, as a
// client sends its list after registering. Then --rounds times: a client `hot` connects (W × 730),
// changes nick to `hot2` (W × 731) and back (W × 730), and quits (W × 731). Each event is timed
// from the write of its command until all W watchers got their line (the bench's view: it reads
// 10,000 sockets on the same 2 cores), and the server's CPU time over the rounds is split over
// the events. Memory: the server's RSS (/proc) and V8 heap in use (GET /metrics,
// nodejs_heap_size_used_bytes) after --settle seconds, before and after the MONITOR lists.
//
// --server dist runs server/bin/freeq-server.js (built first if server/dist is older than
// server/src); --server source runs server/src/main.ts through tsx (while the tree does not build).
// Prints one JSON line on stdout, progress on stderr. See docs/performance.md "MONITOR".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, freePort, root, vmRssKb } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const log = (s) => process.stderr.write(`monitor-bench: ${s}\n`);

const opt = { watchers: 10000, nicks: 100, pool: 1000, rounds: 10, settle: 5, srcAddrs: 50, inflight: 200, server: 'dist' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (!(key in opt) || argv[i + 1] === undefined) { log(`unknown option or missing value: ${argv[i]}`); process.exit(2); }
  opt[key] = key === 'server' ? argv[++i] : Number(argv[++i]);
}
if (!['dist', 'source'].includes(opt.server)) { log('--server must be dist or source'); process.exit(2); }
if (opt.nicks - 1 > opt.pool) { log('--pool must be at least --nicks - 1'); process.exit(2); }

/** cpu seconds of a process, user (JS, V8) and system (the kernel: socket writes), from /proc/<pid>/stat (ticks of 10 ms) */
function cpuSec(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(rest[11]) / 100, sys: Number(rest[12]) / 100 };
}
const cpuSince = (pid, c0) => { const c = cpuSec(pid); return { user: c.user - c0.user, sys: c.sys - c0.sys }; };

// ---------------------------------------------------------------- the server
async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freeq-bench-monitor-'));
  const port = await freePort();
  const web = await freePort();
  const relaxed = fs.readFileSync(path.join(root, 'bench/relaxed.args'), 'utf8').trim();
  let entry;
  if (opt.server === 'dist') { ensureBuilt('monitor-bench'); entry = path.join(root, 'server/bin/freeq-server.js'); }
  else entry = `--conditions=source --import tsx ${path.join(root, 'server/src/main.ts')}`;
  const cmd = `node ${entry} ${relaxed} --monitor-limit ${opt.nicks} --listen-addr 127.0.0.1:${port} --web-addr 127.0.0.1:${web} --data-dir ${dir}`;
  const child = spawn('/bin/sh', ['-c', `ulimit -n 20000 2>/dev/null; exec ${cmd}`], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { child.kill('SIGKILL'); process.exit(130); });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${stderr}`);
    const ok = await new Promise((r) => { const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`server did not listen: ${stderr}`); }
    await sleep(100);
  }
  return {
    port, web, pid: child.pid, cmd,
    async heapUsed() {
      const text = await (await fetch(`http://127.0.0.1:${web}/metrics`)).text();
      const m = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
      return m ? Number(m[1]) : NaN;
    },
    async stop() {
      child.kill('SIGTERM');
      const t = Date.now();
      while (child.exitCode === null && Date.now() - t < 5000) await sleep(50);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- clients
/** counts of the lines every client got, by numeric (730/731) and registration (001) */
const counts = { '001': 0, 730: 0, 731: 0, PONG: 0 };

function connectClient(port, i, nick) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (i % opt.srcAddrs)}` });
    s.setNoDelay(true);
    let partial = '';
    s.setEncoding('latin1');
    s.on('data', (d) => {
      const lines = (partial + d).split('\r\n');
      partial = lines.pop();
      for (const l of lines) {
        // `:server CODE ...` (no tags: the bench asks for no capabilities)
        const sp = l.indexOf(' ');
        const code = l.slice(sp + 1, l.indexOf(' ', sp + 1));
        if (code === '730' || code === '731' || code === 'PONG') counts[code]++;
        else if (code === '001') { counts['001']++; resolve(s); }
        else if (l.startsWith('PING ')) s.write(`PONG ${l.slice(5)}\r\n`);
        else if (l.startsWith('ERROR')) reject(new Error(`${nick}: ${l}`));
      }
    });
    s.on('error', reject);
    s.write(`NICK ${nick}\r\nUSER b 0 * :bench\r\n`);
  });
}

/** `until` holds: polled every 5 ms; returns ms waited */
async function waitFor(cond, what, ms = 120_000) {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
  return performance.now() - t0;
}

/** the MONITOR + lines of watcher i: `hot` and N-1 pool nicks, at most 400 bytes each */
function monitorLines(i) {
  const nicks = ['hot'];
  for (let k = 0; k < opt.nicks - 1; k++) nicks.push(`m${((i * (opt.nicks - 1) + k) % opt.pool).toString(36)}`);
  const out = [];
  let cur = [];
  for (const n of nicks) {
    if (cur.length && cur.join(',').length + 1 + n.length > 400) { out.push(`MONITOR + ${cur.join(',')}\r\n`); cur = []; }
    cur.push(n);
  }
  out.push(`MONITOR + ${cur.join(',')}\r\n`);
  return out.join('');
}

async function settleMemory(srv) {
  await sleep(opt.settle * 1000);
  return { rss_kb: vmRssKb(srv.pid), heap_used_kb: Math.round((await srv.heapUsed()) / 1024) };
}

// ---------------------------------------------------------------- run
const srv = await startServer();
const W = opt.watchers;
try {
  await sleep(1000);
  const base = await settleMemory(srv);
  log(`server up (pid ${srv.pid}); connecting ${W} watchers`);
  const sockets = new Array(W);
  let t0 = performance.now();
  for (let next = 0; next < W;) {
    const batch = [];
    for (; next < W && batch.length < opt.inflight; next++) { const i = next; batch.push(connectClient(srv.port, i, `w${i}`).then((s) => { sockets[i] = s; })); }
    await Promise.all(batch);
  }
  const connectS = (performance.now() - t0) / 1000;
  const idle = await settleMemory(srv);
  log(`${W} registered in ${round(connectS, 1)} s; RSS ${idle.rss_kb} kB, heap ${idle.heap_used_kb} kB; sending the MONITOR lists`);

  // every watcher sends its list and a PING; done when every PONG is back
  let cpu0 = cpuSec(srv.pid);
  t0 = performance.now();
  const pong0 = counts.PONG;
  for (let i = 0; i < W; i++) sockets[i].write(`${monitorLines(i)}PING m\r\n`);
  await waitFor(() => counts.PONG >= pong0 + W, 'MONITOR lists answered');
  const monitorS = (performance.now() - t0) / 1000;
  const monitorCpu = cpuSince(srv.pid, cpu0);
  const offlineLines = counts[731];
  const monitored = await settleMemory(srv);
  log(`lists sent in ${round(monitorS, 2)} s (server CPU ${round(monitorCpu.user + monitorCpu.sys, 2)} s); RSS ${monitored.rss_kb} kB, heap ${monitored.heap_used_kb} kB`);

  // the fan-out rounds
  const ev = { connect: [], nick_away: [], nick_back: [], quit: [] };
  cpu0 = cpuSec(srv.pid);
  for (let r = 0; r < opt.rounds; r++) {
    let c = counts[730];
    let t = performance.now();
    const hot = await connectClient(srv.port, W + r, 'hot');
    await waitFor(() => counts[730] >= c + W, 'connect → 730');
    ev.connect.push(performance.now() - t);
    for (const [key, line, code] of [['nick_away', 'NICK hot2', 731], ['nick_back', 'NICK hot', 730], ['quit', 'QUIT', 731]]) {
      c = counts[code];
      t = performance.now();
      hot.write(`${line}\r\n`);
      await waitFor(() => counts[code] >= c + W, `${line} → ${code}`);
      ev[key].push(performance.now() - t);
    }
    hot.destroy();
  }
  const fanCpu = cpuSince(srv.pid, cpu0);
  const events = opt.rounds * 4;
  const median = (a) => { const s = [...a].sort((x, y) => x - y); return round(s[Math.floor(s.length / 2)], 1); };
  const result = {
    scenario: 'monitor',
    params: { ...opt, node: process.version, cpus: os.cpus().length },
    server: srv.cmd.replace(/--data-dir \S+/, '--data-dir <tmp>'),
    connect_s: round(connectS, 1),
    memory_kb: { base, idle, monitored },
    per_watcher_bytes: {
      rss: Math.round(((monitored.rss_kb - idle.rss_kb) * 1024) / W),
      heap_used: Math.round(((monitored.heap_used_kb - idle.heap_used_kb) * 1024) / W),
    },
    monitor_lists: {
      s: round(monitorS, 2), server_cpu_s: { user: round(monitorCpu.user, 2), sys: round(monitorCpu.sys, 2) },
      server_cpu_us_per_watcher: Math.round(((monitorCpu.user + monitorCpu.sys) * 1e6) / W), lines_731: offlineLines,
    },
    fanout: {
      recipients: W, events, server_cpu_s: { user: round(fanCpu.user, 2), sys: round(fanCpu.sys, 2) },
      server_cpu_ms_per_event: { user: round((fanCpu.user * 1000) / events, 1), sys: round((fanCpu.sys * 1000) / events, 1) },
      server_cpu_us_per_delivery: round(((fanCpu.user + fanCpu.sys) * 1e6) / (events * W), 2),
      all_delivered_ms_median: { connect: median(ev.connect), nick_away: median(ev.nick_away), nick_back: median(ev.nick_back), quit: median(ev.quit) },
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const s of sockets) s.destroy();
} finally {
  await srv.stop();
}
