import type { OperClass } from '../state/user.js';
import type { CommandContext } from './context.js';

/**
 * Operator capabilities (hardening.md D5, after Ergo's oper classes, ergo:default.yaml:717-760):
 * a command names the one it needs and the dispatcher answers 481 to anyone whose class lacks it.
 * `kill` KILL, `wallops` WALLOPS (Ergo: chat-moderator); `ban` UBAN, `lockdown` LOCKDOWN
 * (Ergo's `ban` is a moderator capability; here server bans are admin-only, and `lockdown` is
 * Ergo's server-admin `defcon`).
 */
export type OperCapability = 'kill' | 'wallops' | 'ban' | 'lockdown';

const MODERATOR: readonly OperCapability[] = ['kill', 'wallops'];
/** what each oper class may do; admin is a superset of moderator */
export const OPER_CLASS_CAPABILITIES: Readonly<Record<OperClass, readonly OperCapability[]>> = {
  moderator: MODERATOR,
  admin: [...MODERATOR, 'ban', 'lockdown'],
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
