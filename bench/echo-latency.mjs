#!/usr/bin/env node
// #12 finding 11: what acknowledging only after the history commit costs the sender. Starts a
// server (the TypeScript sources under tsx; with --dist 1 the built server/dist) on free ports with a fresh
// data dir, registers one echo-message client that is operator of #c, and times echo round trips
// (send → own echo back), one message at a time, alternating:
//
//   stored:   PRIVMSG #c :…    history keeps it, so the echo waits for the writer's commit
//   unstored: PRIVMSG @#c :…   STATUSMSG is not channel history: the echo goes out at once
//
// The difference is the added latency. With --load R, a second client sends R messages/s to #c
// meanwhile (the writer then has a batch in flight most of the time). Prints ONE JSON line.
//
//   node bench/echo-latency.mjs [--messages N] [--load R] [--warmup W] [--dist 1]
//
// See docs/performance.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const opt = { messages: 2000, load: 0, warmup: 200, dist: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in opt) || !Number.isFinite(Number(argv[i + 1]))) { console.error(`usage: node bench/echo-latency.mjs [--messages N] [--load R] [--warmup W] [--dist 1]`); process.exit(2); }
  opt[key] = Number(argv[i + 1]);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freeq-echo-'));
// dist/ may be older than the sources: only when asked (run `npm run build` first)
const built = opt.dist === 1;
const entry = built ? ['server/dist/main.js'] : ['--import', 'tsx', 'server/src/main.ts'];
const child = spawn(process.execPath, [...entry, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0', '--data-dir', dir,
  '--log-level', 'info', '--fakelag', 'false', '--message-rate', '100000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const cleanup = () => { child.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); };
process.on('exit', cleanup);

const port = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    const m = /"msg":"freeq listening"/.test(out) && /"irc":\{[^}]*"port":(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  child.once('exit', (c) => reject(new Error(`server exited (${c})`)));
});

/** A minimal line client: send lines, await the first line matching a predicate. */
function client() {
  const s = net.connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  let buf = '';
  let waiter;
  s.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line.startsWith('PING')) s.write(`PONG ${line.slice(5)}\r\n`);
      if (waiter && waiter.test(line)) { const w = waiter; waiter = undefined; w.resolve(line); }
    }
  });
  return {
    send: (...lines) => s.write(lines.map((l) => `${l}\r\n`).join('')),
    until: (test) => new Promise((resolve) => { waiter = { test, resolve }; }),
    close: () => s.destroy(),
  };
}

async function register(c, nick, caps) {
  c.send('CAP LS 302', `CAP REQ :${caps}`, `NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.until((l) => / CAP \S+ (ACK|NAK) /.test(l));
  c.send('CAP END');
  await c.until((l) => / (376|422) /.test(l));
}

const me = client();
await register(me, 'echoer', 'echo-message');
me.send('JOIN #c');
await me.until((l) => / 366 echoer #c /.test(l));

let loadTimer;
if (opt.load > 0) {
  const other = client();
  await register(other, 'loader', 'message-tags');
  other.send('JOIN #c');
  await other.until((l) => / 366 loader #c /.test(l));
  // R messages/s in 10 ms ticks
  const perTick = opt.load / 100;
  let owed = 0;
  let n = 0;
  loadTimer = setInterval(() => {
    owed += perTick;
    const lines = [];
    for (; owed >= 1; owed--) lines.push(`PRIVMSG #c :load ${n++}`);
    if (lines.length) other.send(...lines);
  }, 10);
}

const samples = { stored: [], unstored: [] };
for (let i = 0; i < opt.warmup + opt.messages; i++) {
  const kind = i % 2 === 0 ? 'stored' : 'unstored';
  const target = kind === 'stored' ? '#c' : '@#c';
  const text = `probe ${i}`;
  const t0 = process.hrtime.bigint();
  me.send(`PRIVMSG ${target} :${text}`);
  await me.until((l) => l.endsWith(` PRIVMSG ${target} :${text}`));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (i >= opt.warmup) samples[kind].push(ms);
}
clearInterval(loadTimer);

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(3); };
const stats = (xs) => ({ p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99), max: pct(xs, 100), n: xs.length });
const stored = stats(samples.stored);
const unstored = stats(samples.unstored);
console.log(JSON.stringify({
  scenario: 'echo-latency', server: built ? 'dist' : 'tsx', load: opt.load, stored, unstored,
  added_ms: { p50: +(stored.p50 - unstored.p50).toFixed(3), p99: +(stored.p99 - unstored.p99).toFixed(3) },
  node: process.version, cpus: os.cpus().length,
}));
me.close();
process.exit(0);
