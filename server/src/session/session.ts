import type { ServerContext, Traffic } from '../context.js';
import type { IrcMessage } from '../protocol/message.js';
import { DEFAULT_FAKELAG_BUDGETS, Fakelag } from '../limits/fakelag.js';
import * as N from '../protocol/numerics.js';
import { parseLine, type LineLimits } from '../protocol/parse.js';
import { ReplyError } from '../protocol/reply-error.js';
import { toWire } from '../protocol/serialize.js';
import { middles } from '../protocol/validate.js';
import { User, type Recipient } from '../state/user.js';
import type { ConnHandler, IrcConn, TransportKind } from '../transport/conn.js';
import { TagCap, type Outgoing } from './outgoing.js';
import { ReplyBuffer } from './reply-buffer.js';
import type { SessionSlot } from './slots.js';

/** input kept while an async command runs (reading is paused, so one socket read at most) */
const MAX_QUEUED_INPUT_BYTES = 256 * 1024;
const NO_CAPS: ReadonlySet<string> = new Set();
const HTTP_VERBS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']);
/**
 * A client's waiting replies move on when its transport drains (connDrained). This timer is the
 * fallback and the stall clock: from 10 ms, doubling while nothing moves, up to 1 s (a stalled
 * client costs one wake-up a second; a thousand stalled clients at a flat 10 ms were 100,000).
 */
const RELEASE_POLL_MIN_MS = 10;
const RELEASE_POLL_MAX_MS = 1000;
function releaseOutbox(s: Session): void { s.release(); }
const TAG_CAPS: Record<string, number> = { 'message-tags': TagCap.MessageTags, 'server-time': TagCap.ServerTime, 'account-tag': TagCap.AccountTag };

/**
 * What runs a client's parsed lines: commands/dispatch.ts (the command table and its checks),
 * wired in server.ts. A port, so that session/ does not import commands/ (#13).
 */
export interface LineDispatcher {
  /** run one line; its replies go to `rb`; a Promise when the command is async (the session waits for it) */
  dispatch(session: Session, msg: IrcMessage, invalidUtf8: boolean, rb: ReplyBuffer): void | Promise<void>;
  /** a line fakelag does not delay (one inside an open draft/multiline batch) */
  fakelagExempt(session: Session, msg: IrcMessage): boolean;
  /** the periodic sweep of a registered session's command state (expired client batches) */
  sweep(session: Session, now: number): void;
}

export interface SessionDeps {
  server: ServerContext;
  dispatcher: LineDispatcher;
  lineLimits: LineLimits;
  onClosed(s: Session): void;
  /** the counts per transport (shared by every session: nothing per connection) */
  traffic?: Readonly<Record<TransportKind, Traffic>>;
}

/**
 * One client connection: parse policy (hardening.md §1.2), fakelag, the reply buffer of each
 * command (run by the LineDispatcher), delivery with a byte-bounded sendq, idle/registration
 * deadlines, and the per-session state of other layers (slots).
 */
export class Session implements Recipient, ConnHandler {
  readonly user: User;
  /** negotiated capabilities (created on the first CAP REQ: most of an idle client's bytes otherwise) */
  private capSet?: Set<string>;
  tagMask = 0;
  /** CAP LS version (302 enables values and cap-notify) */
  capVersion = 0;
  capNegotiating = false;
  passOk: boolean;
  /** set while a command of this session runs: own output goes here */
  private rb?: ReplyBuffer;
  readonly connectedAt: number;
  lastActivity: number;
  pingSent = false;
  /** a deferred sendq check is pending (checkSendq) */
  private sendqCheckQueued = false;
  /**
   * C4: this client's own replies not yet handed to the transport, released as it drains (created
   * on first use). While it holds anything, reading this client is paused: a command's output is
   * backpressure on that client's input, never a growing queue.
   */
  private outbox?: { lines: Buffer[]; head: number; bytes: number; moved: number; poll: number; timer?: NodeJS.Timeout };
  private linesBeforeReg = 0;
  private firstLine = true;
  /** an async command is running; input waits in `queued` */
  private busy = false;
  /** created on first use: most sessions never queue (an empty array per idle client is 32 B) */
  private queued?: Buffer[];
  private queuedBytes = 0;
  /** C1: delays registered clients' commands beyond a burst (undefined: fakelag off) */
  private readonly fakelag?: Fakelag;
  /** a command held back by fakelag runs when this fires; reading is paused meanwhile */
  private holdTimer?: NodeJS.Timeout;
  /** no more output or input is accepted */
  private closed = false;
  /** the close procedure (ERROR, QUIT fan-out, bookkeeping) has run */
  private finished = false;
  /** per-session state of other layers (session/slots.ts), created on first use */
  private slots?: Map<SessionSlot<unknown>, unknown>;

