import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { RawClient } from '../harness/raw-client.js';

/** A real server whose log (level trace) is captured, for "what reaches the log" assertions. */
export interface LoggedServer {
  server: RunningServer;
  port: number;
  webPort: number;
  /** every log line so far (JSON text) */
  logs(): string[];
  connect(): Promise<RawClient>;
  stop(): Promise<void>;
}

export async function bootLogged(options: Record<string, unknown> = {}): Promise<LoggedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-test-'));
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); cb(); } });
  const config = loadConfig({
    env: {},
    cli: {
      'listen-addr': '127.0.0.1:0', 'web-addr': '127.0.0.1:0', 'tls-listen-addr': '127.0.0.1:0',
      'data-dir': dir, 'log-level': 'trace', 'server-name': 'irc.test', ...options,
    },
  });
  const server = await startServer(config, { logger: pino({ level: 'trace' }, sink) });
  const clients: RawClient[] = [];
  return {
    server,
    port: server.addresses.irc.port,
    webPort: server.addresses.web.port,
    logs: () => [...lines],
    async connect() {
      const c = await RawClient.connect({ port: server.addresses.irc.port });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
