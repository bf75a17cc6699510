import type { ServerContext } from '../context.js';
import type { IrcMessage } from '../protocol/message.js';
import type { User } from '../state/user.js';
import type { Session } from '../session/session.js';
import type { ReplyBuffer } from '../session/reply-buffer.js';
import type { CommandSpec, RateGate, RateSpec } from './registry.js';

/** ServerContext lives in src/context.ts (ports only, importable by http/ and session/ too) */
export type { ServerContext } from '../context.js';

/** Per-command context handed to a handler (built by commands/dispatch.ts). */
export interface CommandContext {
  readonly server: ServerContext;
  readonly session: Session;
  readonly user: User;
  readonly msg: IrcMessage;
  readonly reply: ReplyBuffer;
  /** the command table (commands/dispatch.ts owns it; HELP lists it) */
  readonly commands: readonly CommandSpec[];
  /** `:<server> <code> <nick|*> ...params` into the reply buffer; last param is the text */
  numeric(code: string, ...params: string[]): void;
  /** IRCv3 standard-replies: `FAIL <command> <code> [context...] :<description>` */
  fail(command: string, code: string, ...rest: string[]): void;
  /** any message to this client, via the reply buffer */
  send(m: IrcMessage): void;
  /**
   * For async handlers: run `fn` with this command's reply buffer active again, so that lines the
   * state changes in `fn` send to this client (e.g. its own ACCOUNT/CHGHOST) join the reply.
   */
  resume<T>(fn: () => T): T;
  /**
   * The gate of a declared rate limit (registry.ts RateSpec): without an argument the running
   * command's `rate`; with one, that spec's (a limit shared by several commands, e.g. a BATCH that
   * relays PRIVMSGs counting against PRIVMSG's). The counts live on the session or the server.
   */
  rate(spec?: RateSpec): RateGate;
}
