/**
 * FreeqClient: a small IRC client for Node with CAP 302 negotiation, registration and the
 * SASL mechanisms PLAIN and ATPROTO-CHALLENGE (crypto, pds-session, pds-oauth with the
 * DPOP_NONCE round trip, service-auth).
 */
import { TypedEmitter } from './emitter.js';
import { buildLine, nickOf, parseMessage, type IrcMessage } from './message.js';
import {
  AuthenticateAssembler, base64UrlEncode, chunkAuthenticate, decodeChallenge, encodeResponse, plainPayload,
  type AtprotoChallenge, type AtprotoResponse,
} from './sasl.js';
import type { LineTransport } from './line-transport.js';
import { Requests } from './requests.js';
import { serializeTags } from '@freeq/protocol';
import { Resumer } from './resume.js';

type MaybePromise<T> = T | Promise<T>;

/** SASL PLAIN: a Bluesky handle or DID and an app password (never the main password). */
export interface PlainSasl {
  mechanism: 'PLAIN';
  identifier: string;
  password: string;
  /** authorization identity; default empty (= the identifier) */
  authzid?: string;
}

interface AtprotoBase {
  mechanism: 'ATPROTO-CHALLENGE';
  /** the DID to log in as */
  did: string;
}

/** `crypto`: sign the raw challenge bytes with a key listed in the DID document. */
export interface CryptoSasl extends AtprotoBase {
  method: 'crypto';
  sign: (challengeBytes: Uint8Array) => MaybePromise<Uint8Array>;
}

/** `pds-session`: an access JWT of an (app-password) session on the user's PDS. */
export interface PdsSessionSasl extends AtprotoBase {
  method: 'pds-session';
  accessJwt: string;
  /** the PDS URL; the server checks it against the DID document */
  pdsUrl?: string;
}

/** `pds-oauth`: a DPoP-bound OAuth access token and a proof maker for getSession on the PDS. */
export interface PdsOAuthSasl extends AtprotoBase {
  method: 'pds-oauth';
  accessToken: string;
  pdsUrl: string;
  /**
   * Make a fresh DPoP proof for `GET <pdsUrl>/xrpc/com.atproto.server.getSession` bound to the
   * access token (`ath`), with `nonce` when the server relayed one (`DPOP_NONCE`).
   */
  dpopProof: (nonce?: string) => MaybePromise<string>;
}

/** `service-auth`: a service-auth JWT from the PDS (`getServiceAuth`, aud = the IRC server's DID). */
export interface ServiceAuthSasl extends AtprotoBase {
  method: 'service-auth';
  /** called once per challenge: tokens are single use */
  getToken: () => MaybePromise<string>;
}

export type AtprotoSasl = CryptoSasl | PdsSessionSasl | PdsOAuthSasl | ServiceAuthSasl;
export type SaslConfig = PlainSasl | AtprotoSasl;

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
   * account-tag, extended-join, account-notify, batch, labeled-response, draft/chathistory).
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
};

const DEFAULT_CAPS = ['message-tags', 'server-time', 'account-tag', 'extended-join', 'account-notify', 'batch', 'labeled-response', 'draft/chathistory'];

const CHANNEL_PREFIXES = '#&!+';

