import { encodeFrame, FrameDecoder, FrameError } from './frame.js';
import { parseS2s, type S2sMessage } from './messages.js';
import { TokenBucket } from '../limits/rate.js';

/** What a link logs (pino's shape; federation/ does not depend on observability/). */
export interface LinkLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LinkEvents {
  /** both sides sent and received hello_ack: operational messages may flow */
  up(link: S2sLink): void;
  /** an operational message (envelope, ping, pong) from an up link, schema-checked */
  message(link: S2sLink, msg: S2sMessage): void;
  closed(link: S2sLink, reason: string): void;
}

/**
 * The byte stream under a link: a TLS socket (tls-link.ts) or an iroh bi-stream (iroh-link.ts).
 * Each transport has authenticated the peer's key before a link is made over it.
 */
export interface LinkStream {
  write(data: Buffer): void;
  /** bytes written and not yet taken by the peer (the sendq check) */
  readonly pending: number;
  /** finish writing what is queued, then close */
  end(): void;
  /** close now */
  destroy(): void;
  /** stop / go on reading (flow control: over its rate a peer is not read, not dropped) */
  pause(): void;
  resume(): void;
  onData(cb: (chunk: Buffer) => void): void;
  /** once, however it closed */
  onClose(cb: () => void): void;
}

export interface LinkSide {
  self: { peerId: string };
  /** this server's name, sent in hello */
  name: string;
  log: LinkLog;
  events: LinkEvents;
  /** a link that is not up after this long is closed (ms) */
  helloTimeoutMs?: number;
  /**
   * most bytes written to a link and not yet taken by the peer (default 16 MiB): a peer that
   * stops reading is closed instead of making this server buffer without end (the sendq of links)
   */
  maxPendingBytes?: number;
  /**
   * envelopes read per second from this link (token bucket; federation.md "Flow control"): over
   * it the link is not read until tokens return, so the peer's own sendq holds the rest and
   * nothing is dropped (the reference dropped events over its rate)
   */
  rate?: { perSecond: number; burst: number };
  /**
   * the same for the state a peer sends when a link comes up (its burst: users and joins marked
   * netjoin, channel state, links), so that a large server's burst is not read at the live rate
   */
  burstRate?: { perSecond: number; burst: number };
  /** a link went over its rate and is paused (the per-peer throttled metric) */
  throttled?(link: S2sLink): void;
  now?: () => number;
}

/**
 * One federation link (#14) over a transport that proved the peer's federation key: TLS 1.3 with
 * mutual authentication (tls-link.ts) or iroh QUIC (iroh-link.ts); the peer id is that key.
 * Phase 1 on top: each side sends `hello` (version, its id, name, capabilities); the hello's
 * id must equal the id the certificate proved, and each side answers `hello_ack`; the link is up
 * only when both acks have crossed. Anything else before that, a bad frame (over 1 MiB, not
 * JSON) or a message that fails its schema gets a `refusal` and the link is closed, logged as
 * `Rejecting S2S connection` with the peer id and the reason.
 */
