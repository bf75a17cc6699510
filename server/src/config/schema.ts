import type { CamelCase, OptionTable, OptionType } from './options.js';
import type { S2sConfig } from './s2s.js';

export interface Addr { host: string; port: number }

/** One enabled plugin (plugins/registry.ts validates name and options). */
export interface PluginSpec { name: string; options: Record<string, string> }

export interface OperBlock {
  name: string;
  /** compared in constant time; keep the config file private (mode 0600) */
  password: string;
  /** 'moderator': KILL, WALLOPS; 'admin': also UBAN, LOCKDOWN (commands/registry.ts OPER_CLASS_CAPABILITIES) */
  class: 'admin' | 'moderator';
  /** host shown after a successful OPER (CHGHOST), e.g. `staff/alice`; unset: unchanged */
  vhost?: string;
}

/**
 * What each option type becomes after loading (config/load.ts coerce). Times in ms, sizes in
 * bytes. Indexed by OptionType, so a new option type does not compile until it is given a value type here.
 */
export interface OptionValue {
  string: string;
  int: number;
  /** milliseconds */
  duration: number;
  /** bytes */
  bytes: number;
  bool: boolean;
  addr: Addr;
  list: string[];
  /** in configuration order */
  plugins: PluginSpec[];
}

type Option = OptionTable[number];
/** options with a default are always set; the others are optional (unset: feature off) */
type DefaultedOption = Extract<Option, { readonly default: unknown }>;
type UnsetOption = Exclude<Option, DefaultedOption>;
type ValueOf<T extends OptionType> = OptionValue[T];

/**
 * One field per row of config/options.ts OPTIONS: `listen-addr` (type `addr`, with a default)
 * becomes `listenAddr: Addr`, `tls-cert` (no default) `tlsCert?: string`. The help text of a
 * field is in the table.
 */
export type OptionConfig = {
  [O in DefaultedOption as CamelCase<O['name']>]: ValueOf<O['type']>;
} & {
  [O in UnsetOption as CamelCase<O['name']>]?: ValueOf<O['type']>;
};

/** The fields of Config that are not options: built by config/load.ts from the config file and plugin-dir. */
export interface ComputedConfig {
  /** `[[oper]]` blocks of the config file (no flag or environment variable) */
  opers: OperBlock[];
  /**
   * the plugins enabled by plugin-dir files, after those of the `plugin` option (sorted by file
   * name; not an option itself: `config print` leaves them out)
   */
  pluginsFromDir: PluginSpec[];
  /** federation peers: the allowlist with each peer's trust, and whom to dial (config/s2s.ts) */
  s2s: S2sConfig;
}

/**
 * The validated, frozen configuration every module reads: every option (OptionConfig, derived from
 * the table) plus the computed fields. Times in ms, sizes in bytes.
 */
export interface Config extends OptionConfig, ComputedConfig {}
