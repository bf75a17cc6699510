import { buildProgram, type CliResult } from './cli.js';
import { ConfigError, configToToml, loadConfig } from './config/load.js';
import { createLogger } from './observability/log.js';
import { runDbRekey, runKeysCommand, runPeerIdCommand } from './keys/commands.js';
import { startServer } from './server.js';

async function run(r: CliResult): Promise<void> {
  let config;
  try {
    config = loadConfig({ file: r.configFile ?? process.env.FREEQ_CONFIG, env: process.env, cli: r.values });
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
      const lines = r.action === 'keys' ? runKeysCommand(config, { force: r.force ?? false, names: r.keyNames ?? [] })
        : r.action === 'peer-id' ? runPeerIdCommand(config) : runDbRekey(config);
      process.stdout.write(lines.map((l) => l + '\n').join(''));
    } catch (e) {
      process.stderr.write(`freeq-server: ${(e as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  const log = createLogger(config.logLevel);
  process.on('uncaughtException', (err) => { log.fatal({ err }, 'uncaught exception'); process.exit(1); });
  let server;
  try {
    server = await startServer(config, { logger: log });
  } catch (e) {
    // e.g. EADDRINUSE, EACCES on a port below 1024, an unreadable data dir or a bad PEM file
    process.stderr.write(`freeq-server: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const shutdown = (sig: string) => {
    log.info({ sig }, 'shutting down');
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // hardening A8: renewed certificates are picked up without a restart
  process.on('SIGHUP', () => {
    try { server.reloadTls(); } catch (err) { log.error({ err }, 'TLS certificate reload failed; keeping the old one'); }
  });
}

let pending: Promise<void> | undefined;
buildProgram((r) => { pending = run(r); }).parse(process.argv);
await pending;