  constructor(readonly id: number, readonly conn: IrcConn, private readonly deps: SessionDeps) {
    const s = deps.server;
    this.connectedAt = s.clock.now();
    this.lastActivity = this.connectedAt;
    this.passOk = s.config.serverPassword === undefined;
    this.user = new User(id, conn.peer.ip, conn.peer.secure, this, this.connectedAt, s.ops.cloaks.guest(conn.peer.ip));
    s.ops.addUser(this.user);
    const cfg = s.config;
    if (cfg.fakelag) {
      this.fakelag = new Fakelag({
        burst: cfg.fakelagBurst, perWindow: cfg.fakelagRate, windowMs: cfg.fakelagWindow, cooldownMs: cfg.fakelagCooldown, budgets: DEFAULT_FAKELAG_BUDGETS,
      }, s.clock);
    }
    conn.keepalive?.(cfg.wsPingInterval);
    conn.start(this);
  }

  // ---- ConnHandler (the transport calls these) ----------------------------------------------

  connLine(line: Buffer): void {
    const t = this.deps.traffic?.[this.conn.peer.kind];
    if (t) { t.msgsIn++; t.bytesIn += line.length + 2; }
    this.onLine(line);
  }
  connOverflow(): void { this.numeric(N.ERR_INPUTTOOLONG, 'Input line was too long'); }
  connClosed(): void { this.onConnClosed(); }
  connDrained(): void {
    const ob = this.outbox;
    if (!ob) return;
    clearTimeout(ob.timer);
    this.release();
  }

  get registered(): boolean { return this.user.registered; }
  get serverName(): string { return this.deps.server.config.serverName; }

  hasCap(cap: string): boolean { return this.capSet?.has(cap) === true; }
  /** Recipient.irohId: the transport's (set only for a client connected over iroh) */
  get irohId(): string | undefined { return this.conn.peer.iroh; }

  get caps(): ReadonlySet<string> { return this.capSet ?? NO_CAPS; }

  setCap(cap: string, on: boolean): void {
    if (on) (this.capSet ??= new Set()).add(cap); else this.capSet?.delete(cap);
    const bit = TAG_CAPS[cap];
    if (bit) this.tagMask = on ? this.tagMask | bit : this.tagMask & ~bit;
  }

  /** no more output or input is accepted (the connection is closing or closed) */
  get isClosed(): boolean { return this.closed; }

  // ---- per-session state (session/slots.ts) --------------------------------------------------

  /** the value in `key`, created with `create` on first use; it lives as long as this session */
  slot<T>(key: SessionSlot<T>, create: () => T): T {
    const slots = (this.slots ??= new Map());
    if (slots.has(key)) return slots.get(key) as T;
    const v = create();
    slots.set(key, v);
    return v;
  }

  /** the value in `key`, or undefined (nothing is created) */
  peekSlot<T>(key: SessionSlot<T>): T | undefined {
    return this.slots?.get(key) as T | undefined;
  }

  // ---- output ------------------------------------------------------------------------------

  /** one line to the transport, counted per transport (STATS l) */
  private out(line: Buffer): void {
    const t = this.deps.traffic?.[this.conn.peer.kind];
    if (t) { t.msgsOut++; t.bytesOut += line.length; }
    this.conn.write(line);
  }

  /** A message for this client: into the running command's reply buffer, else straight out. */
  send(m: IrcMessage): void {
    if (this.closed) return;
    if (this.rb) { this.rb.add(m); return; }
    this.out(toWire(m));
    this.checkSendq();
  }

  numeric(code: string, ...params: string[]): void {
    // a middle parameter that cannot be one (empty, a space, a leading ':': a client's input echoed
    // unchecked) becomes '*' instead of failing the whole reply (as commands' numerics: dispatch.ts)
    this.send({ tags: new Map(), source: this.serverName, command: code, params: [this.user.nick, ...middles(params)] });
  }

  /** Fan-out entry point: shared bytes, counted against the sendq (other people's traffic). */
  deliver(out: Outgoing): void {
    if (this.closed) return;
    if (this.rb) { this.rb.add(out.messageFor(this.tagMask)); return; }
    this.out(out.bytesFor(this.tagMask));
    this.checkSendq();
  }

