import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, ROOT } from '../harness/browser.js';
import { serveControl } from '../sdk-scenarios/control.js';
import { ScenarioHost } from '../sdk-scenarios/host.js';
import type { ScenarioPage } from '../sdk-scenarios/page.js';
import { scenarios } from '../sdk-scenarios/scenarios.js';

// The SDK's integration scenarios (#15, test/sdk-scenarios/scenarios.ts) in a real browser: the
// scenarios and the browser client (sdk/src/browser.ts) bundled with esbuild for the browser
// platform, loaded into a page of headless Chromium (Debian's, driven by playwright-core) served
// from a small HTTP server of its own, each scenario its own test against a real server over
// ws://127.0.0.1:<webPort>/irc. The server only accepts WebSockets from the page's origin
// (ws-allowed-origins). What a scenario asks of the server's side (restart, KILL, a plain IRC
// client) runs here in Node, called from the page through page.exposeFunction (control.ts).
// The same scenarios run with the Node client in test/unit/sdk/scenarios-node.test.ts.

let browser: Browser;
let pages: Server;
/** the origin the scenario pages are served from (allowed by the servers) */
let origin: string;
/** the same pages under another origin (refused) */
let otherOrigin: string;
let inputs: string[] = [];

before(async () => {
  const bundle = await build({
    entryPoints: [resolve(ROOT, 'server/test/sdk-scenarios/page.ts')], absWorkingDir: ROOT, bundle: true, platform: 'browser',
    format: 'esm', target: 'es2022', write: false, conditions: ['source'], logLevel: 'silent', metafile: true,
  });
  const js = bundle.outputFiles[0]!.text;
  inputs = Object.keys(bundle.metafile.inputs);
  const html = '<!doctype html><meta charset="utf-8"><title>freeq SDK scenarios</title><script type="module" src="/scenarios.js"></script>';
  pages = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (req.url === '/scenarios.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(js);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
  const { port } = pages.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  otherOrigin = `http://localhost:${port}`;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await new Promise((r) => pages?.close(r));
});

/** a new page at `at` with the scenarios loaded and the server side of `host` exposed to it; its uncaught errors go to `errors` */
async function scenarioPage(host: ScenarioHost, at: string, errors: string[] = []): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.exposeFunction('freeqServer', (op: string, args: unknown[]) => serveControl(host, op, args));
  await page.goto(`${at}/`);
  await page.waitForFunction(() => 'freeqScenarios' in globalThis);
  return page;
}

/** the page's scenario API (page.ts), as seen from a function that page.evaluate runs in the page */
type InPage = typeof globalThis & { freeqScenarios: ScenarioPage };

test('the page\'s bundle: the scenarios and the browser entry of the SDK, nothing from Node', () => {
  assert.ok(!inputs.some((f) => f.startsWith('node:') || /node_modules\/ws\//.test(f)), inputs.join('\n'));
  for (const f of ['sdk/src/browser.ts', 'sdk/src/transport-browser.ts', 'server/test/sdk-scenarios/scenarios.ts']) assert.ok(inputs.includes(f), `${f} is in`);
  assert.ok(!inputs.includes('sdk/src/transport.ts'), 'not the Node transports');
});

for (const s of scenarios) {
  test(s.name, { timeout: 60_000 }, async () => {
    const host = await ScenarioHost.boot({ ...s.serverOptions, 'ws-allowed-origins': [origin] });
    let page: Page | undefined;
    const pageErrors: string[] = [];
    try {
      page = await scenarioPage(host, origin, pageErrors);
      await page.evaluate(([name, url]) => (globalThis as InPage).freeqScenarios.run(name, url), [s.name, host.wsUrl] as const);
      assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
    } finally {
      await page?.close();
      await host.stop();
    }
  });
}

test('a page whose origin the server does not allow: connect() rejects', { timeout: 60_000 }, async () => {
  const host = await ScenarioHost.boot({ 'ws-allowed-origins': [origin] });
  const allowed = await scenarioPage(host, origin);
  const other = await scenarioPage(host, otherOrigin);
  try {
    assert.equal(await allowed.evaluate((url) => (globalThis as InPage).freeqScenarios.tryConnect(url, 'welcome'), host.wsUrl), 'registered');
    assert.match(await other.evaluate((url) => (globalThis as InPage).freeqScenarios.tryConnect(url, 'stranger'), host.wsUrl), /could not connect/);
  } finally {
    await allowed.close();
    await other.close();
    await host.stop();
  }
});
