import { Command, Option } from 'commander';
import { OPTIONS, camel, envName } from './config/options.js';
import { VERSION } from './version.js';

export interface CliResult {
  action: 'run' | 'config-print' | 'config-example' | 'keys' | 'db-rekey' | 'peer-id';
  configFile?: string;
  values: Record<string, unknown>;
  /** `keys --force`: rotate instead of only creating missing keys */
  force?: boolean;
  /** `keys [name...]`: msg-signing, db-encryption, iroh, cloak (default: all) */
  keyNames?: string[];
}

function defaultText(d: unknown): string {
  if (d === undefined) return 'unset';
  if (Array.isArray(d)) return d.length ? d.join(',') : 'empty';
  if (d === '') return 'empty';
  return typeof d === 'string' ? d : JSON.stringify(d);
}

/** Commander program whose options come from config/options.ts; values are validated later. */
export function buildProgram(onResult: (r: CliResult) => void): Command {
  const program = new Command('freeq-server')
    .description('freeq: an IRC server for the modern internet.\n\nEvery option can also be set in a TOML file (--config, key = option name)\nor an environment variable (FREEQ_<NAME>). Precedence: default < file < env < CLI.')
    .version(VERSION, '-V, --version')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run freeq-server --help for every option)')
    // usage errors exit 2 like configuration errors; --help and --version exit 0
    .exitOverride((err) => { if (err.exitCode !== 0) process.exit(2); })
    .option('-c, --config <file>', 'TOML configuration file (env FREEQ_CONFIG)');
  for (const o of OPTIONS) {
    const flag = o.type === 'bool' ? `--${o.name} [bool]` : `--${o.name} <${o.type === 'list' ? 'list' : o.type === 'plugins' ? 'spec' : 'value'}>`;
    const opt = new Option(flag, `${o.help} (default: ${defaultText(o.default)}; env ${envName(o)}${o.envAliases ? ', ' + o.envAliases.join(', ') : ''})`);
    // repeatable: every --plugin adds one spec (commas belong to the spec, so no list splitting)
    if (o.type === 'plugins') opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    opt.helpGroup(o.group);
    program.addOption(opt);
  }
  const collect = (opts: Record<string, unknown>): Record<string, unknown> => {
    const values: Record<string, unknown> = {};
    for (const o of OPTIONS) {
      const v = opts[camel(o.name)];
      if (v !== undefined) values[o.name] = v === true && o.type === 'bool' ? 'true' : v;
    }
    return values;
  };
  program.action(() => {
    const opts = program.opts();
    onResult({ action: 'run', configFile: opts.config as string | undefined, values: collect(opts) });
  });
  const cfg = program.command('config').description('inspect the configuration');
  cfg.command('print')
    .description('print the effective configuration (secrets redacted) and exit')
    .action(() => {
      const opts = program.opts();
      onResult({ action: 'config-print', configFile: opts.config as string | undefined, values: collect(opts) });
    });
  cfg.command('example')
    .description('print a commented example configuration file: every option with its help and default (as freeq.example.toml) and exit')
    .action(() => { onResult({ action: 'config-example', values: {} }); });
  program.command('keys')
    .description('create missing key files in the data dir (0600) and print their public IDs; --force rotates msg-signing, iroh and cloak keys (server stopped)')
    .argument('[name...]', 'msg-signing, db-encryption, iroh, cloak (default: all)')
    .option('--force', 'replace existing keys: the old message-signing public key stays listed; iroh gets a new peer ID; a new cloak key changes every user\'s cloak (bans on cloaks stop matching); the database key is only changed by `db rekey`')
    .action((names: string[], o: { force?: boolean }) => {
      const opts = program.opts();
      onResult({ action: 'keys', configFile: opts.config as string | undefined, values: collect(opts), force: o.force === true, keyNames: names });
    });
  program.command('peer-id')
    .description('print this server\'s federation peer ID (the ed25519 public key in iroh-key.secret, 64 hex), creating the key file (0600) if it is missing')
    .action(() => {
      const opts = program.opts();
      onResult({ action: 'peer-id', configFile: opts.config as string | undefined, values: collect(opts) });
    });
  const dbCmd = program.command('db').description('database maintenance (server stopped)');
  dbCmd.command('rekey')
    .description('re-encrypt the database under a new random db-encryption-key.secret (the previous key is kept as .old)')
    .action(() => {
      const opts = program.opts();
      onResult({ action: 'db-rekey', configFile: opts.config as string | undefined, values: collect(opts) });
    });
  return program;
}
