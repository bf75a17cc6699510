import type { ServerContext } from '../context.js';
import { RateLimiter, SlidingWindow } from '../limits/rate.js';
import type { IrcMessage } from '../protocol/message.js';
import * as N from '../protocol/numerics.js';
import { middles, safeParam } from '../protocol/validate.js';
import type { ReplyBuffer } from '../session/reply-buffer.js';
import type { LineDispatcher, Session } from '../session/session.js';
import { SessionSlot } from '../session/slots.js';
import type { CommandContext } from './context.js';
import { collectLine, isBatchedLine, sweepBatches } from './multiline.js';
import { operHas, type CommandSpec, type RateGate, type RateSpec } from './registry.js';

/** the counts of one declared rate limit: one window, or one per key */
type Counts = SlidingWindow | RateLimiter<string>;

/** a session's counts of its session-scoped rate limits, by declaration (created on first use) */
const SESSION_RATES = new SessionSlot<Map<RateSpec, Counts>>('rates');

/** the gate an exempt operator gets: nothing is counted */
const UNLIMITED: RateGate = Object.freeze({ check: () => true, take: () => true });

function newCounts(spec: RateSpec, server: ServerContext): Counts {
  const cfg = server.config;
  if (spec.keys) return new RateLimiter<string>(spec.limit(cfg), spec.windowMs(cfg), server.clock, spec.keys(cfg));
  return new SlidingWindow(spec.limit(cfg), spec.windowMs(cfg));
}

class Gate implements RateGate {
  constructor(private readonly counts: Counts, private readonly spec: RateSpec, private readonly server: ServerContext) {}

  check(key = ''): boolean {
    const c = this.counts;
    const wait = c instanceof SlidingWindow ? c.retryAfter(this.server.clock.now()) : c.retryAfter(key);
    return wait === 0 || this.refused();
  }

  take(key = ''): boolean {
    const c = this.counts;
    const ok = c instanceof SlidingWindow ? c.take(this.server.clock.now()) : c.take(key);
    return ok || this.refused();
  }

  private refused(): false {
    this.server.metrics.limitHit(this.spec.metric);
    return false;
  }
}

/**
 * The CommandContext of one command run: replies go to its reply buffer, even after an await.
 * A plain object with its functions as own properties (a handler may spread it: `{ ...ctx, msg }`).
 */
function commandContext(d: Dispatcher, session: Session, msg: IrcMessage, rb: ReplyBuffer, spec: CommandSpec | undefined): CommandContext {
  const server = d.server;
  const user = session.user;
  const send = (m: IrcMessage): void => { if (!session.isClosed) rb.add(m); };
  return {
    server, session, user, msg, reply: rb, commands: d.commands,
    // a middle parameter that cannot be one (a client's input echoed unchecked: empty, a space, a
    // leading ':') goes out as '*' instead of failing the reply with an internal error (fuzzing)
    numeric: (code, ...params) => send({ tags: new Map(), source: server.config.serverName, command: code, params: [user.nick, ...middles(params)] }),
    fail: (command, code, ...rest) => send({ tags: new Map(), source: server.config.serverName, command: 'FAIL', params: middles([command, code, ...rest]) }),
    send,
    resume: <T>(fn: () => T): T => session.withReplies(rb, fn),
    rate: (r = spec?.rate) => {
      if (!r) throw new Error(`${msg.command} declares no rate limit`);
      return d.gate(r, session);
    },
  };
}

/**
 * The dispatcher (#13; Ergo's Command.Run, ergo:irc/commands.go:39-83): resolves a parsed line
 * against the command table and answers the boring checks from the declaration, in order —
 * `FAIL * INVALID_UTF8`, lines of an open client batch (collected, draft/multiline), 421, 451
 * (`preReg`), 462 (`onlyPreReg`), 481 (`oper`, before 461: a non-operator learns nothing about an
 * operator command's parameters), 461 (`minParams`; never for NOTICE) — then runs the handler.
 *
 * The session (session/session.ts) owns the reply buffer, async commands and failures; it knows
 * this class only as its LineDispatcher port, wired in server.ts. One instance per server: it also
 * holds the counts of server-scoped rate limits (session-scoped ones live on each session).
 */
export class Dispatcher implements LineDispatcher {
  private readonly table: ReadonlyMap<string, CommandSpec>;
  /** counts of `scope: 'server'` rate limits, by declaration */
  private readonly serverRates = new Map<RateSpec, Counts>();

  constructor(readonly server: ServerContext, readonly commands: readonly CommandSpec[]) {
    this.table = new Map(commands.map((c) => [c.name, c]));
  }

  dispatch(session: Session, msg: IrcMessage, invalidUtf8: boolean, rb: ReplyBuffer): void | Promise<void> {
    const cmd = this.table.get(msg.command);
    const ctx = commandContext(this, session, msg, rb, cmd);
    const user = session.user;
    if (invalidUtf8) {
      // IRCv3 utf8-only: reject, never relay
      ctx.fail(safeParam(msg.command), 'INVALID_UTF8', 'Message rejected, your IRC software MUST use UTF-8');
    } else if (user.registered && msg.tags.has('batch') && msg.command !== 'BATCH') {
      // a line of a client batch (draft/multiline): collected, relayed when the batch closes
      collectLine(ctx);
    } else if (!cmd) {
      ctx.numeric(N.ERR_UNKNOWNCOMMAND, safeParam(msg.command), 'Unknown command');
    } else if (!user.registered && !cmd.preReg) {
      ctx.numeric(N.ERR_NOTREGISTERED, 'You have not registered');
    } else if (user.registered && cmd.onlyPreReg) {
      ctx.numeric(N.ERR_ALREADYREGISTERED, 'You may not reregister');
    } else if (cmd.oper && !operHas(user.isOper ? user.operClass : undefined, cmd.oper)) {
      ctx.numeric(N.ERR_NOPRIVILEGES, 'Permission Denied- You do not have the correct operator privileges');
    } else if (msg.params.length < (cmd.minParams ?? 0)) {
      if (msg.command !== 'NOTICE') ctx.numeric(N.ERR_NEEDMOREPARAMS, msg.command, 'Not enough parameters');
    } else {
      // STATS m (#16): commands that passed the checks and ran
      const usage = this.server.commandUsage;
      usage.set(cmd.name, (usage.get(cmd.name) ?? 0) + 1);
      return cmd.run(ctx, msg.params);
    }
  }

  /** lines inside an open draft/multiline batch are one message (BATCH + and - count): not each delayed */
  fakelagExempt(session: Session, msg: IrcMessage): boolean {
    return isBatchedLine(session, msg);
  }

  /** client batches left open too long are dropped */
  sweep(session: Session, now: number): void {
    sweepBatches(session, now);
  }

  /** The gate of `spec` for `session`'s user: its counts, created on first use. */
  gate(spec: RateSpec, session: Session): RateGate {
    if (!spec.opers && session.user.isOper) return UNLIMITED;
    const store = spec.scope === 'server' ? this.serverRates : session.slot(SESSION_RATES, () => new Map<RateSpec, Counts>());
    let counts = store.get(spec);
    if (!counts) { counts = newCounts(spec, this.server); store.set(spec, counts); }
    return new Gate(counts, spec, this.server);
  }
}
