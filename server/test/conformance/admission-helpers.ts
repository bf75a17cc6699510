import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { RawClient, type ConnectOptions } from '../harness/raw-client.js';

/**
 * Admission tests boot through startServer (the production composition root, as bootServer does)
 * so they can also pass a shiftable clock and capture the log.
 */
export interface AdmissionServer {
  server: RunningServer;
  port: number;
  tlsPort?: number;
  webPort: number;
  /** everything logged so far (pino JSON lines) */
  logs(): string;
  /** move the server's clock forward (throttle windows) */
  advance(ms: number): void;
  connect(opts?: ConnectOptions): Promise<RawClient>;
  client(nick: string, opts?: ConnectOptions): Promise<RawClient>;
  limitHits(kind: string): Promise<number>;
  /** QUIT, wait for EOF and for the server to have counted the connection out */
  quit(c: RawClient): Promise<void>;
  /** wait until admission counts at most `n` open connections (sockets close after the session ends) */
  settle(n: number): Promise<void>;
  stop(): Promise<void>;
}

export async function bootAdmission(cli: Record<string, unknown> = {}, withTls = false): Promise<AdmissionServer> {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-admission-'));
  const tlsOpts: Record<string, string> = {};
  if (withTls) {
    const pems = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    writeFileSync(join(dir, 'cert.pem'), pems.cert);
    writeFileSync(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
    tlsOpts['tls-cert'] = join(dir, 'cert.pem');
    tlsOpts['tls-key'] = join(dir, 'key.pem');
  }
  const config = loadConfig({
    env: {},
    cli: {
      'listen-addr': '127.0.0.1:0', 'web-addr': '127.0.0.1:0', 'tls-listen-addr': '127.0.0.1:0',
      'data-dir': join(dir, 'data'), 'server-name': 'irc.test', ...tlsOpts, ...cli,
    },
  });
  let logged = '';
  const sink = new Writable({ write(chunk, _enc, cb) { logged += String(chunk); cb(); } });
  let offset = 0;
  const server = await startServer(config, { logger: pino({ level: 'debug' }, sink), clock: { now: () => Date.now() + offset } });
  const clients: RawClient[] = [];
  const port = server.addresses.irc.port;
  const s: AdmissionServer = {
    server, port,
    tlsPort: server.addresses.tls?.port,
    webPort: server.addresses.web.port,
    logs: () => logged,
    advance(ms) { offset += ms; },
    async connect(opts) {
      const c = await RawClient.connect({ ...opts, port: opts?.port ?? port });
      clients.push(c);
      return c;
    },
    async client(nick, opts) {
      const c = await s.connect(opts);
      await c.register(nick);
      return c;
    },
    async limitHits(kind) {
      const text = await server.context.metrics.text();
      const m = text.match(new RegExp(`^freeq_limit_hits_total\\{kind="${kind}"\\} (\\d+)$`, 'm'));
      return m ? Number(m[1]) : 0;
    },
    async quit(c) {
      const n = server.admission.open;
      c.send('QUIT');
      await c.waitClosed();
      await s.settle(n - 1);
    },
    async settle(n) {
      const deadline = Date.now() + 2000;
      while (server.admission.open > n) {
        if (Date.now() > deadline) throw new Error(`server still counts ${server.admission.open} connections (want ≤ ${n})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}

/** The connection got exactly `line` and then EOF (nothing before, nothing after). */
export async function expectRefused(c: RawClient, line: string, timeoutMs = 2000): Promise<void> {
  await c.waitClosed(timeoutMs);
  assert.deepEqual(c.received, [line]);
}

export interface WsResult {
  ws: WebSocket;
  /** set when the upgrade was refused */
  status?: number;
  body?: string;
}

/** Open a WebSocket to /irc; a refused upgrade resolves with its HTTP status and body. */
export function wsOpen(port: number, opts: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/irc`, ['text.ircv3.net'], {
      perMessageDeflate: false,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => { ws.terminate(); resolve({ ws, status: res.statusCode, body }); });
    });
    ws.once('error', (e) => reject(e));
  });
}

/** Register over an open WebSocket; resolves with every line received up to the end of the MOTD. */
export function wsRegister(ws: WebSocket, nick: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const t = setTimeout(() => reject(new Error(`WS ${nick} did not register; saw:\n${lines.join('\n')}`)), 3000);
    ws.on('message', (d: Buffer) => {
      const l = d.toString('utf8');
      lines.push(l);
      if (/ (376|422) /.test(l)) { clearTimeout(t); resolve(lines); }
    });
    ws.once('close', () => { clearTimeout(t); reject(new Error(`WS ${nick} closed; saw:\n${lines.join('\n')}`)); });
    ws.send(`NICK ${nick}`);
    ws.send(`USER ${nick} 0 * :${nick}`);
  });
}

/** OPER up a registered client (the server was booted with oper-password). */
export async function operUp(c: RawClient, password: string): Promise<void> {
  c.send(`OPER any :${password}`);
  await c.expect(/ 381 /);
}

/** The WHOIS "is connecting from" line (378, opers only) for `nick`. */
export async function whoisHost(oper: RawClient, nick: string): Promise<string> {
  oper.send(`WHOIS ${nick}`);
  const lines = await oper.collectUntil(/ 318 /);
  const host = lines.find((l) => / 378 /.test(l));
  assert.ok(host, `no 378 in WHOIS:\n${lines.join('\n')}`);
  return host;
}
