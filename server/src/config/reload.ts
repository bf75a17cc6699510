import { OPTIONS, camel } from './options.js';
import type { Config } from './schema.js';

/**
 * What a reload (REHASH, SIGHUP) may change in the running server (#16). An option is listed here
 * only when every module that uses it reads the live configuration when it acts (`context.config`,
 * a getter over the reloaded object), or has a reload hook (server.ts / rehash.ts): admission's
 * limits, the cloak templates, the plugins, the TLS certificate, RPL_ISUPPORT. Everything else —
 * listeners, storage, identity services, federation, and every option added later until it is
 * listed here — needs a restart: a reload keeps its old value (so the server never runs half on
 * the new one) and reports it.
 *
 * Some take effect for what comes next, not for what exists (docs/operator-guide.md "REHASH and
 * SIGHUP"): a connection keeps the fakelag, ping and per-command rate counts it was given, a user
 * keeps the cloak and operator status they have.
 */
export const RELOADABLE: ReadonlySet<string> = new Set([
  // Server
  'network-name', 'server-password', 'motd-file', 'admin-location', 'admin-location2', 'admin-email',
  // Listeners: the certificate of a TLS listener that is running (rehash.ts), not a new listener
  'tls-cert', 'tls-key',
  // Storage: read per request
  'history-cutoff', 'history-replay-on-join', 'history-reply-max-bytes', 'history-reply-max-lines', 'history-query-limit',
  // Operators ([[oper]] blocks too: RELOADABLE_COMPUTED)
  'oper-password', 'oper-attempt-interval', 'oper-dids',
  // Identity
  'guest-cloak', 'did-cloak', 'require-sasl', 'atproto-methods',
  // Admission (Admission.reconfigure)
  'max-connections-per-ip', 'connection-throttle', 'connection-throttle-window', 'max-connections', 'limit-exempt', 'throttle-exempt',
  'http-max-connections-per-ip', 'http-max-connections', 'http-fd-reserve',
  // Flood: new connections, and rate counts made after the reload
  'fakelag', 'fakelag-burst', 'fakelag-rate', 'fakelag-window', 'fakelag-cooldown', 'message-rate', 'message-rate-window',
  'nick-change-rate', 'join-rate', 'join-rate-window', 'invite-rate', 'invite-rate-window', 'away-rate', 'away-rate-window', 'ws-ping-interval',
  // HTTP API
  'http-history-max-bytes',
  // Limits (RPL_ISUPPORT is sent again to connected clients when it changes)
  'nick-len', 'channel-len', 'topic-len', 'kick-len', 'away-len', 'realname-len', 'user-len', 'max-channels', 'max-channels-per-account',
  'max-channels-total', 'max-targets', 'max-list-entries', 'max-modes', 'whowas-len', 'sendq', 'sendq-hold-max', 'sendq-stall-timeout',
  'registration-timeout', 'ping-interval', 'ping-timeout', 'max-registration-lines',
  // Plugins (the plugins are started again when any of these changed)
  'plugin', 'plugin-dir', 'plugin-hook-budget', 'plugin-max-strikes',
  // Server notices
  'server-notice-rate', 'server-notice-window',
]);

/** The config file's tables that are not options, and whether a reload applies them. */
const COMPUTED: ReadonlyArray<{ key: 'opers' | 's2s' | 'pluginsFromDir'; name: string; reloadable: boolean }> = [
  { key: 'opers', name: '[[oper]]', reloadable: true },
  { key: 'pluginsFromDir', name: 'plugin-dir', reloadable: true },
  { key: 's2s', name: '[s2s.peers]', reloadable: false },
];

export interface ReloadPlan {
  /** the configuration to run on: the new values of what may change, the old ones of the rest */
  config: Config;
  /** option names (or `[[oper]]`) whose new value is now in effect */
  applied: string[];
  /** option names whose new value waits for a restart (the old one stays in effect) */
  restart: string[];
}

/** equal as configuration values (numbers, strings, booleans, arrays, plain objects) */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compare the running configuration with a freshly loaded one. `reloadable` may narrow RELOADABLE
 * (rehash.ts: the certificate paths when no TLS listener runs).
 */
export function planReload(old: Config, fresh: Config, reloadable: (name: string) => boolean = (n) => RELOADABLE.has(n)): ReloadPlan {
  const next: Record<string, unknown> = { ...(old as unknown as Record<string, unknown>) };
  const freshValues = fresh as unknown as Record<string, unknown>;
  const applied: string[] = [];
  const restart: string[] = [];
  const consider = (key: string, name: string, may: boolean) => {
    if (sameValue(next[key], freshValues[key])) return;
    if (may) {
      if (freshValues[key] === undefined) delete next[key]; else next[key] = freshValues[key];
      if (!applied.includes(name)) applied.push(name);
    } else if (!restart.includes(name)) {
      restart.push(name);
    }
  };
  for (const o of OPTIONS) consider(camel(o.name), o.name, reloadable(o.name));
  for (const c of COMPUTED) consider(c.key, c.name, c.reloadable && (c.key !== 'pluginsFromDir' || reloadable('plugin-dir')));
  // a computed field added later and not listed above: reported, and kept until a restart
  const known = new Set<string>([...OPTIONS.map((o) => camel(o.name)), ...COMPUTED.map((c) => c.key)]);
  for (const key of Object.keys(freshValues)) if (!known.has(key)) consider(key, key, false);
  return { config: Object.freeze(next) as unknown as Config, applied, restart };
}
