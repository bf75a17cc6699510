import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { scheduleFlush, type ConnHandler, type IrcConn, type PeerInfo } from './conn.js';

const CRLF = Buffer.from('\r\n');

/**
 * IRCv3 WebSocket (https://ircv3.net/specs/extensions/websocket): one IRC line per message,
 * no CRLF. `binary.ircv3.net` gets binary frames, `text.ircv3.net` (and no subprotocol) text
 * frames; ws validates UTF-8 of text frames and closes with 1007 otherwise.
 */
export class WsConn implements IrcConn {
  private queue: Buffer[] = [];
  private queued = 0;
  private handler?: ConnHandler;
  private closing = false;
  private readonly binary: boolean;
  private pingTimer?: NodeJS.Timeout;
  /** pings sent since the last pong */
  private unanswered = 0;

  constructor(private readonly ws: WebSocket, private readonly socket: Socket, readonly peer: PeerInfo, private readonly readq: number) {
    this.binary = ws.protocol === 'binary.ircv3.net';
    socket.setNoDelay(true);
  }

  start(h: ConnHandler): void {
    this.handler = h;
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.closing) return;
      let line = Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!isBinary && this.ws.protocol === 'binary.ircv3.net') { /* accept either frame type */ }
      // be lenient with clients that terminate anyway; CR/LF left inside is malformed (parser)
      if (line.length >= 2 && line[line.length - 2] === 0x0d && line[line.length - 1] === 0x0a) line = line.subarray(0, line.length - 2);
      else if (line.length >= 1 && line[line.length - 1] === 0x0a) line = line.subarray(0, line.length - 1);
      if (line.length > this.readq) { h.connOverflow(); return; }
      h.connLine(line);
    });
    // ws has already queued a close frame (1009 too big, 1007 bad UTF-8…); give it a moment to
    // leave, then make sure the socket is gone
    this.ws.on('error', () => { setTimeout(() => this.ws.terminate(), 1000).unref(); });
    this.ws.on('pong', () => { this.unanswered = 0; });
    // the socket under the WebSocket emptied its buffer: the session's waiting replies may go on
    this.socket.on('drain', () => { this.handler?.connDrained(); });
    this.ws.on('close', () => {
      clearInterval(this.pingTimer);
      const hh = this.handler;
      this.handler = undefined;
      hh?.connClosed();
    });
  }

  write(line: Buffer): void {
    if (this.closing && this.ws.readyState !== this.ws.OPEN) return;
    this.queue.push(line);
    this.queued += line.length;
    if (this.queue.length === 1) scheduleFlush(this);
  }

  flush(): void {
    if (this.queue.length === 0 || this.ws.readyState !== this.ws.OPEN) { this.queue = []; this.queued = 0; return; }
    const q = this.queue;
    this.queue = [];
    this.queued = 0;
    this.socket.cork();
    for (const b of q) {
      const body = b.length >= 2 && b[b.length - 2] === CRLF[0] ? b.subarray(0, b.length - 2) : b;
      this.ws.send(body, { binary: this.binary });
    }
    this.socket.uncork();
  }

  pendingBytes(): number {
    return this.queued + this.ws.bufferedAmount;
  }

  /**
   * hardening.md A6 / seed 003 §3.1: a protocol ping every `intervalMs` (55 s by default, below
   * common proxy idle timeouts, strfry:strfry.conf:108); a connection that leaves two pings in a
   * row unanswered is dead and is terminated (the session then sees an ordinary close). While
   * reading is paused (fakelag, an async command) a pong cannot be read, so nothing is counted.
   */
  keepalive(intervalMs: number): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.ws.readyState !== this.ws.OPEN || this.ws.isPaused) return;
      if (this.unanswered >= 2) { this.ws.terminate(); return; }
      this.unanswered++;
      this.ws.ping();
    }, intervalMs);
    this.pingTimer.unref();
  }

  pause(): void { this.ws.pause(); }
  resume(): void { this.ws.resume(); }

  close(): void {
    if (this.closing) return;
    this.flush();
    this.closing = true;
    clearInterval(this.pingTimer);
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }
}
