#!/usr/bin/env node
// Try the Bluesky login on one machine, offline: a local PLC directory and PDS (the test stack,
// server/test/harness/atproto-stack.mjs: @did-plc/server in memory, @atproto/pds on SQLite, both
// on 127.0.0.1) with test accounts, and freeq pointed at them. `npm run try:bluesky`, then open
// http://127.0.0.1:8080/ and log in as alice.test / alice-pass. Ctrl-C stops everything.
// For development and demos only: --ssrf-allow-loopback lets the server talk to the local PDS.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stack = spawn(process.execPath, ['server/test/harness/atproto-stack.mjs', '--accounts', 'alice,bob'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
const line = await new Promise((resolve, reject) => {
  createInterface({ input: stack.stdout }).once('line', resolve);
  stack.once('exit', (code) => reject(new Error(`the AT Protocol test stack exited (${code})`)));
});
const info = JSON.parse(line);
console.log(`local PLC directory ${info.plcUrl}, PDS ${info.pdsUrl}`);
for (const a of info.accounts) console.log(`  Bluesky account ${a.handle}  password ${a.password}  app password (for IRC clients' SASL PLAIN) ${a.appPassword}`);
const server = spawn(process.execPath, [
  'server/bin/freeq-server.js', '--plc-url', info.plcUrl, '--handle-resolver-url', info.pdsUrl, '--ssrf-allow-loopback',
  ...process.argv.slice(2),
], { cwd: root, stdio: 'inherit' });
console.log('open http://127.0.0.1:8080/ and log in with Bluesky as alice.test (password alice-pass)');
const stop = () => { server.kill('SIGTERM'); stack.kill('SIGTERM'); };
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
server.once('exit', (code) => { stack.kill('SIGTERM'); process.exitCode = code ?? 0; });