  /**
   * A message this client's own command causes for itself that is not a response to it (a
   * PRIVMSG to oneself): delivered, but never labeled (labeled-response).
   */
  deliverSideEffect(out: Outgoing): void {
    if (this.closed) return;
    if (this.rb) { this.rb.addSideEffect(out.messageFor(this.tagMask)); return; }
    this.out(out.bytesFor(this.tagMask));
    this.checkSendq();
  }

  /** reading is paused for this client: an async command or fakelag hold, or own output waiting */
  private get blocked(): boolean { return this.busy || this.outbox !== undefined; }

  /** C4 soft mark: above it, this client's own replies wait and its input is not read */
  private get softMark(): number { return this.deps.server.config.sendq >> 1; }

  /**
   * A command's replies to its own client (C4, #12): handed to the transport while what is pending
   * stays under the soft mark (half the sendq); the rest waits in the outbox and reading this
   * client pauses until the transport drains. A reply larger than the sendq thus reaches a client
   * that reads, at the client's pace, and a client that does not read holds at most one reply
   * (bounded by each command's own limits, e.g. the CHATHISTORY byte budget) plus its sendq.
   */
  private writeOwn(wire: readonly Buffer[]): void {
    let i = 0;
    if (this.outbox === undefined) {
      const soft = this.softMark;
      while (i < wire.length && this.conn.pendingBytes() <= soft) this.out(wire[i++]!);
      this.checkSendq();
      if (i === wire.length) return;
      this.outbox = { lines: [], head: 0, bytes: 0, moved: this.deps.server.clock.now(), poll: RELEASE_POLL_MIN_MS };
      this.deps.server.metrics.limitHit('sendq-hold');
      this.conn.pause();
      this.scheduleRelease(true);
    }
    const ob = this.outbox;
    for (; i < wire.length; i++) { ob.lines.push(wire[i]!); ob.bytes += wire[i]!.length; }
  }

  /** the next look at the transport: right after this turn's flush, then every few ms while it stays full */
  private scheduleRelease(soon: boolean): void {
    const ob = this.outbox;
    if (!ob) return;
    if (soon) { ob.poll = RELEASE_POLL_MIN_MS; setImmediate(releaseOutbox, this); return; }
    ob.timer = setTimeout(releaseOutbox, ob.poll, this);
    ob.poll = Math.min(ob.poll * 2, RELEASE_POLL_MAX_MS);
  }

  /** @internal hand waiting replies to the transport as far as the soft mark allows */
  release(): void {
    const ob = this.outbox;
    if (!ob || this.closed) return;
    ob.timer = undefined;
    const soft = this.softMark;
    const now = this.deps.server.clock.now();
    const before = ob.head;
    while (ob.head < ob.lines.length && this.conn.pendingBytes() <= soft) {
      const line = ob.lines[ob.head++]!;
      ob.bytes -= line.length;
      this.out(line);
    }
    const cfg = this.deps.server.config;
    // more than sendq-hold-max waiting (a LIST of a big server, say) is fine for a client that
    // reads; one that does not is let go after a tenth of the stall timeout instead of all of it
    const stall = ob.bytes > cfg.sendqHoldMax ? cfg.sendqStallTimeout / 10 : cfg.sendqStallTimeout;
    if (ob.head > before) {
      ob.moved = now;
    } else if (now - ob.moved > stall) {
      // nothing left this client's queue for that long: it is not reading
      this.deps.server.metrics.sendqDrop();
      this.flooded('SendQ exceeded');
      return;
    }
    if (ob.head < ob.lines.length) {
      if (ob.head > 1024) { ob.lines = ob.lines.slice(ob.head); ob.head = 0; }
      // progress: look again right after this turn's flush; none: the transport is full, poll
      this.scheduleRelease(ob.head > before);
      return;
    }
    this.outbox = undefined;
    if (this.busy) return; // an async command or a fakelag hold resumes reading when it ends
    this.conn.resume();
    this.drainQueued();
  }

  /**
   * C4: a slow reader is dropped, never slows others. Output is written to the kernel once per
   * event-loop turn (transport/conn.ts), so what is pending right now includes this turn's
   * burst, which a healthy reader takes at once. Decide after that flush (setImmediate runs
   * after the flush scheduled by the write above): what the kernel did not take is the sendq.
   * Deferring also keeps us out of the fan-out loop that is iterating channel member sets.
   */
  private checkSendq(): void {
    const limit = this.deps.server.config.sendq;
    if (this.sendqCheckQueued || this.conn.pendingBytes() <= limit) return;
    this.sendqCheckQueued = true;
    setImmediate(() => {
      this.sendqCheckQueued = false;
      if (!this.closed && this.conn.pendingBytes() > limit) {
        this.deps.server.metrics.sendqDrop();
        this.flooded('SendQ exceeded');
      }
    });
  }

