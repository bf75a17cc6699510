import type { Config } from '../config/schema.js';
import type { OperClass } from '../state/user.js';
import type { CommandContext } from './context.js';

/*
 * The command table (#13). One file per verb exports `defineCommand({...})`; commands/index.ts
 * lists them and commands/dispatch.ts runs them. The dispatcher answers the boring checks from
 * the declaration: 421, 451 (`preReg`), 462 (`onlyPreReg`), 481 (`oper`, before 461), 461
 * (`minParams`), `FAIL * INVALID_UTF8`.
 *
 * Per-client state never lives in a command module (lint forbids module-level mutable state in
 * commands/):
 * - a rate limit is declared in the table (`rate: { metric, limit, windowMs, … }`, RateSpec
 *   below); the handler asks `ctx.rate()` for its gate where the limit applies and sends the
 *   refusal itself (the replies differ per command); the gate counts the metric and exempts
 *   operators unless `opers: true`. A limit shared by several commands is one RateSpec object
 *   (a module-level constant) named by each of them (`rate: TEXT_RATE`) or passed to `ctx.rate(spec)`.
 * - any other per-connection state goes in a typed session slot (session/slots.ts):
 *   `const MINE = new SessionSlot<T>('name')` at module level, then `ctx.session.slot(MINE, () => init)`
 *   or `ctx.session.peekSlot(MINE)`; it is created on first use and goes with the session.
 */

/** A rate limit a command declares (CommandSpec.rate); the dispatcher keeps the counts. */
export interface RateSpec {
  /** counted as `limitHit(metric)` on every refusal */
  readonly metric: string;
  /** events accepted per window (read from config once, when the counts are created) */
  limit(config: Config): number;
  windowMs(config: Config): number;
  /**
   * Where the counts live: `session` (default) — per connection, on the Session (gone with it);
   * `server` — shared by every connection of this server (a limit per claimed identity, say).
   */
  readonly scope?: 'session' | 'server';
  /**
   * Keyed: one sliding window per key (a channel, an identity + IP) instead of one for the
   * client, at most this many keys (the oldest is forgotten beyond it; limits/rate.ts RateLimiter).
   */
  keys?(config: Config): number;
  /** operators are limited too (default: exempt, as from every churn limit) */
  readonly opers?: boolean;
}

/** A declared rate limit as the handler sees it (ctx.rate()); `key` only for keyed limits. */
export interface RateGate {
  /** true if one more event would be accepted now (nothing is recorded); false: refused, metric counted */
  check(key?: string): boolean;
  /** record one event; false (nothing recorded, metric counted) when over the limit */
  take(key?: string): boolean;
}

/**
 * Operator capabilities (hardening.md D5, after Ergo's oper classes, ergo:default.yaml:717-760):
 * a command names the one it needs and the dispatcher answers 481 to anyone whose class lacks it.
 * `kill` KILL, `wallops` WALLOPS (Ergo: chat-moderator); `ban` UBAN, `lockdown` LOCKDOWN
 * (Ergo's `ban` is a moderator capability; here server bans are admin-only, and `lockdown` is
 * Ergo's server-admin `defcon`); `routing` SQUIT, CONNECT (federation links, admin only);
 * `rehash` REHASH (Ergo's server-admin `rehash`).
 */
export type OperCapability = 'kill' | 'wallops' | 'ban' | 'lockdown' | 'routing' | 'rehash';

const MODERATOR: readonly OperCapability[] = ['kill', 'wallops'];
/** what each oper class may do; admin is a superset of moderator */
export const OPER_CLASS_CAPABILITIES: Readonly<Record<OperClass, readonly OperCapability[]>> = {
  moderator: MODERATOR,
  admin: [...MODERATOR, 'ban', 'lockdown', 'routing', 'rehash'],
};

/** true if `cls` (undefined: not an operator) grants `cap` */
export function operHas(cls: OperClass | undefined, cap: OperCapability): boolean {
  return cls !== undefined && OPER_CLASS_CAPABILITIES[cls].includes(cap);
}

export interface CommandSpec {
  name: string;
  /** the dispatcher answers 461 ERR_NEEDMOREPARAMS below this */
  minParams?: number;
  /** usable before registration (NICK, USER, PASS, CAP, PING, PONG, QUIT…); default false */
  preReg?: boolean;
  /** usable only before registration: after it, 462 ERR_ALREADYREGISTERED (USER, PASS) */
  onlyPreReg?: boolean;
  /**
   * The operator capability the command requires (implies operator status): the dispatcher
   * answers `481 <nick> :Permission Denied- …` to non-operators and to operators whose class
   * lacks it (OPER_CLASS_CAPABILITIES).
   */
  oper?: OperCapability;
  /** the rate limit the handler applies through `ctx.rate()` (see RateSpec) */
  rate?: RateSpec;
  /** HELP text (first line is the usage) */
  help?: string;
  /**
   * The handler. It may return a Promise (network work such as SASL verification): the session
   * then stops reading that client until it settles, so commands stay in order, and the reply
   * buffer (labeled-response) is flushed when it does.
   */
  run(ctx: CommandContext, params: string[]): void | Promise<void>;
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}
