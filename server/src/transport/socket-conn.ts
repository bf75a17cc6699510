import type { Socket } from 'node:net';
import { LineReader } from './line-reader.js';
import { scheduleFlush, type ConnHandler, type IrcConn, type PeerInfo } from './conn.js';

/** TCP and TLS: a byte stream framed by LineReader. */
export class SocketConn implements IrcConn {
  private queue: Buffer[] = [];
  private queued = 0;
  private handler?: ConnHandler;
  private ended = false;
  private closing = false;

  constructor(private readonly socket: Socket, readonly peer: PeerInfo, private readonly readq: number) {
    socket.setNoDelay(true); // latency at light load (the C servers don't, issue 6)
  }

  start(h: ConnHandler): void {
    this.handler = h;
    const reader = new LineReader(this.readq, {
      line: (l) => h.line(l),
      overflow: () => h.overflow(),
      // hardening B1: after 1 MiB of one line without LF, say why and close
      flood: () => { this.write(Buffer.from('ERROR :Input line too long\r\n')); this.close(); },
    });
    this.socket.on('data', (chunk: Buffer) => { if (!this.closing) reader.push(chunk); });
    this.socket.on('error', () => this.destroy());
    this.socket.on('end', () => this.destroy());
    this.socket.on('close', () => this.finish());
    // a socket whose PROXY header was read arrives paused with the rest pushed back (listeners.ts)
    this.socket.resume();
  }

  write(line: Buffer): void {
    if (this.ended) return;
    this.queue.push(line);
    this.queued += line.length;
    if (this.queue.length === 1) scheduleFlush(this);
  }

  flush(): void {
    if (this.queue.length === 0 || this.socket.destroyed) return;
    const q = this.queue;
    this.queue = [];
    this.queued = 0;
    if (q.length === 1) { this.socket.write(q[0]!); return; }
    this.socket.cork();
    for (const b of q) this.socket.write(b);
    this.socket.uncork();
  }

  pendingBytes(): number {
    return this.queued + this.socket.writableLength;
  }

  pause(): void { this.socket.pause(); }
  resume(): void { this.socket.resume(); }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.flush();
    this.ended = true;
    this.socket.end();
    // a peer that never reads must not keep the socket (and its buffers) alive
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }

  private finish(): void {
    const h = this.handler;
    this.handler = undefined;
    this.ended = true;
    h?.closed();
  }
}
