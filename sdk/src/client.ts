/**
 * FreeqClient: a small IRC client for Node and browsers with CAP 302 negotiation, registration,
 * SASL (sasl-exchange.ts: PLAIN and ATPROTO-CHALLENGE), labeled requests (requests.ts), history,
 * draft/multiline (multiline.ts) and draft/read-marker (read-markers.ts).
 */
import { TypedEmitter } from './emitter.js';
import { buildLine, nickOf, parseMessage, type IrcMessage } from './message.js';
import type { LineTransport } from './line-transport.js';
import { Requests } from './requests.js';
import { serializeTags } from '@freeq/protocol';
import { Resumer } from './resume.js';
import { SaslExchange, type SaslConfig, type SaslOutcome } from './sasl-exchange.js';
import { assembleMultiline, messageLines, MultilineAssembler, MULTILINE_CAP, parseMultilineCap } from './multiline.js';
import { READ_MARKER_CAP, ReadMarkerSender, readMarkerOf, type ReadMarkerEvent } from './read-markers.js';

/** What every FreeqClient takes (Node's adds `transport`: index.ts; the browser's: browser.ts). */
export interface FreeqClientBaseOptions {
  /** `irc://host:port`, `ircs://host:port`, `ws://host:port/irc` or `wss://…` (browsers: ws:// and wss:// only) */
  url: string;
  nick: string;
  /** USER name (default: the nick) */
  username?: string;
  realname?: string;
  /** server password (PASS) */
  password?: string;
  /**
   * capabilities to request when the server offers them (default: message-tags, server-time,
   * account-tag, extended-join, account-notify, batch, labeled-response, draft/chathistory,
   * draft/multiline, draft/read-marker).
   * `sasl` is added when `sasl` is set.
   */
  caps?: string[];
  sasl?: SaslConfig;
  /** when SASL fails, disconnect instead of continuing as a guest (default false) */
  requireSasl?: boolean;
  /** give up on an unanswered SASL exchange after this many ms (sends `AUTHENTICATE *`; default 30000) */
  saslTimeoutMs?: number;
  /** `connect()` rejects when registration has not finished in this many ms (default 30000) */
  registrationTimeoutMs?: number;
  /**
   * reconnect after a lost connection (not after quit() or destroy()), waiting `minMs` (default
   * 1000) doubling to `maxMs` (default 60000), each ±25 %; then rejoin the channels and fetch what
   * was said meanwhile as `history` events (resume.ts). Default off.
   */
  reconnect?: boolean | { minMs?: number; maxMs?: number };
}

export interface MessageEvent {
  /** sender nick (or server name) */
  from: string;
  source: string;
  target: string;
  text: string;
  tags: Record<string, string>;
  /** the target is a channel */
  isChannel: boolean;
}
export interface NoticeEvent extends MessageEvent {}
export interface JoinEvent {
  nick: string;
  source: string;
  channel: string;
  /** extended-join / account-tag: the DID, null for guests; undefined when unknown */
  account?: string | null;
  self: boolean;
}
export interface PartEvent { nick: string; source: string; channel: string; reason?: string; self: boolean }
export interface RegisteredEvent { nick: string; server: string }
/** A TAGMSG: client tags only (e.g. `+typing`), no text (needs the message-tags capability). */
export interface TagmsgEvent { from: string; source: string; target: string; tags: Record<string, string>; isChannel: boolean }
/** A message from history (CHATHISTORY, or history replayed on JOIN): never a live `message` event. */
export interface HistoryMessage {
  command: 'PRIVMSG' | 'NOTICE';
  msgid?: string;
  /** server-time, ISO 8601 */
  time?: string;
  from: string;
  source: string;
  target: string;
  text: string;
  tags: Record<string, string>;
}
export interface CloseEvent { error?: Error; reason?: string }
/** draft/message-redaction: `from` withdrew the message `msgid` of `target` (a channel, or the private conversation) */
export interface RedactEvent { from: string; source: string; target: string; msgid: string; reason?: string; isChannel: boolean }

