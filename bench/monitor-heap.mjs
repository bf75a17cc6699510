#!/usr/bin/env node
// The in-process half of the MONITOR benchmark (#16): the exact heap the watch lists take and the
// JavaScript time of one notification fan-out, without sockets (bench/monitor.mjs measures the
// whole server over real sockets, where the kernel's socket writes dominate and V8's garbage
// blurs the heap figure). W users each MONITOR `hot` and N-1 nicks of a pool (as bench/monitor.mjs);
// heap after a full GC before and after; then `hot` comes online, changes nick twice and quits
// (Monitor.onEvent, the bus subscriber) with deliveries that only count.
//
//   node --expose-gc --import tsx bench/monitor-heap.mjs [--watchers 10000] [--nicks 100] [--pool 1000] [--rounds 50]
//
// Not a test: numbers depend on the host. Prints one JSON line.
import { Monitor } from '../server/src/session/monitor.ts';
import { World } from '../server/src/state/world.ts';
import { User } from '../server/src/state/user.ts';
import { foldCase } from '../server/src/protocol/casemap.ts';

const opt = { watchers: 10000, nicks: 100, pool: 1000, rounds: 50 };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].slice(2)] = Number(process.argv[i + 1]);
if (typeof globalThis.gc !== 'function') { console.error('run with node --expose-gc --import tsx'); process.exit(2); }
const gc = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };

let delivered = 0;
const link = { tagMask: 0, hasCap: () => false, deliver: () => { delivered++; }, disconnect: () => {} };
const world = new World();
const monitor = new Monitor({ world, serverName: () => 'irc.example', meta: () => ({ time: '2026-01-01T00:00:00.000Z' }) });
const user = (id, nick) => {
  const u = new User(id, '127.0.0.1', false, link, 0, 'freeq/guest/x');
  u.nick = nick; u.nickFolded = foldCase(nick); u.username = 'b'; u.registered = true;
  return u;
};
const W = opt.watchers;
const watchers = Array.from({ length: W }, (_, i) => user(i + 1, `w${i}`));
const lists = watchers.map((_, i) => {
  const nicks = ['hot'];
  for (let k = 0; k < opt.nicks - 1; k++) nicks.push(`m${((i * (opt.nicks - 1) + k) % opt.pool).toString(36)}`);
  return nicks;
});
const valid = () => true;

gc();
const before = process.memoryUsage().heapUsed;
let t = process.hrtime.bigint();
for (let i = 0; i < W; i++) monitor.add(watchers[i], lists[i], opt.nicks, valid);
const addUs = Number(process.hrtime.bigint() - t) / 1e3;
gc();
const after = process.memoryUsage().heapUsed;

// `hot` comes and goes (the events Ops publishes), each delivered to all W watchers
const hot = user(W + 1, 'hot');
const events = [
  () => { world.nicks.set('hot', hot); monitor.onEvent({ kind: 'register', user: hot }); },
  () => { const old = hot.mask; world.nicks.delete('hot'); hot.nick = 'hot2'; hot.nickFolded = 'hot2'; world.nicks.set('hot2', hot); monitor.onEvent({ kind: 'nick', user: hot, oldMask: old, audience: new Set() }); },
  () => { const old = hot.mask; world.nicks.delete('hot2'); hot.nick = 'hot'; hot.nickFolded = 'hot'; world.nicks.set('hot', hot); monitor.onEvent({ kind: 'nick', user: hot, oldMask: old, audience: new Set() }); },
  () => { world.nicks.delete('hot'); monitor.onEvent({ kind: 'quit', user: hot, reason: 'bye', audience: new Set() }); },
];
for (let r = 0; r < 5; r++) for (const e of events) e(); // warm-up
delivered = 0;
t = process.hrtime.bigint();
for (let r = 0; r < opt.rounds; r++) for (const e of events) e();
const fanUs = Number(process.hrtime.bigint() - t) / 1e3;
const n = opt.rounds * events.length;
if (delivered !== n * W) throw new Error(`delivered ${delivered}, expected ${n * W}`);

console.log(JSON.stringify({
  scenario: 'monitor-heap', params: { ...opt, node: process.version },
  size: monitor.size,
  heap_bytes_per_watcher: Math.round((after - before) / W),
  heap_bytes_per_entry: Math.round((after - before) / (W * opt.nicks)),
  add_us_per_list: Math.round(addUs / W),
  fanout_ms_per_event_js: Math.round(fanUs / n / 10) / 100,
  fanout_ns_per_delivery_js: Math.round((fanUs * 1000) / (n * W)),
}));
