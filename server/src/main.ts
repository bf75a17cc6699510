import { buildProgram, type CliResult } from './cli.js';
import { ConfigError, describeConfig, loadConfig } from './config/load.js';
import { createLogger } from './observability/log.js';
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
    process.stdout.write(JSON.stringify(describeConfig(config), null, 2) + '\n');
    return;
  }
  const log = createLogger(config.logLevel);
  process.on('uncaughtException', (err) => { log.fatal({ err }, 'uncaught exception'); process.exit(1); });
  const server = await startServer(config, { logger: log });
  const shutdown = (sig: string) => {
    log.info({ sig }, 'shutting down');
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

let pending: Promise<void> | undefined;
buildProgram((r) => { pending = run(r); }).parse(process.argv);
await pending;