  // ---- input -------------------------------------------------------------------------------

  private onLine(line: Buffer): void {
    if (this.closed) return;
    if (this.blocked) {
      // an async command is running or its output waits: keep order; reading is paused, so this is bounded by one read
      (this.queued ??= []).push(Buffer.from(line));
      this.queuedBytes += line.length;
      if (this.queuedBytes > MAX_QUEUED_INPUT_BYTES) this.flooded('Input queue exceeded');
      return;
    }
    const server = this.deps.server;
    this.lastActivity = server.clock.now();
    this.pingSent = false;
    if (!this.registered && ++this.linesBeforeReg > server.config.maxRegistrationLines) {
      this.send({ tags: new Map(), source: this.serverName, command: N.ERR_UNKNOWNERROR, params: ['*', 'You have sent too many registration messages'] });
      this.flooded('You have sent too many registration messages');
      return;
    }
    const p = parseLine(line, this.deps.lineLimits);
    if (!p.ok) {
      switch (p.error) {
        case 'empty': return;
        case 'tags-too-long': this.numeric(N.ERR_INPUTTOOLONG, 'Input line was too long'); return;
        case 'bad-char': this.close('Received malformed line'); return;
        case 'no-command': this.numeric(N.ERR_UNKNOWNCOMMAND, '*', 'Unknown command'); return;
      }
    }
    const msg = p.msg;
    if (this.firstLine) {
      this.firstLine = false;
      if (HTTP_VERBS.has(msg.command) && msg.params.length >= 1 && /^HTTP\//.test(msg.params[msg.params.length - 1] ?? '')) {
        this.send({ tags: new Map(), source: this.serverName, command: N.ERR_UNKNOWNERROR, params: [msg.command, 'This is not an HTTP server'] });
        this.close('This is not an HTTP server');
        return;
      }
    }
    if (p.bodyTooLong) { this.numeric(N.ERR_INPUTTOOLONG, 'Input line was too long'); return; }
    // C1 fakelag, after registration only (as Ergo; before it, max-registration-lines and the
    // registration timeout bound a client). Operators are exempt (Ergo's `nofakelag` capability).
    // lines inside an open draft/multiline batch are one message (BATCH + and - count): not each delayed
    if (this.fakelag && this.registered && !this.user.isOper && !this.deps.dispatcher.fakelagExempt(this, msg)) {
      const wait = this.fakelag.delayFor(msg.command);
      if (wait > 0) { this.hold(wait, () => this.dispatch(msg, p.invalidUtf8)); return; }
    }
    this.dispatch(msg, p.invalidUtf8);
  }

