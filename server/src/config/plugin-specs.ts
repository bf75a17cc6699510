import { readdirSync, readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { PluginSpec } from './schema.js';

/**
 * Plugin specs as configuration spells them: the `plugin` option (`name:key=value,...`, `;`-separated
 * in the environment, `[[plugin]]` tables in the config file) and plugin-dir files. config/ only reads
 * the syntax into raw `{name, options}`; whether a plugin of that name exists and accepts those
 * options is for plugins/registry.ts, which registers its check here (setPluginSpecCheck) so its
 * problems are reported with every other configuration problem (ConfigError, exit code 2).
 */

/** Problems with one spec, each prefixed with `where` (empty: fine). */
export type PluginSpecCheck = (spec: PluginSpec, where: string) => string[];

let pluginSpecCheck: PluginSpecCheck | undefined;

/** Called by plugins/registry.ts when it is loaded (the composition root imports it before loading the configuration). */
export function setPluginSpecCheck(check: PluginSpecCheck): void {
  pluginSpecCheck = check;
}

/** The registered check; without one no spec passes (a server must not start with unchecked plugins). */
function checkSpec(spec: PluginSpec, where: string): string[] {
  if (!pluginSpecCheck) return [`${where}: plugin ${spec.name} cannot be checked (no plugin registry loaded)`];
  return pluginSpecCheck(spec, where);
}

/**
 * The command-line form `name:key=value,key2=value2` (freeq-reference.md §1.13). Values may
 * not contain commas; list-valued options use `|` (`words=foo|bar`). Returns a problem text
 * for a malformed spec.
 */
export function parsePluginArg(arg: string): PluginSpec | string {
  const s = arg.trim();
  const colon = s.indexOf(':');
  const name = (colon < 0 ? s : s.slice(0, colon)).trim();
  if (!name) return `"${arg}": expected name or name:key=value,key2=value2`;
  const options: Record<string, string> = {};
  if (colon >= 0) {
    for (const part of s.slice(colon + 1).split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) return `"${arg}": "${part}" is not key=value`;
      const k = part.slice(0, eq).trim();
      if (Object.hasOwn(options, k)) return `"${arg}": option "${k}" given twice`;
      options[k] = part.slice(eq + 1).trim();
    }
  }
  return { name, options };
}

/** TOML option values as strings: arrays become `|`-separated lists (the plugins' list syntax). */
function pluginOptionValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join('|');
  return undefined;
}

/**
 * A plugin as a TOML table: `name` and an `options` table (`[[plugin]]` / `[plugin.options]`).
 * In a plugin-dir file (`loose`), other top-level keys are options too.
 */
function pluginTable(t: unknown, where: string, problems: string[], loose: boolean): PluginSpec | undefined {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) { problems.push(`${where}: expected a table with name = "..."`); return undefined; }
  const { name, options, ...rest } = t as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') { problems.push(`${where}: name = "<plugin>" is missing`); return undefined; }
  const out: Record<string, string> = {};
  const add = (k: string, v: unknown) => {
    const s = pluginOptionValue(v);
    if (s === undefined) problems.push(`${where}: option "${k}" must be a string, number, boolean or list`);
    else out[k] = s;
  };
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) problems.push(`${where}: options must be a table`);
    else for (const [k, v] of Object.entries(options)) add(k, v);
  }
  for (const [k, v] of Object.entries(rest)) {
    if (loose) add(k, v);
    else problems.push(`${where}: unknown key "${k}" (plugin options go in [plugin.options])`);
  }
  return { name, options: out };
}

/**
 * The value of the `plugin` option from one source (`where`: `--plugin`, `environment FREEQ_PLUGIN`,
 * `config file key "plugin"`): env specs separated by `;`, one spec per CLI flag, `[[plugin]]` tables
 * or spec strings in the file. Undefined (with a problem) when it is not plugin specs at all.
 */
export function readPluginSpecs(raw: unknown, where: string, problems: string[]): PluginSpec[] | undefined {
  if (!Array.isArray(raw) && typeof raw !== 'string') {
    problems.push(`${where}: expected plugin specs (name:key=value,...) or [[plugin]] tables`);
    return undefined;
  }
  const items: unknown[] = typeof raw === 'string' ? raw.split(';').filter((x) => x.trim() !== '') : raw;
  const specs: PluginSpec[] = [];
  items.forEach((item, i) => {
    const at = items.length > 1 ? `${where}[${i}]` : where;
    const spec = typeof item === 'string' ? parsePluginArg(item) : pluginTable(item, at, problems, false);
    if (typeof spec === 'string') { problems.push(`${at}: ${spec}`); return; }
    if (!spec) return;
    const p = checkSpec(spec, at);
    if (p.length) problems.push(...p);
    else specs.push(spec);
  });
  return specs;
}

/** plugin-dir: every *.toml file, by file name, is one enabled plugin. */
export function loadPluginDir(dir: string, problems: string[]): PluginSpec[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.toml')).sort();
  } catch (e) {
    problems.push(`plugin-dir: cannot read ${dir} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    return [];
  }
  const specs: PluginSpec[] = [];
  for (const f of files) {
    const where = `plugin-dir file ${f}`;
    let table: unknown;
    try {
      table = parseToml(readFileSync(joinPath(dir, f), 'utf8'));
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const spec = pluginTable(table, where, problems, true);
    if (!spec) continue;
    const p = checkSpec(spec, where);
    if (p.length) problems.push(...p);
    else specs.push(spec);
  }
  return specs;
}
