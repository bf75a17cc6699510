import type { CommandContext } from './context.js';

export interface CommandSpec {
  name: string;
  /** the dispatcher answers 461 ERR_NEEDMOREPARAMS below this */
  minParams?: number;
  /** usable before registration (NICK, USER, PASS, CAP, PING, PONG, QUIT…); default false */
  preReg?: boolean;
  /** usable only before registration: after it, 462 ERR_ALREADYREGISTERED (USER, PASS) */
  onlyPreReg?: boolean;
  /** requires server operator status: the dispatcher answers 481 */
  oper?: boolean;
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