export type FreeqClientEvents = {
  registered: [info: RegisteredEvent];
  message: [msg: MessageEvent];
  notice: [msg: NoticeEvent];
  tagmsg: [msg: TagmsgEvent];
  join: [ev: JoinEvent];
  part: [ev: PartEvent];
  /** every line received, with its parse (undefined when unparseable) */
  raw: [line: string, msg: IrcMessage | undefined];
  /** transport errors, ERROR lines from the server, throwing listeners */
  error: [err: Error];
  close: [ev: CloseEvent];
  /** a message of a `chathistory` batch nobody asked for (history replayed on JOIN) */
  history: [msg: HistoryMessage];
  /** reconnected after a lost connection, channels rejoined, missed history fetched (`reconnect`) */
  reconnected: [];
  /** SASL succeeded (903); the DID from 900 */
  authenticated: [did: string];
  /** SASL failed: the numeric (902/904/905/906/908, or `client` for a local failure) and its text */
  authFailed: [numeric: string, text: string];
  /** draft/read-marker: how far a conversation is read, sent by the server on JOIN, in answer to markRead(), and when another connection of the account marks it read */
  readMarker: [ev: ReadMarkerEvent];
  /** draft/message-redaction: a message was withdrawn (live, or in history replayed on JOIN) */
  redact: [ev: RedactEvent];
};

const REDACTION_CAP = 'draft/message-redaction';
const DEFAULT_CAPS = ['message-tags', 'server-time', 'account-tag', 'extended-join', 'account-notify', 'batch', 'labeled-response', 'draft/chathistory', MULTILINE_CAP, READ_MARKER_CAP, REDACTION_CAP];

const CHANNEL_PREFIXES = '#&!+';

export class FreeqClientCore extends TypedEmitter<FreeqClientEvents> {
  /** current nick */
  nick: string;
  /** true after 001 */
  registered = false;
  /** the DID after SASL success */
  did: string | undefined;
  /** capabilities the server offers (name → value, '' when none) */
  readonly serverCaps = new Map<string, string>();
  /** capabilities acknowledged by the server */
  readonly enabledCaps = new Set<string>();

  private transport: LineTransport | undefined;
  private capLsDone = false;
  private capEndSent = false;
  private readonly sasl: SaslExchange;
  private readonly requests = new Requests();
  private readonly multiline = new MultilineAssembler();
  private readonly markers = new ReadMarkerSender((target, time) => this.send('MARKREAD', target, `timestamp=${time}`));
  /** multiline batch references sent */
  private batchSeq = 0;
  private closeReason: string | undefined;
  private closing = false;
  /** quit() or destroy() ended the connection (no reconnect) */
  userClosed = false;
  private settle: { resolve: () => void; reject: (e: Error) => void } | undefined;

  /**
   * `open`: how a line transport to `options.url` is opened (Node: TCP, TLS or WebSocket,
   * transport.ts; browsers: WebSocket, transport-browser.ts). The client itself uses no Node
   * built-ins, so the same code runs in both.
   */
  constructor(readonly options: FreeqClientBaseOptions, private readonly open: (url: string) => Promise<LineTransport>) {
    super();
    this.nick = options.nick;
    this.sasl = new SaslExchange(options.sasl, options.saslTimeoutMs ?? 30_000, (c, ...p) => this.send(c, ...p), (o) => this.saslDone(o));
    if (options.reconnect) new Resumer(this, options.reconnect === true ? {} : options.reconnect);
  }

