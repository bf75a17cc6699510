import { buildProgram, type CliResult } from './cli.js';
import { ConfigError, configToToml, loadConfig } from './config/load.js';
import { exampleConfig } from './config/example.js';
import { setupLogging } from './observability/log.js';
import { banner } from './welcome.js';
import { VERSION } from './version.js';
import { runDbRekey, runKeysCommand, runPeerIdCommand } from './keys/commands.js';
import { startServer } from './server.js';

async function run(r: CliResult): Promise<void> {
  // #16: the commented example configuration, from the option table alone (no configuration read)
  if (r.action === 'config-example') { process.stdout.write(exampleConfig()); return; }
  let config;
  // the same sources again on REHASH / SIGHUP (rehash.ts): a flag still wins over the file
  const sources = { file: r.configFile ?? process.env.FREEQ_CONFIG, env: process.env, cli: r.values };
  try {
    config = loadConfig(sources);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`freeq-server: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (r.action === 'config-print') {
    process.stdout.write(configToToml(config));
    return;
  }
  if (r.action === 'keys' || r.action === 'db-rekey' || r.action === 'peer-id') {
    try {
      // #16: progress of the long ones (rekey, migrations, encrypting an old database) on stderr
      const report = { progress: (line: string) => { process.stderr.write(`freeq-server: ${line}\n`); } };
      const lines = r.action === 'keys' ? runKeysCommand(config, { force: r.force ?? false, names: r.keyNames ?? [], report })
        : r.action === 'peer-id' ? runPeerIdCommand(config) : runDbRekey(config, report);
      process.stdout.write(lines.map((l) => l + '\n').join(''));
    } catch (e) {
      process.stderr.write(`freeq-server: ${(e as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  // #16: pretty lines and a banner for a person at a terminal, JSON lines otherwise, or log-file
  const logging = setupLogging(config.logLevel, { format: config.logFormat, ...(config.logFile !== undefined ? { file: config.logFile } : {}) });
  const log = logging.logger;
  process.on('uncaughtException', (err) => { log.fatal({ err }, 'uncaught exception'); process.exit(1); });
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  // #16: SIGHUP is REHASH — the configuration file, the MOTD, the TLS certificate (hardening A8:
  // renewed certificates without a restart), log-file reopened; the report goes to the log. Caught
  // from the start (a SIGHUP during start-up would otherwise end the process), run once up.
  let hangup = false;
  const rehash = (): void => {
    if (!server) { hangup = true; return; }
    try {
      server.rehash('SIGHUP');
    } catch (err) {
      log.error({ err }, 'REHASH on SIGHUP failed; the running configuration is unchanged');
    }
  };
  process.on('SIGHUP', rehash);
  try {
    server = await startServer(config, { logger: log, configSources: sources, reopenLogs: () => logging.reopen() });
  } catch (e) {
    // e.g. EADDRINUSE, EACCES on a port below 1024, an unreadable data dir or a bad PEM file
    process.stderr.write(`freeq-server: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const running = server;
  const shutdown = (sig: string) => {
    log.info({ sig }, 'shutting down');
    void running.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  if (logging.human) process.stdout.write(banner(VERSION, config, running.urls, config.logFile));
  if (hangup) rehash();
}

let pending: Promise<void> | undefined;
buildProgram((r) => { pending = run(r); }).parse(process.argv);
await pending;