  /**
   * Fakelag as backpressure: stop reading this client, run `then` after `ms`, then read on. Lines
   * already read wait in `queued` (as during an async command), so nothing is ever dropped and
   * order is kept; the kernel's buffers and TCP flow control hold the rest.
   */
  private hold(ms: number, then: () => void): void {
    this.deps.server.metrics.limitHit('fakelag');
    this.busy = true;
    this.conn.pause();
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.busy = false;
      if (this.closed) return;
      then();
      // `then` may have started an async command (busy again): that one resumes when it settles
      if (this.blocked || this.closed) return;
      this.conn.resume();
      this.drainQueued();
    }, ms);
  }

  /**
   * Run one line through the dispatcher with a fresh reply buffer (labeled-response); an async
   * command pauses reading until it settles, and its replies are flushed then.
   */
  private dispatch(msg: IrcMessage, invalidUtf8: boolean): void {
    // labeled-response depends on batch, which "MUST be negotiated to use labeled responses"
    // (order of negotiation not enforced): without both, the label is ignored.
    const label = this.hasCap('labeled-response') && this.hasCap('batch') ? msg.tags.get('label') || undefined : undefined;
    const rb = new ReplyBuffer(this.serverName, label);
    this.rb = rb;
    const isNotice = msg.command === 'NOTICE';
    let pending: Promise<void> | undefined;
    try {
      const r = this.deps.dispatcher.dispatch(this, msg, invalidUtf8, rb);
      if (r instanceof Promise) pending = r;
    } catch (e) {
      if (!this.handleFailure(e, rb, msg.command, isNotice)) return;
    } finally {
      this.rb = undefined;
    }
    if (pending) {
      this.busy = true;
      this.conn.pause();
      pending.then(
        () => this.finishCommand(rb, msg.command),
        (e) => { if (this.handleFailure(e, rb, msg.command, isNotice)) this.finishCommand(rb, msg.command); },
      ).finally(() => {
        this.busy = false;
        if (this.closed || this.blocked) return; // output still waiting: resumes when it drains
        this.conn.resume();
        this.drainQueued();
      });
      return;
    }
    this.finishCommand(rb, msg.command);
  }

  /**
   * @internal for the dispatcher (CommandContext.resume): run `fn` with `rb` as this session's
   * active reply buffer again (an async command's later state changes join its reply).
   */
  withReplies<T>(rb: ReplyBuffer, fn: () => T): T {
    const prev = this.rb;
    this.rb = this.closed ? undefined : rb;
    try { return fn(); } finally { this.rb = prev; }
  }

  /** ReplyError → its numeric (true: go on and flush); anything else → close this client (I1). */
  private handleFailure(e: unknown, rb: ReplyBuffer, command: string, isNotice: boolean): boolean {
    if (e instanceof ReplyError) {
      if (!isNotice && !this.closed) rb.add({ tags: new Map(), source: this.serverName, command: e.code, params: [this.user.nick, ...e.params, e.text] });
      return true;
    }
    // I1: one client's bad input never takes the server down; log, drop only this client
    this.deps.server.log.error({ err: e, session: this.id, command }, 'command handler failed');
    this.rb = undefined;
    if (this.closed) return false;
    try {
      for (const m of rb.finish()) this.out(toWire(m));
    } catch { /* the failure may be in these very replies; the ERROR below still goes out */ }
    this.close('Internal error');
    return false;
  }

  /** Lines that arrived while an async command ran, in order. */
  private drainQueued(): void {
    while (!this.blocked && !this.closed && this.queued !== undefined && this.queued.length > 0) {
      const line = this.queued.shift()!;
      this.queuedBytes -= line.length;
      this.onLine(line);
    }
  }

  private finishCommand(rb: ReplyBuffer, command: string): void {
    const server = this.deps.server;
    if (this.closed) return;
    let wire: Buffer[];
    try {
      wire = rb.finish().map(toWire);
    } catch (e) {
      // a reply that cannot be serialized is a bug; it must cost only this client (I1)
      server.log.error({ err: e, session: this.id, command }, 'reply serialization failed');
      this.close('Internal error');
      return;
    }
    this.writeOwn(wire);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Called by the periodic sweep. */
  tick(now: number): void {
    if (this.closed) return;
    const cfg = this.deps.server.config;
    if (!this.registered) {
      if (now - this.connectedAt > cfg.registrationTimeout) this.close('Registration timed out');
      return;
    }
    this.deps.dispatcher.sweep(this, now);
    const idle = now - this.lastActivity;
    if (idle > cfg.pingTimeout) {
      this.close(`Ping timeout: ${Math.round(cfg.pingTimeout / 1000)} seconds`);
    } else if (idle > cfg.pingInterval && !this.pingSent) {
      this.pingSent = true;
      this.send({ tags: new Map(), command: 'PING', params: [this.serverName] });
    }
  }

  /** a disconnect for flooding: the operators' server notice (+s f), then the close */
  private flooded(reason: string): void {
    if (this.closed) return;
    this.deps.server.notices.flood(this.user, reason);
    this.close(reason);
  }

  /** Recipient.disconnect: KILL, UBAN (the QUIT others see is the same text) */
  disconnect(reason: string): void {
    this.close(reason);
  }

  /**
   * Close the connection: `ERROR :<text>` to the client, QUIT to everyone who shares a channel.
   * `quitReason` is what others see (defaults to the ERROR text).
   */
  close(errorText: string, quitReason?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    clearTimeout(this.holdTimer);
    clearTimeout(this.outbox?.timer);
    // replies still waiting are dropped: the connection is going (a client that does not read
    // would otherwise hold them until the transport's force-close)
    this.outbox = undefined;
    const rb = this.rb;
    this.rb = undefined;
    if (rb) {
      // replies of the command that closed us; a bad one must not stop the close procedure
      try {
        for (const m of rb.finish()) this.out(toWire(m));
      } catch (e) {
        this.deps.server.log.error({ err: e, session: this.id }, 'reply serialization failed');
      }
    }
    this.out(toWire({ tags: new Map(), command: 'ERROR', params: [errorText] }));
    this.conn.close();
    this.deps.server.ops.removeUser(this.user, quitReason ?? errorText);
    this.deps.onClosed(this);
  }

  private onConnClosed(): void {
    clearTimeout(this.holdTimer);
    clearTimeout(this.outbox?.timer);
    this.outbox = undefined;
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    this.deps.server.ops.removeUser(this.user, 'Connection closed');
    this.deps.onClosed(this);
  }
}