type SaslState = 'idle' | 'running' | 'done';

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
  private sasl: SaslState = 'idle';
  private saslTimer: ReturnType<typeof setTimeout> | undefined;
  private saslMechsTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly assembler = new AuthenticateAssembler();
  private readonly requests = new Requests();
  /** increases with every challenge, so a slow signer never answers an outdated challenge */
  private challengeSeq = 0;
  private dpopNonce: string | undefined;
  private pendingDid: string | undefined;
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
    this.sasl = 'idle';
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
      this.clearSaslTimers();
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

  privmsg(target: string, text: string): void { this.send('PRIVMSG', target, text); }

  notice(target: string, text: string): void { this.send('NOTICE', target, text); }

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
    return lines.flatMap((m) => historyOf(m) ?? []);
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
    const msg = parseMessage(line);
    this.emit('raw', line, msg);
    if (!msg) return;
    // a request's answer, or history: not a live event (requests.ts)
    const fate = this.requests.take(msg);
    if (fate === 'response') return;
    if (fate === 'history') {
      const h = historyOf(msg);
      if (h) this.emit('history', h);
      return;
    }
    const p = msg.params;
    switch (msg.command) {
      case 'PING':
        this.send('PONG', ...(p.length ? p : ['']));
        break;
      case 'CAP':
        this.onCap(msg);
        break;
      case 'AUTHENTICATE':
        this.onAuthenticate(p[0] ?? '');
        break;
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
      case '900':
        if (p[2]) this.pendingDid = p[2];
        break;
      case '903':
        this.saslSucceeded();
        break;
      case '907':
        // already authenticated: nothing more to do for this exchange
        this.saslFinished();
        break;
      case '902': case '904': case '905': case '906':
        this.saslFailed(msg.command, p[p.length - 1] ?? '');
        break;
      case '908':
        // the mechanism list normally precedes 904; fail on 908 only if no 904 follows promptly
        if (this.sasl === 'running') {
          const text = `${p[1] ?? ''} ${p[p.length - 1] ?? ''}`.trim();
          this.saslMechsTimer ??= setTimeout(() => this.saslFailed('908', text), 250);
        }
        break;
      case 'TAGMSG': {
        const target = p[0] ?? '';
        this.emit('tagmsg', { from: nickOf(msg.source), source: msg.source ?? '', target, tags: Object.fromEntries(msg.tags), isChannel: target.length > 0 && CHANNEL_PREFIXES.includes(target[0]!) });
        break;
      }
      case 'PRIVMSG': case 'NOTICE':
        this.onMessage(msg);
        break;
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
        this.emit('error', new Error(`server closed the connection: ${this.closeReason}`));
        break;
      default:
        break;
    }
  }

  private onMessage(msg: IrcMessage): void {
    const target = msg.params[0] ?? '';
    const text = msg.params[1] ?? '';
    const from = nickOf(msg.source);
    if (msg.command === 'NOTICE') {
      const m = /^DPOP_NONCE (\S+)$/.exec(text);
      if (m && this.sasl === 'running') this.dpopNonce = m[1];
    }
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
        this.saslFailed('client', 'the server does not offer SASL');
        return;
      }
      if (offered !== '' && !offered.toUpperCase().split(',').includes(sasl.mechanism)) {
        this.saslFailed('client', `the server does not offer ${sasl.mechanism} (offers ${offered})`);
        return;
      }
    }
    const caps = this.wantedCaps();
    if (caps.length) this.raw(`CAP REQ :${caps.join(' ')}`);
    else this.capEnd();
  }

  private afterCapAck(saslAcked: boolean): void {
    if (this.registered || this.sasl !== 'idle') return;
    if (this.options.sasl && saslAcked) this.startSasl();
    else if (this.options.sasl) this.saslFailed('client', 'the server refused the sasl capability');
    else this.capEnd();
  }

  private capEnd(): void {
    if (this.capEndSent || this.registered) return;
    this.capEndSent = true;
    this.send('CAP', 'END');
  }

  // ---------------------------------------------------------------- SASL

  private startSasl(): void {
    const sasl = this.options.sasl!;
    this.sasl = 'running';
    this.assembler.reset();
    this.saslTimer = setTimeout(() => {
      if (this.sasl === 'running') this.send('AUTHENTICATE', '*');
    }, this.options.saslTimeoutMs ?? 30_000);
    this.send('AUTHENTICATE', sasl.mechanism);
  }

  private onAuthenticate(param: string): void {
    if (this.sasl !== 'running') return;
    const payload = this.assembler.push(param);
    if (payload === undefined) return;
    const sasl = this.options.sasl!;
    if (sasl.mechanism === 'PLAIN') {
      this.sendPayload(plainPayload(sasl.identifier, sasl.password, sasl.authzid));
      return;
    }
    let challenge: AtprotoChallenge;
    try {
      challenge = decodeChallenge(payload);
    } catch (err) {
      this.send('AUTHENTICATE', '*');
      this.saslFailed('client', `bad challenge from the server: ${(err as Error).message}`);
      return;
    }
    const seq = ++this.challengeSeq;
    this.buildResponse(sasl, challenge).then(
      (r) => {
        if (seq !== this.challengeSeq || this.sasl !== 'running') return;
        this.sendPayload(encodeResponse(r));
      },
      (err: unknown) => {
        if (seq !== this.challengeSeq || this.sasl !== 'running') return;
        this.send('AUTHENTICATE', '*');
        this.saslFailed('client', `could not answer the challenge: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  private async buildResponse(sasl: AtprotoSasl, ch: AtprotoChallenge): Promise<AtprotoResponse> {
    const base = { did: sasl.did, challenge_nonce: ch.nonce };
    switch (sasl.method) {
      case 'crypto': {
        const sig = await sasl.sign(ch.bytes);
        return { ...base, method: 'crypto', signature: base64UrlEncode(sig) };
      }
      case 'pds-session': {
        const r: AtprotoResponse = { ...base, method: 'pds-session', signature: sasl.accessJwt };
        if (sasl.pdsUrl !== undefined) r.pds_url = sasl.pdsUrl;
        return r;
      }
      case 'pds-oauth': {
        const nonce = this.dpopNonce;
        const proof = await sasl.dpopProof(nonce);
        return { ...base, method: 'pds-oauth', signature: sasl.accessToken, pds_url: sasl.pdsUrl, dpop_proof: proof };
      }
      case 'service-auth':
        return { ...base, method: 'service-auth', signature: await sasl.getToken() };
      default: {
        const never: never = sasl;
        throw new Error(`unknown method ${String((never as { method: unknown }).method)}`);
      }
    }
  }

  private sendPayload(encoded: string): void {
    for (const chunk of chunkAuthenticate(encoded)) this.send('AUTHENTICATE', chunk);
  }

  private clearSaslTimers(): void {
    if (this.saslTimer) clearTimeout(this.saslTimer);
    if (this.saslMechsTimer) clearTimeout(this.saslMechsTimer);
    this.saslTimer = this.saslMechsTimer = undefined;
  }

  private saslFinished(): void {
    this.clearSaslTimers();
    this.sasl = 'done';
    this.capEnd();
  }

  private saslSucceeded(): void {
    if (this.sasl === 'done') return;
    this.did = this.pendingDid;
    this.saslFinished();
    this.emit('authenticated', this.did ?? '');
  }

  private saslFailed(numeric: string, text: string): void {
    if (this.sasl === 'done') return;
    this.clearSaslTimers();
    this.sasl = 'done';
    this.emit('authFailed', numeric, text);
    if (this.options.requireSasl) {
      this.fail(new Error(`SASL authentication failed (${numeric}): ${text}`));
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
