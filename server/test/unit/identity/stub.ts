/** Shared helpers for the identity tests: real HTTP servers on 127.0.0.1 and a real service. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { createIdentityService, type IdentityDeps } from '../../../src/identity/service.js';
import type { IdentityService } from '../../../src/identity/types.js';
import { createLogger } from '../../../src/observability/log.js';
import { openDb, type Db } from '../../../src/storage/db.js';
import { DidCacheRepo } from '../../../src/storage/repos/did-cache.js';

export interface Stub {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** http://localhost:<port> */
  localUrl: string;
  /** request lines seen: `GET /path` */
  hits: string[];
  /** TCP connections accepted */
  connections(): number;
  /** last request's headers and body */
  last?: { headers: IncomingMessage['headers']; body: string };
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export async function stubServer(handler: Handler, host = '127.0.0.1'): Promise<Stub> {
  let conns = 0;
  const sockets = new Set<import('node:net').Socket>();
  const stub = {} as Stub;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      stub.hits.push(`${req.method} ${req.url}`);
      stub.last = { headers: req.headers, body };
      handler(req, res, body);
    });
  });
  server.on('connection', (s) => { conns++; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  Object.assign(stub, {
    port,
    url: `http://127.0.0.1:${port}`,
    localUrl: `http://localhost:${port}`,
    hits: [],
    connections: () => conns,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  });
  return stub;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export interface TestIdentity {
  svc: IdentityService;
  config: Config;
  db: Db;
  clock: { t: number };
  /** another service over the same database (a restart) */
  reopen(): IdentityService;
  close(): void;
}

/** A real identity service from loadConfig + openDb on a temp file; `clock.t` is its time (ms). */
export function makeIdentity(cli: Record<string, unknown> = {}, startMs = Date.now(), extra: Partial<IdentityDeps> = {}): TestIdentity {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-identity-'));
  const config = loadConfig({ env: {}, cli: { 'data-dir': dir, 'ssrf-allow-loopback': true, 'http-timeout': '2s', ...cli } });
  const db = openDb(join(dir, 'freeq.db'));
  const clock = { t: startMs };
  const log = createLogger('silent');
  const make = () => createIdentityService({ config, didCache: new DidCacheRepo(db), log, now: () => clock.t, ...extra });
  return {
    svc: make(), config, db, clock,
    reopen: make,
    close() { db.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

/** A syntactically valid did:plc from a short seed (24 chars of base32). */
export function plcDid(seed: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < 24; i++) out += alphabet[(seed.charCodeAt(i % seed.length) + i * 7) % 32];
  return `did:plc:${out}`;
}
