import type { PluginSpec } from '../config/schema.js';
import { setPluginSpecCheck } from '../config/plugin-specs.js';
import type { PluginFactory } from './api.js';
import { greeter } from './builtin/greeter.js';
import { wordFilter } from './builtin/word-filter.js';

/**
 * Plugins are compiled in (seed 004): each is a PluginDefinition registered here by name and
 * activated by configuration (`--plugin name:key=value,...`, `[[plugin]]` tables, `plugin-dir`).
 * Options are strings; every key a plugin accepts is declared, so a typo is a configuration
 * error reported with the others at start-up, never a silently ignored setting: config/ reads the
 * specs' syntax (config/plugin-specs.ts) and calls validatePluginSpec, registered below, for each.
 */
export interface PluginDefinition {
  readonly name: string;
  readonly description: string;
  /** accepted option keys → help text */
  readonly options: Readonly<Record<string, string>>;
  /** keys that must be given */
  readonly required?: readonly string[];
  /** further problems with a set of options (empty or undefined: fine) */
  validate?(options: Record<string, string>): string[] | undefined;
  readonly create: PluginFactory;
}

/** One enabled plugin as configuration names it (config/schema.ts). */
export type { PluginSpec };

const PLUGIN_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const registry = new Map<string, PluginDefinition>();

/**
 * Add a compiled-in plugin. The built-ins below are registered at import; an embedding program
 * (or a test) may register its own before loading the configuration.
 */
export function registerPlugin(def: PluginDefinition): void {
  if (!PLUGIN_NAME.test(def.name)) throw new Error(`plugin name "${def.name}": lower-case letters, digits and dashes, at most 32`);
  if (registry.has(def.name)) throw new Error(`plugin "${def.name}" is already registered`);
  registry.set(def.name, def);
}

export function findPlugin(name: string): PluginDefinition | undefined {
  return registry.get(name);
}

export function pluginNames(): string[] {
  return [...registry.keys()].sort();
}

/** Problems with one enabled plugin (unknown name, unknown or missing keys, bad values). */
export function validatePluginSpec(spec: PluginSpec, where: string): string[] {
  const def = registry.get(spec.name);
  if (!def) return [`${where}: unknown plugin "${spec.name}" (available: ${pluginNames().join(', ') || 'none'})`];
  const problems: string[] = [];
  for (const k of Object.keys(spec.options)) {
    if (!Object.hasOwn(def.options, k)) problems.push(`${where}: plugin ${spec.name} has no option "${k}" (options: ${Object.keys(def.options).join(', ') || 'none'})`);
  }
  for (const k of def.required ?? []) if (spec.options[k] === undefined) problems.push(`${where}: plugin ${spec.name} needs option "${k}"`);
  if (problems.length === 0) for (const p of def.validate?.(spec.options) ?? []) problems.push(`${where}: plugin ${spec.name}: ${p}`);
  return problems;
}

registerPlugin(wordFilter);
registerPlugin(greeter);
// loadConfig reports unknown plugins and bad options with every other configuration problem
setPluginSpecCheck(validatePluginSpec);
