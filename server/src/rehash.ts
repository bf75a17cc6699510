import { ConfigError, loadConfig, type ConfigSources } from './config/load.js';
import { planReload, RELOADABLE, sameValue } from './config/reload.js';
import type { Config } from './config/schema.js';
import type { RehashReport } from './context.js';
import type { Logger } from './observability/log.js';
import type { ServerNotices } from './session/server-notices.js';

/**
 * A reload (#16: REHASH, SIGHUP), wired by server.ts. The configuration is loaded again from the
 * same sources as at start (file < environment < command line: a flag still wins over the file);
 * config/reload.ts decides what may change now. The server then runs on one configuration object
 * (`context.config` reads it), with these hooks for the parts that hold a value of their own.
 */
export interface ReloadHooks {
  /** a TLS listener is running: its certificate can be replaced (not a listener started or stopped) */
  readonly tlsActive: boolean;
  /** re-read the certificate and key for the TLS listener (and web-tls); throws, keeping the old ones */
  reloadTls(cert: string, key: string): void;
  /** admission's limits and exempt lists (transport/admission.ts reconfigure) */
  admission(c: Config): void;
  /** the cloak templates (state/cloak.ts setTemplates) */
  cloaks(c: Config): void;
  /** read `c`'s motd-file again (welcome.ts readMotdFile); its lines, undefined when unreadable or empty */
  motd(c: Config): string[] | undefined;
  /** start the plugins of `c` in place of the running ones (plugins/switch.ts) */
  plugins(c: Config): void;
  /** RPL_ISUPPORT from `c`: new registrations get it, connected clients get what changed */
  isupport(c: Config): void;
  /** reopen log-file (logrotate) */
  reopenLogs?(): void;
}

export interface RehashDeps {
  /** where the configuration came from (main.ts: --config / FREEQ_CONFIG, the environment, the flags) */
  sources?: ConfigSources;
  current(): Config;
  swap(next: Config): void;
  hooks: ReloadHooks;
  notices: ServerNotices;
  log: Logger;
}

const PLUGIN_OPTIONS = ['plugin', 'plugin-dir', 'plugin-hook-budget', 'plugin-max-strikes'];

/** `-NAME` for tokens gone, `NAME=value` for tokens new or changed (modern.ircdocs.horse#rplisupport-005) */
export function isupportChanges(prev: readonly string[], next: readonly string[]): string[] {
  const name = (t: string) => t.split('=')[0]!;
  const before = new Set(prev);
  const names = new Set(next.map(name));
  return [...next.filter((t) => !before.has(t)), ...prev.map(name).filter((n) => !names.has(n)).map((n) => `-${n}`)];
}

/** Re-read the configuration, apply what may change, report the rest (also to the log). */
export function rehash(d: RehashDeps, by: string): RehashReport {
  const { hooks, log } = d;
  hooks.reopenLogs?.();
  const file = d.sources?.file;
  const report: RehashReport = { ...(file !== undefined ? { file } : {}), problems: [], applied: [], restart: [], notes: [] };
  const old = d.current();
  let fresh: Config = old;
  if (d.sources) {
    try {
      fresh = loadConfig(d.sources);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      report.problems = e.problems;
      log.warn({ by, file, problems: e.problems }, 'REHASH: the configuration has errors; nothing was changed');
      d.notices.send('a', `${by} tried to rehash: the configuration has ${e.problems.length} problem(s); nothing was changed`, {}, false);
      return report;
    }
  } else {
    report.notes.push('no configuration source to read again: only the MOTD file and the TLS certificate were read');
  }
  // the certificate paths change only for a TLS listener that runs and stays configured
  const tlsPaths = hooks.tlsActive && fresh.tlsCert !== undefined && fresh.tlsKey !== undefined;
  const plan = planReload(old, fresh, (n) => (n === 'tls-cert' || n === 'tls-key' ? tlsPaths : RELOADABLE.has(n)));
  let next = plan.config;
  if (hooks.tlsActive && next.tlsCert !== undefined && next.tlsKey !== undefined) {
    try {
      hooks.reloadTls(next.tlsCert, next.tlsKey);
      report.notes.push(`TLS certificate reloaded from ${next.tlsCert}`);
    } catch (e) {
      // the old certificate stays, and so do its paths
      report.notes.push(`TLS certificate NOT reloaded (${(e as Error).message.split('\n')[0]}): the old one stays in use`);
      next = Object.freeze({ ...next, tlsCert: old.tlsCert, tlsKey: old.tlsKey });
      plan.applied = plan.applied.filter((n) => n !== 'tls-cert' && n !== 'tls-key');
    }
  }
  d.swap(next);
  report.applied = plan.applied;
  report.restart = plan.restart;
  hooks.admission(next);
  if (!sameValue(old.guestCloak, next.guestCloak) || !sameValue(old.didCloak, next.didCloak)) hooks.cloaks(next);
  if (plan.applied.some((n) => PLUGIN_OPTIONS.includes(n))) {
    hooks.plugins(next);
    report.notes.push('plugins started again with the new configuration');
  }
  hooks.isupport(next);
  if (hooks.motd(next) === undefined && next.motdFile !== undefined) report.notes.push(`motd-file ${next.motdFile} cannot be read or is empty: clients get 422 until it can be and the server is rehashed`);
  log.info({ by, file, applied: report.applied, restart: report.restart, notes: report.notes }, 'REHASH: configuration reloaded');
  if (report.restart.length > 0) log.warn({ by, restart: report.restart }, 'REHASH: these options changed but need a restart; their old values stay in effect');
  d.notices.send('a', `${by} rehashed the server configuration: ${report.applied.length} change(s) in effect, ${report.restart.length} waiting for a restart`, {}, false);
  return report;
}