  /** Connect, negotiate capabilities, log in (when `sasl` is set) and register. Resolves on 001. */
  async connect(): Promise<void> {
    if (this.transport) throw new Error('already connected');
    // a new session (after a lost one: resume.ts)
    this.registered = false;
    this.serverCaps.clear();
    this.enabledCaps.clear();
    this.capLsDone = false;
    this.capEndSent = false;
    this.sasl.reset();
    this.multiline.reset();
    this.markers.reset();
    this.closeReason = undefined;
    this.closing = false;
    this.userClosed = false;
    const t = await this.open(this.options.url);
    this.transport = t;
    t.onLine = (line) => this.onLine(line);
    const done = new Promise<void>((resolve, reject) => { this.settle = { resolve, reject }; });
    const timeout = setTimeout(() => {
      this.fail(new Error('registration timed out'));
      this.transport?.destroy();
    }, this.options.registrationTimeoutMs ?? 30_000);
    t.onClose = (err) => {
      clearTimeout(timeout);
      this.sasl.clearTimers();
      this.markers.reset();
      this.transport = undefined;
      const reason = this.closeReason;
      this.requests.failAll(new Error(reason ? `connection closed: ${reason}` : 'connection closed'));
      this.fail(new Error(reason ? `connection closed: ${reason}` : err ? `connection lost: ${err.message}` : 'connection closed'));
      const ev: CloseEvent = {};
      if (err) ev.error = err;
      if (reason !== undefined) ev.reason = reason;
      this.emit('close', ev);
    };
    this.send('CAP', 'LS', '302');
    if (this.options.password !== undefined) this.send('PASS', this.options.password);
    this.send('NICK', this.nick);
    // realname always as a trailing parameter (it usually has spaces; some servers insist)
    const realname = this.options.realname ?? this.options.nick;
    this.raw(`${buildLine('USER', this.options.username ?? this.options.nick, '0', '*')} :${realname}`);
    try {
      await done;
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Send a raw line (no CR/LF). */
  raw(line: string): void {
    if (/[\r\n\0]/.test(line)) throw new Error('a raw line must not contain CR, LF or NUL');
    this.transport?.send(line);
  }

  /** Send a command; the last parameter becomes a trailing parameter when needed. */
  send(command: string, ...params: string[]): void {
    this.transport?.send(buildLine(command, ...params));
  }

  join(channel: string, key?: string): void {
    if (key !== undefined) this.send('JOIN', channel, key);
    else this.send('JOIN', channel);
  }

  part(channel: string, reason?: string): void {
    if (reason !== undefined) this.send('PART', channel, reason);
    else this.send('PART', channel);
  }

  /**
   * PRIVMSG. A text of several lines, or one too long for an IRC line, goes as a draft/multiline
   * batch when the server enabled it (several within its max-bytes / max-lines), else as one
   * PRIVMSG per line (multiline.ts); leading and trailing blank lines are left out.
   */
  privmsg(target: string, text: string): void { this.say('PRIVMSG', target, text); }

  /** NOTICE, like privmsg() */
  notice(target: string, text: string): void { this.say('NOTICE', target, text); }

  private say(command: 'PRIVMSG' | 'NOTICE', target: string, text: string): void {
    const limits = this.enabledCaps.has(MULTILINE_CAP) ? parseMultilineCap(this.serverCaps.get(MULTILINE_CAP)) : undefined;
    for (const line of messageLines(command, target, text, { nick: this.nick, limits, nextRef: () => `ml${++this.batchSeq}` })) this.raw(line);
  }

  /**
   * draft/read-marker: `target` is read up to `time` (ISO 8601: the server-time of the newest
   * message seen). At most one MARKREAD per target a second, the newest time winning; a time
   * not after the marker already sent or heard is not sent. False when the server did not enable
   * the capability (nothing sent). The server's answer comes as a `readMarker` event.
   */
  markRead(target: string, time: string): boolean {
    if (!this.enabledCaps.has(READ_MARKER_CAP)) return false;
    this.markers.mark(target, time);
    return true;
  }

  /**
   * Withdraw a message (draft/message-redaction: `REDACT <target> <msgid> [:reason]`): your own
   * within the server's window, any in a channel you operate. False when the server did not enable
   * the capability (nothing sent); a refusal comes as `FAIL REDACT …` (the `raw` event).
   */
  redact(target: string, msgid: string, reason?: string): boolean {
    if (!this.enabledCaps.has(REDACTION_CAP)) return false;
    this.send('REDACT', target, msgid, ...(reason ? [reason] : []));
    return true;
  }

  /** TAGMSG with client tags (e.g. `{ '+typing': 'active' }`); needs the message-tags capability */
  tagmsg(target: string, tags: Record<string, string>): void {
    const t = serializeTags(new Map(Object.entries(tags)));
    if (t && this.enabledCaps.has('message-tags')) this.raw(`@${t} ${buildLine('TAGMSG', target)}`);
  }

  /**
   * Send a command with a `label` tag (IRCv3 labeled-response) and resolve with the lines the
   * server answers it with: one line, none (`ACK`), or every line of its batch, in order. Needs
   * the `labeled-response` and `batch` capabilities (requested by default).
   */
  async request(command: string, params: string[] = [], timeoutMs = 30_000): Promise<IrcMessage[]> {
    if (!this.transport) throw new Error('not connected');
    if (!this.enabledCaps.has('labeled-response') || !this.enabledCaps.has('batch')) throw new Error('the server did not enable labeled-response and batch');
    const { label, done } = this.requests.start(timeoutMs);
    this.raw(`@label=${label} ${buildLine(command, ...params)}`);
    return done;
  }

  /**
   * History of a channel or a private conversation (IRCv3 draft/chathistory), oldest first:
   * the latest `limit` messages, those before or after a message (by msgid), or around it.
   * A FAIL reply (no such target, not allowed) rejects with its text.
   */
  async history(target: string, o: { before?: string; after?: string; around?: string; limit?: number } = {}): Promise<HistoryMessage[]> {
    const limit = String(o.limit ?? 50);
    const [sub, ref] = o.before !== undefined ? ['BEFORE', `msgid=${o.before}`] : o.after !== undefined ? ['AFTER', `msgid=${o.after}`]
      : o.around !== undefined ? ['AROUND', `msgid=${o.around}`] : ['LATEST', '*'];
    const lines = await this.request('CHATHISTORY', [sub, target, ref, limit]);
    failed(lines);
    return assembleMultiline(lines).flatMap((m) => historyOf(m) ?? []);
  }

  /** The conversations with messages between two times (ISO 8601), each with its latest message time. */
  async historyTargets(from: string, to: string, limit = 50): Promise<{ target: string; latest: string }[]> {
    const lines = await this.request('CHATHISTORY', ['TARGETS', `timestamp=${from}`, `timestamp=${to}`, String(limit)]);
    failed(lines);
    return lines.filter((m) => m.command === 'CHATHISTORY' && m.params[0] === 'TARGETS').map((m) => ({ target: m.params[1] ?? '', latest: (m.params[2] ?? '').replace(/^timestamp=/, '') }));
  }

  /** QUIT and wait for the server to close the connection (destroyed after `timeoutMs`). */
  async quit(reason = 'Client quit', timeoutMs = 3000): Promise<void> {
    const t = this.transport;
    this.userClosed = true;
    if (!t) return;
    this.closing = true;
    const closed = this.next('close');
    this.send('QUIT', reason);
    const timer = setTimeout(() => t.destroy(), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  /** @internal (resume.ts): what was said while the connection was lost, then `reconnected` */
  resumed(missed: HistoryMessage[]): void {
    for (const m of missed) this.emit('history', m);
    this.emit('reconnected');
  }

  /** Drop the connection without QUIT. */
  destroy(): void {
    this.userClosed = true;
    this.transport?.destroy();
  }

  get connected(): boolean { return this.transport !== undefined; }

  // ---------------------------------------------------------------- incoming lines

  private onLine(line: string): void {
    const parsed = parseMessage(line);
    this.emit('raw', line, parsed);
    if (!parsed) return;
    // a request's answer, or history: not a live event (requests.ts)
    const fate = this.requests.take(parsed);
    if (fate === 'response') return;
    // a draft/multiline batch: one message when it ends (multiline.ts)
    for (const msg of this.multiline.take(parsed)) {
      if (fate === 'history' && msg.command !== 'REDACT') {
        const h = historyOf(msg);
        if (h) this.emit('history', h);
      } else {
        // a REDACT, live or in history replayed on JOIN, is the same event
        this.onEvent(msg);
      }
    }
  }

  private onEvent(msg: IrcMessage): void {
    this.sasl.onLine(msg);
    const p = msg.params;
    switch (msg.command) {
      case 'PING':
        this.send('PONG', ...(p.length ? p : ['']));
        break;
      case 'CAP':
        this.onCap(msg);
        break;
      case 'MARKREAD': {
        const ev = readMarkerOf(msg);
        if (ev) { this.markers.heard(ev.target, ev.time); this.emit('readMarker', ev); }
        break;
      }
      case '001':
        this.registered = true;
        if (p[0]) this.nick = p[0];
        this.capEndSent = true;
        this.emit('registered', { nick: this.nick, server: msg.source ?? '' });
        this.settle?.resolve();
        this.settle = undefined;
        break;
      case '433':
        if (!this.registered) this.retryNick();
        break;
      case 'NICK':
        if (nickOf(msg.source) === this.nick && p[0]) this.nick = p[0];
        break;
      case 'TAGMSG': {
        const target = p[0] ?? '';
        this.emit('tagmsg', { from: nickOf(msg.source), source: msg.source ?? '', target, tags: Object.fromEntries(msg.tags), isChannel: target.length > 0 && CHANNEL_PREFIXES.includes(target[0]!) });
        break;
      }
      case 'PRIVMSG': case 'NOTICE':
        this.onMessage(msg);
        break;
      case 'REDACT': {
        const [target = '', msgid = '', reason] = p;
        if (!msgid) break;
        this.emit('redact', { from: nickOf(msg.source), source: msg.source ?? '', target, msgid, ...(reason ? { reason } : {}), isChannel: target.length > 0 && CHANNEL_PREFIXES.includes(target[0]!) });
        break;
      }
      case 'JOIN': {
        const nick = nickOf(msg.source);
        const ev: JoinEvent = { nick, source: msg.source ?? '', channel: p[0] ?? '', self: nick === this.nick };
        if (p.length >= 3 && this.enabledCaps.has('extended-join')) ev.account = p[1] === '*' ? null : p[1];
        else if (msg.tags.has('account')) ev.account = msg.tags.get('account');
        this.emit('join', ev);
        break;
      }
      case 'PART': {
        const nick = nickOf(msg.source);
        const ev: PartEvent = { nick, source: msg.source ?? '', channel: p[0] ?? '', self: nick === this.nick };
        if (p[1] !== undefined) ev.reason = p[1];
        this.emit('part', ev);
        break;
      }
      case 'ERROR':
        this.closeReason = p[0] ?? '';
        // the server's answer to our own QUIT (quit()) is the end we asked for, not an error (#16);
        // the `close` event still carries its reason
        if (!this.closing) this.emit('error', new Error(`server closed the connection: ${this.closeReason}`));
        break;
      default:
        break;
    }
  }

  private onMessage(msg: IrcMessage): void {
    const target = msg.params[0] ?? '';
    const text = msg.params[1] ?? '';
    const from = nickOf(msg.source);
    const ev: MessageEvent = {
      from, source: msg.source ?? '', target, text, tags: Object.fromEntries(msg.tags),
      isChannel: target.length > 0 && CHANNEL_PREFIXES.includes(target[0]!),
    };
    this.emit(msg.command === 'NOTICE' ? 'notice' : 'message', ev);
  }

  private retryNick(): void {
    this.nick = `${this.nick.slice(0, 28)}_`;
    this.send('NICK', this.nick);
  }

  // ---------------------------------------------------------------- CAP

  private wantedCaps(): string[] {
    const want = new Set(this.options.caps ?? DEFAULT_CAPS);
    if (this.options.sasl) want.add('sasl');
    return [...want].filter((c) => this.serverCaps.has(c));
  }

  private onCap(msg: IrcMessage): void {
    const sub = (msg.params[1] ?? '').toUpperCase();
    const more = msg.params.length >= 4 && msg.params[2] === '*';
    const list = (msg.params[msg.params.length - 1] ?? '').split(' ').filter(Boolean);
    switch (sub) {
      case 'LS':
      case 'NEW':
        for (const c of list) {
          const eq = c.indexOf('=');
          this.serverCaps.set(eq < 0 ? c : c.slice(0, eq), eq < 0 ? '' : c.slice(eq + 1));
        }
        if (sub === 'LS' && !more && !this.capLsDone) {
          this.capLsDone = true;
          this.afterCapLs();
        }
        break;
      case 'DEL':
        for (const c of list) { this.serverCaps.delete(c); this.enabledCaps.delete(c); }
        break;
      case 'ACK':
        for (const c of list) {
          if (c.startsWith('-')) this.enabledCaps.delete(c.slice(1));
          else this.enabledCaps.add(c);
        }
        if (!more) this.afterCapAck(list.includes('sasl'));
        break;
      case 'NAK':
        if (!more) this.afterCapAck(false);
        break;
      default:
        break;
    }
  }

  private afterCapLs(): void {
    const sasl = this.options.sasl;
    if (sasl) {
      const offered = this.serverCaps.get('sasl');
      if (offered === undefined) {
        this.sasl.fail('client', 'the server does not offer SASL');
        return;
      }
      if (offered !== '' && !offered.toUpperCase().split(',').includes(sasl.mechanism)) {
        this.sasl.fail('client', `the server does not offer ${sasl.mechanism} (offers ${offered})`);
        return;
      }
    }
    const caps = this.wantedCaps();
    if (caps.length) this.raw(`CAP REQ :${caps.join(' ')}`);
    else this.capEnd();
  }

  private afterCapAck(saslAcked: boolean): void {
    if (this.registered || this.sasl.state !== 'idle') return;
    if (this.options.sasl && saslAcked) this.sasl.start();
    else if (this.options.sasl) this.sasl.fail('client', 'the server refused the sasl capability');
    else this.capEnd();
  }

  private capEnd(): void {
    if (this.capEndSent || this.registered) return;
    this.capEndSent = true;
    this.send('CAP', 'END');
  }

  // ---------------------------------------------------------------- SASL (sasl-exchange.ts)

  private saslDone(o: SaslOutcome): void {
    if (o.kind === 'succeeded') {
      this.did = o.did;
      this.capEnd();
      this.emit('authenticated', this.did ?? '');
      return;
    }
    if (o.kind === 'already') { this.capEnd(); return; }
    this.emit('authFailed', o.numeric, o.text);
    if (this.options.requireSasl) {
      this.fail(new Error(`SASL authentication failed (${o.numeric}): ${o.text}`));
      // no reconnect either: the same login would fail again
      this.userClosed = true;
      if (this.transport && !this.closing) {
        this.closing = true;
        this.send('QUIT', 'SASL authentication failed');
        const t = this.transport;
        const timer: unknown = setTimeout(() => t.destroy(), 1000);
        // Node: do not keep the process alive for it (browsers' timers are numbers)
        (timer as { unref?: () => void }).unref?.();
      }
      return;
    }
    this.capEnd();
  }

  private fail(err: Error): void {
    const s = this.settle;
    this.settle = undefined;
    s?.reject(err);
  }
}

/** a PRIVMSG or NOTICE as history */
function historyOf(m: IrcMessage): HistoryMessage | undefined {
  if (m.command !== 'PRIVMSG' && m.command !== 'NOTICE') return undefined;
  const h: HistoryMessage = { command: m.command, from: nickOf(m.source), source: m.source ?? '', target: m.params[0] ?? '', text: m.params[1] ?? '', tags: Object.fromEntries(m.tags) };
  const msgid = m.tags.get('msgid');
  const time = m.tags.get('time');
  if (msgid !== undefined) h.msgid = msgid;
  if (time !== undefined) h.time = time;
  return h;
}

/** a FAIL (standard-replies) or ERR_ answer to a request: thrown with its text */
function failed(lines: IrcMessage[]): void {
  const f = lines.find((m) => m.command === 'FAIL' || /^4\d\d$/.test(m.command));
  if (f) throw new Error(f.params[f.params.length - 1] ?? f.command);
}