export class S2sLink {
  private readonly decoder = new FrameDecoder();
  private sentAck = false;
  private gotAck = false;
  private closed = false;
  private readonly helloTimer: NodeJS.Timeout;
  up = false;
  /** the peer's name from its hello */
  peerName = '';
  /** when the peer last sent anything (ping timeout) */
  lastHeard: number;
  /** traffic since the link opened (STATS l, #16): frames and bytes each way, and when it opened */
  readonly traffic = { sentMsgs: 0, sentBytes: 0, recvMsgs: 0, recvBytes: 0, openedAt: 0 };
  /** decoded messages not yet handed on (the link is over its rate) */
  private backlog: S2sMessage[] = [];
  private readonly bucket: TokenBucket | undefined;
  private readonly burstBucket: TokenBucket | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    private readonly stream: LinkStream,
    /** the id the transport proved (the TLS certificate's key, the iroh endpoint id) */
    readonly peerId: string,
    private readonly side: LinkSide,
    readonly direction: 'in' | 'out',
  ) {
    const now = side.now ?? Date.now;
    this.lastHeard = now();
    this.traffic.openedAt = this.lastHeard;
    this.bucket = side.rate ? new TokenBucket(side.rate.perSecond, side.rate.burst, now()) : undefined;
    this.burstBucket = side.burstRate ? new TokenBucket(side.burstRate.perSecond, side.burstRate.burst, now()) : this.bucket;
    stream.onData((chunk) => this.onData(chunk));
    stream.onClose(() => this.finish('connection closed'));
    this.helloTimer = setTimeout(() => { if (!this.up) this.refuse('no hello in time'); }, side.helloTimeoutMs ?? 10_000);
    this.helloTimer.unref();
    this.send({ type: 'hello', version: 1, id: side.self.peerId, name: side.name, caps: [] });
  }

  /** bytes written to this link and not yet taken by the peer (federation/burst.ts paces on it) */
  get pending(): number {
    return this.closed ? 0 : this.stream.pending;
  }

  send(msg: S2sMessage): void {
    if (this.closed) return;
    if (this.stream.pending > (this.side.maxPendingBytes ?? 16 * 1024 * 1024)) {
      this.side.log.warn({ peer: this.peerId, direction: this.direction, pending: this.stream.pending }, 'S2S link closed: the peer is not reading (sendq)');
      this.stream.destroy();
      this.finish('sendq exceeded');
      return;
    }
    const frame = encodeFrame(msg);
    this.traffic.sentMsgs++;
    this.traffic.sentBytes += frame.length;
    this.stream.write(frame);
  }

  /** close with a refusal the peer can log (never an ack) */
  refuse(reason: string): void {
    if (this.closed) return;
    this.side.log.warn({ peer: this.peerId, direction: this.direction, reason }, 'Rejecting S2S connection');
    this.send({ type: 'refusal', reason });
    this.stream.end();
    this.finish(reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.stream.end();
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    clearTimeout(this.waitTimer);
    this.backlog = [];
    this.side.events.closed(this, reason);
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = (this.side.now ?? Date.now)();
    this.traffic.recvBytes += chunk.length;
    let raws: unknown[];
    try {
      raws = this.decoder.push(chunk);
    } catch (e) {
      this.refuse(e instanceof FrameError ? `bad frame: ${e.message}` : 'bad frame');
      return;
    }
    this.traffic.recvMsgs += raws.length;
    for (const raw of raws) {
      const p = parseS2s(raw);
      if (!p.ok) { this.refuse(`invalid message: ${p.reason}`); return; }
      this.backlog.push(p.msg);
    }
    // waiting for a token already: the timer drains
    if (this.waitTimer === undefined) this.drain();
  }

  /** hand on what was read, as far as the rate allows; over it, stop reading until a token returns */
  private drain(): void {
    this.waitTimer = undefined;
    let i = 0;
    const now = (this.side.now ?? Date.now)();
    for (; i < this.backlog.length && !this.closed; i++) {
      const msg = this.backlog[i]!;
      const bucket = msg.type !== 'envelope' ? undefined : isBurst(msg.payload) ? this.burstBucket : this.bucket;
      if (bucket && this.up && !bucket.take(now)) {
        this.backlog = this.backlog.slice(i);
        if (!this.paused) {
          this.paused = true;
          this.stream.pause();
          this.side.throttled?.(this);
        }
        this.waitTimer = setTimeout(() => this.drain(), Math.max(1, bucket.waitMs(now)));
        return;
      }
      this.onMessage(msg);
    }
    this.backlog = [];
    if (this.paused && !this.closed) {
      this.paused = false;
      this.stream.resume();
    }
  }

  private onMessage(msg: S2sMessage): void {
    switch (msg.type) {
      case 'hello':
        if (this.sentAck) return this.refuse('second hello');
        if (msg.id !== this.peerId) return this.refuse('hello id does not match the certificate');
        this.peerName = msg.name;
        this.sentAck = true;
        this.send({ type: 'hello_ack', id: this.side.self.peerId });
        return this.maybeUp();
      case 'hello_ack':
        if (!this.sentAck || this.gotAck) return this.refuse('unexpected hello_ack');
        if (msg.id !== this.peerId) return this.refuse('hello_ack id does not match the certificate');
        this.gotAck = true;
        return this.maybeUp();
      case 'refusal':
        this.side.log.warn({ peer: this.peerId, direction: this.direction, reason: msg.reason }, 'S2S connection refused by peer');
        this.close(`refused by peer: ${msg.reason}`);
        return;
      default:
        if (!this.up) return this.refuse(`${msg.type} before the link is up`);
        this.side.events.message(this, msg);
    }
  }

  private maybeUp(): void {
    if (this.up || !this.sentAck || !this.gotAck) return;
    this.up = true;
    clearTimeout(this.helloTimer);
    this.side.log.info({ peer: this.peerId, name: this.peerName, direction: this.direction }, 'S2S link up');
    this.side.events.up(this);
  }
}

/** part of a burst (a link coming up): counted against burstRate, not the live rate */
function isBurst(p: { kind: string; netjoin?: true }): boolean {
  return p.netjoin === true || p.kind === 'channel-state' || p.kind === 'peer-link' || p.kind === 'nick-owner';
}
