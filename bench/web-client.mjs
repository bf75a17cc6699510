#!/usr/bin/env node
// freeq web client benchmark (#15 "Performance"): the built server and the built client (web/dist)
// in Debian's headless Chromium (playwright-core), against the budgets:
//   - the initial page's JavaScript ≤ 150 kB gzipped (as served: the .gz beside each asset);
//   - first render of a channel with 500 messages of history under 1 s (from clicking Join to the
//     latest message on screen);
//   - 10,000 messages scrolled (the client loads 100 older ones each time the log reaches its top)
//     without the tab's memory growing past 150 MB (JS heap and DOM from the DevTools protocol).
//
//   node bench/web-client.mjs [--messages N] [--chromium /usr/bin/chromium]
//
// Prints a summary on stderr and one JSON line on stdout.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ensureBuilt, freePort, root } from './lib.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const MESSAGES = Number(arg('messages', 10_000));
const CHROMIUM = arg('chromium', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');
const log = (s) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

ensureBuilt('web bench');
if (!fs.existsSync(path.join(root, 'web/dist/index.html'))) throw new Error('web/dist is missing: npm run build');

/** a raw IRC client: send lines, wait for one matching */
async function irc(port, nick) {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => { s.once('connect', r); s.once('error', j); });
  let buf = '';
  const waiters = [];
  s.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line.startsWith('PING')) s.write(`PONG ${line.slice(5)}\r\n`);
      for (const w of [...waiters]) if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  const wait = (re) => new Promise((resolve) => waiters.push({ re, resolve }));
  s.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await wait(/ 001 /);
  return { send: (l) => s.write(`${l}\r\n`), wait, close: () => s.destroy() };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freeq-web-bench-'));
