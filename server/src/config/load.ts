import { isIP } from 'node:net';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { z } from 'zod';
import { OPTIONS, camel, envName, type OptionSpec } from './options.js';
import { formatBytes, formatDuration, parseAddr, parseBytes, parseDuration } from './units.js';
import { cloakTemplateProblem } from '../util/cloak-template.js';
import type { Config, OperBlock, PluginSpec } from './schema.js';
import { loadPluginDir, readPluginSpecs } from './plugin-specs.js';
import { buildS2sConfig, parseServerEndpoint, readS2sTable } from './s2s.js';

/** An IPv4/IPv6 address, optionally with /prefix. */
function isCidr(s: string): boolean {
  const [ip, bits, extra] = s.split('/');
  if (extra !== undefined || !ip) return false;
  const v = isIP(ip);
  if (v === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export interface ConfigSources {
  /** path of a TOML file (from --config or FREEQ_CONFIG) */
  file?: string;
  /** already-parsed file contents (tests may pass an object instead of a path) */
  fileValues?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** CLI values keyed by option name (kebab-case), raw strings or typed values */
  cli?: Record<string, unknown>;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const OperSchema = z.object({
  name: z.string().min(1).regex(/^[^\s]+$/, 'must not contain spaces'),
  password: z.string().min(8, 'must be at least 8 characters'),
  class: z.enum(['admin', 'moderator']).default('admin'),
  vhost: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9./-]{0,62}$/, 'letters, digits, dots, slashes and dashes only (at most 63)').optional(),
}).strict();

/** `where` names the source precisely: `config file key "nick-len"`, `environment FREEQ_NICK_LEN`, `--nick-len`. */
function coerce(o: OptionSpec, raw: unknown, where: string, problems: string[]): unknown {
  const bad = (why: string) => { problems.push(`${where}: ${why}`); return undefined; };
  switch (o.type) {
    case 'string':
      if (typeof raw !== 'string') return bad('expected a string');
      return raw;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      return bad('expected true or false');
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n)) return bad(`expected an integer, got ${JSON.stringify(raw)}`);
      if (o.min !== undefined && n < o.min) return bad(`must be >= ${o.min}`);
      if (o.max !== undefined && n > o.max) return bad(`must be <= ${o.max}`);
      return n;
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) return bad(`expected a duration like 90s, 10m or 1h, got ${JSON.stringify(raw)}`);
      return ms;
    }
    case 'bytes': {
      const b = parseBytes(raw);
      if (b === undefined) return bad(`expected a size like 8704, 200k or 1M, got ${JSON.stringify(raw)}`);
      if (o.min !== undefined && b < o.min) return bad(`must be >= ${o.min} bytes`);
      if (o.max !== undefined && b > o.max) return bad(`must be <= ${o.max} bytes`);
      return b;
    }
    case 'addr': {
      const a = parseAddr(raw);
      if (!a) return bad(`expected host:port, got ${JSON.stringify(raw)}`);
      return a;
    }
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw;
      if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter(Boolean);
      return bad('expected a comma-separated list');
    case 'plugins':
      // syntax only here; plugins/registry.ts checks names and options (config/plugin-specs.ts)
      return readPluginSpecs(raw, where, problems);
  }
}

