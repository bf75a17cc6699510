import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { RawClient, type ConnectOptions } from './raw-client.js';

/** one line the server logged: pino's JSON object (numeric level, msg, the logged fields) */
export type LogRecord = { level: number; msg: string } & Record<string, unknown>;

/** harness-only options (not server config) */
export interface BootOptions {
  /**
   * keep the server's log lines in TestServer.logs instead of printing them: at the log-level
   * option when it is not silent, else at info
   */
  captureLogs?: boolean;
  /**
   * a TOML config file the server reads (under the harness's command-line options, which win):
   * REHASH loads it again, so a test can rewrite it (#16)
   */
  configFile?: string;
}

export interface TestServer {
  server: RunningServer;
  /** the server's log lines, when booted with captureLogs (else always empty) */
  logs: LogRecord[];
  config: Config;
  dataDir: string;
  port: number;
  webPort: number;
  tlsPort?: number;
  /** connect a raw client (not registered) */
  connect(opts?: ConnectOptions): Promise<RawClient>;
  /** connect and register with NICK/USER (and optional caps) */
  client(nick: string, opts?: ConnectOptions & { caps?: string[] }): Promise<RawClient>;
  /** stop and start again on the same data dir (persistence tests) */
  restart(): Promise<TestServer>;
  stop(): Promise<void>;
}

/**
 * Boot the real server through the production composition root (startServer + loadConfig),
 * on 127.0.0.1 port 0 with a fresh data dir. Tests vary config, never code paths.
 */
export async function bootServer(options: Record<string, unknown> = {}, dataDir?: string, fileValues?: Record<string, unknown>, boot: BootOptions = {}): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'freeq-test-'));
  const sources = {
    // config-file-only settings ([[oper]] blocks), as parsed from TOML, or a file to read
    ...(boot.configFile !== undefined ? { file: boot.configFile } : { fileValues }),
    env: {},
    cli: {
      'listen-addr': '127.0.0.1:0',
      'web-addr': '127.0.0.1:0',
      'tls-listen-addr': '127.0.0.1:0',
      'data-dir': dir,
      'log-level': 'silent',
      'server-name': 'irc.test',
      // test configuration: most suites send bursts of commands, which C1 fakelag would only slow
      // down and C2 (5 messages / 2 s) would refuse; the flood tests set both back explicitly
      // (production defaults: fakelag on, message-rate 5)
      fakelag: false,
      'message-rate': 100000,
      ...options,
    },
  };
  const config = loadConfig(sources);
  const logs: LogRecord[] = [];
  const level = typeof options['log-level'] === 'string' && options['log-level'] !== 'silent' ? options['log-level'] : 'info';
  const logger = boot.captureLogs ? pino({ level, base: undefined }, { write: (line: string) => { logs.push(JSON.parse(line) as LogRecord); } }) : undefined;
  const server = await startServer(config, { ...(logger ? { logger } : {}), configSources: sources });
  const clients: RawClient[] = [];
  const port = server.addresses.irc.port;
  const ts: TestServer = {
    server, config, dataDir: dir, port, logs,
    webPort: server.addresses.web.port,
    tlsPort: server.addresses.tls?.port,
    async connect(opts) {
      const c = await RawClient.connect({ ...opts, port: opts?.port ?? port });
      clients.push(c);
      return c;
    },
    async client(nick, opts) {
      const c = await ts.connect(opts);
      await c.register(nick, opts?.caps);
      return c;
    },
    async restart() {
      for (const c of clients) c.destroy();
      await server.stop();
      return bootServer(options, dir, fileValues, boot);
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return ts;
}
