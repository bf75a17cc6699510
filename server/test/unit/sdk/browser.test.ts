import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import WebSocket from 'ws';
import { FreeqClient as BrowserClient, type WebSocketConstructor } from '../../../../sdk/src/browser.js';
import { FreeqClient } from '../../../../sdk/src/index.js';
import { bootServer, type TestServer } from '../../harness/server.js';

// The SDK in a browser (#15): its browser entry bundles for the browser platform with no Node
// built-in and no `ws` (a bundler would need polyfills otherwise), and its client, over a
// WebSocket with the browser API, talks to a real server like the Node client does.

const servers: TestServer[] = [];
after(async () => { for (const s of servers) await s.stop(); });

test('sdk/src/browser.ts bundles for browsers: nothing from Node, and small', async () => {
  const r = await build({
    entryPoints: ['sdk/src/browser.ts'], bundle: true, platform: 'browser', format: 'esm', write: false, minify: true,
    conditions: ['source'], logLevel: 'silent', metafile: true,
  });
  const js = r.outputFiles[0]!.text;
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(!inputs.some((f) => f.startsWith('node:') || /node_modules\/ws\//.test(f)), inputs.join('\n'));
  assert.ok(inputs.some((f) => f.startsWith('protocol/src/')), 'the shared protocol package is in');
  // the web client's budget is 150 kB gzipped for the whole page (#15); the SDK takes a fraction
  const gz = gzipSync(js).length;
  assert.ok(gz < 60_000, `the browser SDK is ${gz} bytes gzipped`);
});

test('the browser client (the WebSocket browser API) registers, joins and talks with a Node client through a real server', async () => {
  const srv = await bootServer();
  servers.push(srv);
  const url = `ws://127.0.0.1:${srv.webPort}/irc`;
  const web = new BrowserClient({ url, nick: 'webby', WebSocket: WebSocket as unknown as WebSocketConstructor });
  const node = new FreeqClient({ url: `irc://127.0.0.1:${srv.port}`, nick: 'nody' });
  await web.connect();
  await node.connect();
  assert.equal(web.registered, true);
  web.send('JOIN', '#web');
  await new Promise<void>((resolve) => web.on('join', (ev) => { if (ev.self) resolve(); }));
  node.send('JOIN', '#web');
  const heard = new Promise<string>((resolve) => web.on('message', (m) => resolve(`${m.from} ${m.target} ${m.text}`)));
  await new Promise<void>((resolve) => node.on('join', (ev) => { if (ev.self) resolve(); }));
  node.send('PRIVMSG', '#web', 'hello browser');
  assert.equal(await heard, 'nody #web hello browser');
  const back = new Promise<string>((resolve) => node.on('message', (m) => resolve(`${m.from} ${m.text}`)));
  web.send('PRIVMSG', '#web', 'hello node');
  assert.equal(await back, 'webby hello node');
  await web.quit('bye');
  assert.equal(web.connected, false);
  await node.quit('bye');
});
