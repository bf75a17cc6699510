#!/usr/bin/env node
// A real, offline AT Protocol stack for tests: an in-memory PLC directory (@did-plc/server) and a
// SQLite PDS (@atproto/pds 0.4.x, Node 20), both on loopback only. Creates accounts with app
// passwords, prints ONE JSON line when ready, then runs until SIGTERM/SIGINT (or stdin closes).
// Adapted from ../../../../shared/docs/atproto-testing.md, Appendix A.
//   node atproto-stack.mjs [--accounts alice,bob] [--pds-port 0]
// JSON: {plcUrl, pdsUrl, adminPassword, plcRotationKeyHex, accounts:[{name,did,handle,password,appPassword}]}
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds';
import plcServer from '@did-plc/server';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { accounts: { type: 'string', default: 'alice,bob' }, 'pds-port': { type: 'string', default: '0' } } });
const freePort = async () => { const s = createServer().listen(0, '127.0.0.1'); await once(s, 'listening'); const p = s.address().port; s.close(); await once(s, 'close'); return p; };

const { PlcServer, Database } = plcServer;
const plc = PlcServer.create({ db: Database.mock() });               // no Postgres: in-memory op log
const plcHttp = plc.app.listen(0, '127.0.0.1');                       // loopback only (start() binds all)
await once(plcHttp, 'listening');
const plcUrl = `http://127.0.0.1:${plcHttp.address().port}`;

const port = Number(args['pds-port']) || (await freePort());          // the PDS bakes its URL into DID docs
const dataDir = mkdtempSync(join(tmpdir(), 'atproto-pds-'));
const rotationKeyHex = randomBytes(32).toString('hex');
Object.assign(process.env, {
  PDS_HOSTNAME: 'localhost', PDS_PORT: String(port),
  PDS_DATA_DIRECTORY: dataDir, PDS_BLOBSTORE_DISK_LOCATION: join(dataDir, 'blobs'),
  PDS_DID_PLC_URL: plcUrl,
  PDS_JWT_SECRET: randomBytes(16).toString('hex'), PDS_DPOP_SECRET: randomBytes(32).toString('hex'),
  PDS_ADMIN_PASSWORD: 'admin-pass',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotationKeyHex,
  PDS_INVITE_REQUIRED: 'false', PDS_DEV_MODE: 'true', PDS_CRAWLERS: '',
  // createSession is rate limited per identifier+IP (30 per 5 min): tests log in many times
  PDS_RATE_LIMITS_ENABLED: 'false',
  LOG_ENABLED: process.env.LOG_ENABLED ?? 'false',
});
const env = readEnv();
const pds = await PDS.create(envToCfg(env), envToSecrets(env));
// PDS.start() listens on all interfaces; do what it does, but on loopback only
await pds.ctx.sequencer.start();
const pdsHttp = pds.app.listen(port, '127.0.0.1');
pdsHttp.keepAliveTimeout = 90_000;
await once(pdsHttp, 'listening');
const pdsUrl = `http://localhost:${port}`;

const post = async (nsid, body, token) => {
  const res = await fetch(`${pdsUrl}/xrpc/${nsid}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};
const accounts = [];
for (const name of args.accounts.split(',').filter(Boolean)) {
  const handle = `${name}.test`, password = `${name}-pass`;
  const acct = await post('com.atproto.server.createAccount', { handle, email: `${name}@example.com`, password });
  const { password: appPassword } = await post('com.atproto.server.createAppPassword', { name: 'irc' }, acct.accessJwt);
  accounts.push({ name, did: acct.did, handle, password, appPassword });
}
console.log(JSON.stringify({ plcUrl, pdsUrl, adminPassword: 'admin-pass', plcRotationKeyHex: rotationKeyHex, accounts }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref();
  try { pdsHttp.closeAllConnections(); await new Promise((r) => pdsHttp.close(r)); await pds.destroy(); } catch { /* best effort: exiting anyway */ }
  try { plcHttp.close(); } catch { /* best effort: exiting anyway */ }
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// the parent died without killing us: stdin (a pipe from the parent) closes
process.stdin.on('end', stop);
process.stdin.resume();
