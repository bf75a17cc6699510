import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { OPTIONS, camel, type CamelCase, type OptionTable, type OptionType } from '../../src/config/options.js';
import type { Addr, ComputedConfig, Config, OptionValue, PluginSpec } from '../../src/config/schema.js';
import type { IsupportValues } from '../../src/protocol/isupport.js';

// `Config` is derived from the option table (config/schema.ts). The assertions below are checked by
// `tsc` (npm run typecheck): each line fails to compile if the table, the derived type, the
// hand-declared fields or camel() drift apart. The runtime tests tie the types to what loadConfig builds.

/** true only if A and B are the same type (optional and readonly modifiers included) */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** a compile error unless T is `true` */
type Assert<T extends true> = T;

type Option = OptionTable[number];
type OptionKey = CamelCase<Option['name']>;
type DefaultedKey = CamelCase<Extract<Option, { readonly default: unknown }>['name']>;
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/** the hand-declared fields: changing ComputedConfig means changing this list (and load.ts) */
const COMPUTED_KEYS = ['opers', 'pluginsFromDir', 's2s'] as const;

export type ConfigTypeChecks = [
  // every option is a Config key, every Config key is an option or one of the computed fields
  Assert<Equals<Exclude<keyof Config, keyof ComputedConfig>, OptionKey>>,
  Assert<Equals<Extract<keyof Config, OptionKey>, OptionKey>>,
  // a computed field never shadows an option
  Assert<Equals<Extract<keyof ComputedConfig, OptionKey>, never>>,
  Assert<Equals<keyof ComputedConfig, (typeof COMPUTED_KEYS)[number]>>,
  // optional exactly when the option has no default (computed fields are always set)
  Assert<Equals<OptionalKeys<Config>, Exclude<OptionKey, DefaultedKey>>>,
  // every option type has a value type, and no other
  Assert<Equals<keyof OptionValue, OptionType>>,
  // each option's value type follows its `type`
  Assert<Equals<{ [O in Option as CamelCase<O['name']>]-?: OptionValue[O['type']] }, Required<Pick<Config, OptionKey>>>>,
  // the mapping itself, spelled out for one option of each kind
  Assert<Equals<Pick<Config, 'listenAddr'>, { listenAddr: Addr }>>,
  Assert<Equals<Pick<Config, 'tlsCert'>, { tlsCert?: string }>>,
  Assert<Equals<Pick<Config, 'webTls'>, { webTls: boolean }>>,
  Assert<Equals<Pick<Config, 'nickLen' | 'historyMaxAge' | 'sendq'>, { nickLen: number; historyMaxAge: number; sendq: number }>>,
  Assert<Equals<Pick<Config, 'operDids'>, { operDids: string[] }>>,
  Assert<Equals<Pick<Config, 'plugin'>, { plugin: PluginSpec[] }>>,
  Assert<Equals<Pick<Config, 'adminLocation2' | 'logLevel'>, { adminLocation2: string; logLevel: string }>>,
  // CamelCase agrees with camel() on the shapes option names take
  Assert<Equals<CamelCase<'a-b-c'>, 'aBC'>>,
  Assert<Equals<CamelCase<'admin-location2'>, 'adminLocation2'>>,
  Assert<Equals<CamelCase<'sendq'>, 'sendq'>>,
  // protocol/isupport.ts takes its own view, which the server's Config provides
  Assert<Config extends IsupportValues ? true : false>,
];

describe('config: the Config type and loadConfig agree', () => {
  test('camel() matches the type-level CamelCase', () => {
    const a: 'aBC' = camel('a-b-c');
    const b: 'adminLocation2' = camel('admin-location2');
    assert.equal(a, 'aBC');
    assert.equal(b, 'adminLocation2');
  });

  test('a loaded configuration has exactly the options with a default plus the computed fields', () => {
    const c = loadConfig({ env: {} });
    const expected = [...OPTIONS.filter((o) => o.default !== undefined).map((o) => camel(o.name)), ...COMPUTED_KEYS].sort();
    assert.deepEqual(Object.keys(c).sort(), expected);
    for (const o of OPTIONS) if (o.default === undefined) assert.equal((c as unknown as Record<string, unknown>)[camel(o.name)], undefined, o.name);
  });

  test('every value has the JavaScript type its option type maps to (OptionValue)', () => {
    const c = loadConfig({ env: {} }) as unknown as Record<string, unknown>;
    const isType: Record<OptionType, (v: unknown) => boolean> = {
      string: (v) => typeof v === 'string',
      int: Number.isInteger,
      duration: Number.isInteger,
      bytes: Number.isInteger,
      bool: (v) => typeof v === 'boolean',
      addr: (v) => typeof v === 'object' && v !== null && typeof (v as Addr).host === 'string' && Number.isInteger((v as Addr).port),
      list: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
      plugins: (v) => Array.isArray(v),
    };
    for (const o of OPTIONS) {
      const v = c[camel(o.name)];
      if (v !== undefined) assert.ok(isType[o.type](v), `${o.name} (${o.type}): ${JSON.stringify(v)}`);
    }
  });
});
