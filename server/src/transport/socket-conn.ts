import type { Socket } from 'node:net';
import { FLOOD_ERROR, LineReader, type LineSink } from './line-reader.js';
import { READ_BUDGET, scheduleFlush, type ConnHandler, type IrcConn, type PeerInfo } from './conn.js';

/** the SocketConn a socket belongs to (read by the shared listeners below) */
const CONN = Symbol('freeq.conn');
type OwnedSocket = Socket & { [CONN]?: SocketConn };

// One set of listener functions for every socket (`this` is the socket), instead of closures per
// connection: each closure and its context cost ~100 B per idle client (bench idle heap diff).
function onData(this: OwnedSocket, chunk: Buffer): void { this[CONN]?.received(chunk); }
function onGone(this: OwnedSocket): void { this[CONN]?.destroy(); }
function onClose(this: OwnedSocket): void { this[CONN]?.finish(); }
function onDrain(this: OwnedSocket): void { this[CONN]?.drained(); }
function endOfSlice(c: SocketConn): void { c.nextSlice(); }

/** TCP and TLS: a byte stream framed by LineReader; the conn is its own line sink. */
export class SocketConn implements IrcConn, LineSink {
  private queue: Buffer[] = [];
  private queued = 0;
  private handler?: ConnHandler;
  private reader?: LineReader;
  private ended = false;
  private closing = false;
  /** bytes read since the last slice began (READ_BUDGET) */
  private sliceBytes = 0;
  /** reading paused by the session (an async command, fakelag) / by the read budget */
  private heldBySession = false;
  private heldByBudget = false;

  constructor(private readonly socket: Socket, readonly peer: PeerInfo, private readonly readq: number) {
    socket.setNoDelay(true); // latency at light load (the C servers don't, issue 6)
  }

  start(h: ConnHandler): void {
    this.handler = h;
    this.reader = new LineReader(this.readq, this);
    const s = this.socket as OwnedSocket;
    s[CONN] = this;
    s.on('data', onData);
    s.on('error', onGone);
    s.on('end', onGone);
    s.on('close', onClose);
    s.on('drain', onDrain);
    // a socket whose PROXY header was read arrives paused with the rest pushed back (listeners.ts)
    s.resume();
  }

  /** @internal socket data */
  received(chunk: Buffer): void {
    if (this.closing) return;
    this.reader!.push(chunk);
    this.sliceBytes += chunk.length;
    if (this.sliceBytes >= READ_BUDGET && !this.heldByBudget && !this.socket.destroyed) {
      this.heldByBudget = true;
      this.socket.pause();
      setImmediate(endOfSlice, this); // after this turn's output flush (scheduled earlier)
    }
  }

  /** @internal the turn after a full slice: read on unless the session holds reading */
  nextSlice(): void {
    this.heldByBudget = false;
    this.sliceBytes = 0;
    if (!this.heldBySession && !this.closing) this.socket.resume();
  }

  // LineSink
  line(l: Buffer): void { this.handler?.connLine(l); }
  overflow(): void { this.handler?.connOverflow(); }
  /** hardening B1: after 1 MiB of one line without LF, say why and close */
  flood(): void { this.write(FLOOD_ERROR); this.close(); }

  write(line: Buffer): void {
    if (this.ended) return;
    this.queue.push(line);
    this.queued += line.length;
    if (this.queue.length === 1) scheduleFlush(this);
  }

  flush(): void {
    if (this.queue.length === 0 || this.socket.destroyed) return;
    const q = this.queue;
    const total = this.queued;
    this.queue = [];
    this.queued = 0;
    // one write per turn: copying the lines into one buffer is cheaper than a stream write
    // request per line (Writable allocates one per chunk, and writev hands the kernel each)
    this.socket.write(q.length === 1 ? q[0]! : Buffer.concat(q, total));
  }

  pendingBytes(): number {
    return this.queued + this.socket.writableLength;
  }

  pause(): void { this.heldBySession = true; this.socket.pause(); }
  resume(): void {
    this.heldBySession = false;
    if (!this.heldByBudget) this.socket.resume();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.flush();
    this.ended = true;
    this.socket.end();
    // a peer that never reads must not keep the socket (and its buffers) alive
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** @internal error or EOF from the peer */
  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }

  /** @internal the socket's buffer emptied after a write it could not take at once */
  drained(): void { this.handler?.connDrained(); }

  /** @internal the socket closed */
  finish(): void {
    const h = this.handler;
    this.handler = undefined;
    this.ended = true;
    h?.connClosed();
  }
}