/** Merge defaults < file < env < CLI, validate everything, report every problem at once. */
export function loadConfig(src: ConfigSources = {}): Config {
  const problems: string[] = [];
  const byName = new Map(OPTIONS.map((o) => [o.name, o]));
  let file: Record<string, unknown> = src.fileValues ?? {};
  if (src.file) {
    try {
      file = parseToml(readFileSync(src.file, 'utf8'));
    } catch (e) {
      problems.push(`config file ${src.file}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    if (o.default !== undefined) out[camel(o.name)] = coerce(o, o.default, `default of ${o.name}`, problems);
  }
  const opers: OperBlock[] = [];
  let s2sTables: ReturnType<typeof readS2sTable> = new Map();
  for (const [k, v] of Object.entries(file)) {
    if (k === 's2s') { s2sTables = readS2sTable(v, problems); continue; }
    if (k === 'oper') {
      const arr = Array.isArray(v) ? v : [];
      if (!Array.isArray(v)) problems.push('config file oper: expected [[oper]] tables');
      arr.forEach((entry, i) => {
        const r = OperSchema.safeParse(entry);
        if (r.success) opers.push(r.data);
        else for (const issue of r.error.issues) problems.push(`config file oper[${i}].${issue.path.join('.') || '?'}: ${issue.message}`);
      });
      continue;
    }
    const o = byName.get(k);
    if (!o) { problems.push(`config file: unknown key "${k}"`); continue; }
    const val = coerce(o, v, `config file key "${k}"`, problems);
    if (val !== undefined) out[camel(o.name)] = val;
  }
  const env = src.env ?? {};
  const known = new Set(OPTIONS.map(envName));
  known.add('FREEQ_CONFIG');
  for (const [k] of Object.entries(env)) {
    if (k.startsWith('FREEQ_') && !known.has(k)) problems.push(`environment: unknown variable ${k}`);
  }
  for (const o of OPTIONS) {
    for (const name of [...(o.envAliases ?? []), envName(o)]) {
      const v = env[name];
      if (v === undefined || v === '') continue;
      const val = coerce(o, v, `environment ${name}`, problems);
      if (val !== undefined) out[camel(o.name)] = val;
    }
  }
  for (const [k, v] of Object.entries(src.cli ?? {})) {
    if (v === undefined) continue;
    const o = byName.get(k);
    if (!o) { problems.push(`command line: unknown option --${k}`); continue; }
    const val = coerce(o, v, `--${k}`, problems);
    if (val !== undefined) out[camel(o.name)] = val;
  }
  if (typeof out.logLevel === 'string' && !LOG_LEVELS.includes(out.logLevel)) problems.push(`log-level: must be one of ${LOG_LEVELS.join(', ')}`);
  if (typeof out.logFormat === 'string' && !['auto', 'json', 'pretty'].includes(out.logFormat)) problems.push('log-format: must be auto, json or pretty');
  if ((out.tlsCert === undefined) !== (out.tlsKey === undefined)) problems.push('tls-cert and tls-key must be given together');
  for (const k of ['tlsCert', 'tlsKey'] as const) {
    const f = out[k];
    if (typeof f !== 'string') continue;
    try { accessSync(f, fsConstants.R_OK); } catch (e) {
      problems.push(`${k === 'tlsCert' ? 'tls-cert' : 'tls-key'}: cannot read ${f} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  for (const k of ['registrationTimeout', 'pingInterval', 'pingTimeout'] as const) {
    if (out[k] === 0) problems.push(`${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: must be longer than 0`);
  }
  if (typeof out.pingTimeout === 'number' && typeof out.pingInterval === 'number' && out.pingTimeout <= out.pingInterval) {
    problems.push('ping-timeout must be longer than ping-interval');
  }
  if (typeof out.serverName === 'string' && !/^[A-Za-z0-9.-]+$/.test(out.serverName)) problems.push('server-name: letters, digits, dots and dashes only');
  const oneOf = (key: string, name: string, allowed: string[]) => {
    const v = out[key];
    if (Array.isArray(v)) for (const x of v as unknown[]) if (typeof x !== 'string' || !allowed.includes(x)) problems.push(`${name}: unknown value "${String(x)}" (allowed: ${allowed.join(', ')})`);
  };
  oneOf('saslMechanisms', 'sasl-mechanisms', ['ATPROTO-CHALLENGE', 'PLAIN']);
  oneOf('atprotoMethods', 'atproto-methods', ['crypto', 'pds-session', 'pds-oauth', 'service-auth', 'web-token']);
  // history/cutoff.ts HistoryCutoff (config/ may not import history/)
  const cutoffs = ['none', 'restricted', 'always'];
  if (typeof out.historyCutoff === 'string' && !cutoffs.includes(out.historyCutoff)) {
    problems.push(`history-cutoff: must be ${cutoffs.join(', ')} (got ${JSON.stringify(out.historyCutoff)})`);
  }
  // #12 finding 9: a cloak template that would let users share a cloak or put mask syntax in a host
  for (const [key, name, kind] of [['guestCloak', 'guest-cloak', 'guest'], ['didCloak', 'did-cloak', 'did']] as const) {
    const t = out[key];
    const problem = typeof t === 'string' ? cloakTemplateProblem(t, kind) : undefined;
    if (problem) problems.push(`${name} ${JSON.stringify(t)}: ${problem}`);
  }
  if (Array.isArray(out.operDids)) for (const d of out.operDids as string[]) if (!/^did:[a-z]+:[A-Za-z0-9._:%-]+$/.test(d)) problems.push(`oper-dids: "${d}" is not a DID`);
  for (const [key, name] of [['plcUrl', 'plc-url'], ['handleResolverUrl', 'handle-resolver-url']] as const) {
    const v = out[key];
    if (typeof v === 'string' && !/^https?:\/\/[^\s/]+/.test(v)) problems.push(`${name}: expected an http(s) URL, got ${JSON.stringify(v)}`);
  }
  if (typeof out.webSessionTtl === 'number' && out.webSessionTtl < 60_000) problems.push('web-session-ttl: at least 1m');
  if (typeof out.publicUrl === 'string' && !/^https:\/\/[^\s/?#]+$/.test(out.publicUrl.replace(/\/$/, ''))) problems.push(`public-url: expected an origin like https://chat.example.com (no path), got ${JSON.stringify(out.publicUrl)}`);
  if (typeof out.lockdown === 'string' && !['off', 'sasl-only', 'closed'].includes(out.lockdown)) problems.push('lockdown: must be off, sasl-only or closed');
  if (Array.isArray(out.apiKeys)) for (const k of out.apiKeys as string[]) if (k.length < 32) problems.push('api-keys: every key must be at least 32 characters (e.g. `openssl rand -hex 32`)');
  if (Array.isArray(out.corsOrigins)) for (const o of out.corsOrigins as string[]) if (o === '*' || !/^https?:\/\/[^\s/]+$/.test(o)) problems.push(`cors-origins: "${o}" is not an origin like https://chat.example.com (never *)`);
  for (const [key, name] of [['limitExempt', 'limit-exempt'], ['throttleExempt', 'throttle-exempt'], ['trustedProxies', 'trusted-proxies'], ['channelCreationExempt', 'channel-creation-exempt']] as const) {
    const v = out[key];
    if (Array.isArray(v)) for (const c of v as string[]) if (!isCidr(c)) problems.push(`${name}: "${c}" is not an IP address or CIDR`);
  }
  if (typeof out.serverDid === 'string' && !/^did:[a-z]+:[A-Za-z0-9._:%-]+$/.test(out.serverDid)) problems.push('server-did: not a DID');
  if (typeof out.operPassword === 'string' && out.operPassword.length < 8) problems.push('oper-password: must be at least 8 characters');
  const names = new Set<string>();
  for (const op of opers) {
    if (names.has(op.name)) problems.push(`config file oper: duplicate name "${op.name}"`);
    names.add(op.name);
  }
  const pluginsFromDir = typeof out.pluginDir === 'string' ? loadPluginDir(out.pluginDir, problems) : [];
  const enabled = new Set<string>();
  for (const p of [...(Array.isArray(out.plugin) ? out.plugin as PluginSpec[] : []), ...pluginsFromDir]) {
    if (enabled.has(p.name)) problems.push(`plugin ${p.name}: enabled twice`);
    enabled.add(p.name);
  }
  const s2s = buildS2sConfig({
    peers: out.s2sPeers as string[], allowedPeers: out.s2sAllowedPeers as string[], openDev: out.s2sOpenFederationDev as boolean,
    iroh: out.iroh as boolean, relayMode: out.irohRelayMode as string,
  }, s2sTables, problems);
  if (out.s2sDid !== undefined && !/^did:web:[A-Za-z0-9.%-]+$/.test(out.s2sDid as string)) problems.push('s2s-did: expected did:web:HOST (optionally HOST%3APORT)');
  if (out.s2sDidEndpoint !== undefined && !parseServerEndpoint(out.s2sDidEndpoint as string)) problems.push('s2s-did-endpoint: expected tls://HOST:PORT or iroh://HOST:PORT');
  if (problems.length) throw new ConfigError(problems);
  out.opers = opers;
  out.s2s = s2s;
  out.pluginsFromDir = pluginsFromDir;
  return Object.freeze(out) as unknown as Config;
}

/** A secret's printable form: lists keep their length (an empty list stays empty). */
function redact(v: unknown): unknown {
  return Array.isArray(v) ? v.map(() => '<redacted>') : '<redacted>';
}

/** The effective configuration for `config print`, secrets redacted. */
export function describeConfig(cfg: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const v = (cfg as unknown as Record<string, unknown>)[camel(o.name)];
    out[o.name] = o.secret && v !== undefined ? redact(v) : v;
  }
  out.oper = cfg.opers.map((op) => ({ ...op, password: '<redacted>' }));
  out.s2s = s2sTablesOf(cfg);
  return out;
}

/**
 * `config print`: the effective configuration as a TOML file that loadConfig accepts again
 * (durations, sizes and addresses in their config spelling; unset options as comments;
 * secrets redacted).
 */
export function configToToml(cfg: Config): string {
  const values: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const o of OPTIONS) {
    const v = (cfg as unknown as Record<string, unknown>)[camel(o.name)];
    if (v === undefined) { unset.push(o.name); continue; }
    if (o.secret) { values[o.name] = redact(v); continue; }
    switch (o.type) {
      case 'duration': values[o.name] = formatDuration(v as number); break;
      case 'bytes': { const f = formatBytes(v as number); values[o.name] = /^\d+$/.test(f) ? v : f; break; }
      case 'addr': {
        const a = v as { host: string; port: number };
        values[o.name] = `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
        break;
      }
      default: values[o.name] = v;
    }
  }
  const head = '# freeq-server effective configuration (secrets redacted)\n';
  const tail = unset.map((n) => `# ${n} is unset\n`).join('');
  const opers = cfg.opers.length ? '\n' + stringifyToml({ oper: cfg.opers.map((op) => ({ ...op, password: '<redacted>' })) }) + '\n' : '';
  const peers = Object.keys(s2sTablesOf(cfg).peers).length ? '\n' + stringifyToml({ s2s: s2sTablesOf(cfg) }) + '\n' : '';
  return head + stringifyToml(values) + '\n' + tail + opers + peers;
}

/** the [s2s.peers.<id>] tables that give the allowed peers' trust (and names) back */
function s2sTablesOf(cfg: Config): { peers: Record<string, { name?: string; trust: string }> } {
  const peers: Record<string, { name?: string; trust: string }> = {};
  for (const p of cfg.s2s.allowed) peers[p.id] = { ...(p.name !== undefined ? { name: p.name } : {}), trust: p.trust };
  return { peers };
}