const [port, webPort] = [await freePort(), await freePort()];
const relaxed = fs.readFileSync(path.join(root, 'bench/relaxed.args'), 'utf8').trim().split(/\s+/);
const server = spawn(process.execPath, [path.join(root, 'server/dist/main.js'), ...relaxed, '--listen-addr', `127.0.0.1:${port}`, '--web-addr', `127.0.0.1:${webPort}`, '--data-dir', dir, '--server-name', 'bench.test'], { stdio: ['ignore', 'ignore', 'inherit'] });
// never left running, however this process ends
process.on('exit', () => server.kill('SIGKILL'));
const browserDone = [];
try {
  for (let i = 0; i < 200; i++) { try { await irc(port, `probe${i}`).then((c) => c.close()); break; } catch { await new Promise((r) => setTimeout(r, 50)); } }

  // ---- history: MESSAGES lines in #bench from one sender (and 500 in #small)
  const sender = await irc(port, 'sender');
  sender.send('JOIN #bench,#small');
  await sender.wait(/ 366 sender #small /);
  const t0 = Date.now();
  for (let i = 0; i < MESSAGES; i++) sender.send(`PRIVMSG #bench :bench message ${String(i).padStart(5, '0')} ${'x'.repeat(40)}`);
  for (let i = 0; i < 500; i++) sender.send(`PRIVMSG #small :small message ${String(i).padStart(3, '0')}`);
  sender.send('PING :stored');
  await sender.wait(/PONG .*stored/);
  await new Promise((r) => setTimeout(r, 1500)); // the history writer's last batch
  log(`history: ${MESSAGES} + 500 messages sent in ${Date.now() - t0} ms`);

  // ---- the page's JavaScript as served
  const html = fs.readFileSync(path.join(root, 'web/dist/index.html'), 'utf8');
  const scripts = [...html.matchAll(/src="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  const jsGz = scripts.reduce((n, s) => n + fs.statSync(path.join(root, 'web/dist', `${s}.gz`)).size, 0);
  const jsRaw = scripts.reduce((n, s) => n + fs.statSync(path.join(root, 'web/dist', s)).size, 0);

  // a marker in the renderers' command lines, to find them in ps
  const marker = `freeq-web-bench-${process.pid}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', `--user-agent=Mozilla/5.0 ${marker}`] });
  browserDone.push(browser);
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  // the renderer processes' private memory (USS: Private_Clean + Private_Dirty of smaps_rollup),
  // what Chromium's task manager calls the tab's footprint, and their RSS (shared pages counted)
  const renderers = () => execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')
    .filter((l) => l.includes('--type=renderer') && l.includes(marker)).map((l) => Number(l.trim().split(/\s+/)[0]));
  const memOf = (pid) => {
    const t = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
    return { uss: kb('Private_Clean') + kb('Private_Dirty'), rss: kb('Rss') };
  };
  const tabMemory = () => renderers().map(memOf).reduce((a, m) => ({ uss_mb: a.uss_mb + m.uss / 1024, rss_mb: a.rss_mb + m.rss / 1024, processes: a.processes + 1 }), { uss_mb: 0, rss_mb: 0, processes: 0 });
  const round = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  await page.goto(`http://127.0.0.1:${webPort}/`);
  await page.getByLabel('Nickname').fill('reader');
  await page.getByRole('button', { name: 'Join as guest' }).click();
  await page.getByLabel('Join a channel').waitFor();

  // ---- first render: click Join, until the latest message is on screen
  const renderOf = async (channel, last) => {
    await page.getByLabel('Join a channel').fill(channel);
    const start = Date.now();
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await page.getByRole('log').getByText(last).waitFor();
    return Date.now() - start;
  };
  const firstRender500 = await renderOf('#small', 'small message 499');
  const firstRenderBig = await renderOf('#bench', `bench message ${String(MESSAGES - 1).padStart(5, '0')}`);
  const before = await metrics();
  const tabBefore = round(tabMemory());
  log(`first render: #small (500 in history) ${firstRender500} ms, #bench (${MESSAGES}) ${firstRenderBig} ms`);

  // ---- scroll back through everything: the log's top loads 100 older each time
  const t1 = Date.now();
  const count = () => page.getByRole('log').locator('.line').count();
  let lines = await count();
  for (let stuck = 0; lines < MESSAGES && stuck < 50;) {
    // (runs in the page)
    await page.getByRole('log').evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new globalThis.Event('scroll')); });
    await page.waitForTimeout(30);
    const now = await count();
    stuck = now === lines ? stuck + 1 : 0;
    lines = now;
  }
  const scrollMs = Date.now() - t1;
  await cdp.send('HeapProfiler.collectGarbage');
  const after = await metrics();
  const mb = (b) => Math.round((b / 1048576) * 10) / 10;
  const res = {
    messages: MESSAGES, lines_rendered: lines, scroll_back_s: Math.round(scrollMs / 100) / 10,
    js_bytes: jsRaw, js_gzip_bytes: jsGz, js_budget_gzip_bytes: 150_000,
    first_render_500_ms: firstRender500, first_render_big_ms: firstRenderBig, first_render_budget_ms: 1000,
    js_heap_mb: { after_first_render: mb(before.JSHeapUsedSize), after_scrolling_all: mb(after.JSHeapUsedSize), total_after: mb(after.JSHeapTotalSize) },
    dom_nodes_after: after.Nodes, tab_memory_after_first_render: tabBefore, tab_memory_after_scrolling_all: round(tabMemory()), memory_budget_mb: 150,
    node: process.version, chromium: browser.version(), cpus: os.cpus().length,
  };
  log(`JavaScript ${jsRaw} bytes, ${jsGz} gzipped (budget 150,000)`);
  log(`scrolled back through ${lines} lines in ${res.scroll_back_s} s; JS heap ${res.js_heap_mb.after_first_render} MB → ${res.js_heap_mb.after_scrolling_all} MB (total ${res.js_heap_mb.total_after} MB), DOM nodes ${after.Nodes}; the tab (renderer private memory) ${res.tab_memory_after_first_render.uss_mb} MB → ${res.tab_memory_after_scrolling_all.uss_mb} MB (RSS ${res.tab_memory_after_scrolling_all.rss_mb} MB, ${res.tab_memory_after_scrolling_all.processes} process(es))`);
  process.stdout.write(`${JSON.stringify(res)}\n`);
  sender.close();
} finally {
  for (const b of browserDone) await b.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
}
