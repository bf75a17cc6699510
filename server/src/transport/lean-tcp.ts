/**
 * Plain-TCP clients on libuv's TCP handle itself, without a net.Socket (option `lean-sockets`).
 *
 * Why hand-written: a net.Socket is a Duplex stream with two stream states, event emitter fields
 * and per-write request objects; it costs ~2.5 kB of memory per idle connection before any IRC
 * state (bench idle: a bare net.Server holds 10,000 clients at 4.2 kB each, the same server on the
 * bare handle at 1.7 kB). No library offers a lighter socket for Node, so this module talks to the
 * handle through `process.binding('tcp_wrap' | 'stream_wrap')`, the same internal bindings
 * net.Socket is built on. They are not a public API, so before a listener takes them up it runs
 * a self-test (`leanCheck()`, once per process, a few ms): a loopback connection through this very
 * path that reads, writes, shuts down, sees EOF and a reset, and is counted by its listener. On any
 * failure, or under --throw-deprecation (process.binding is DEP0111, a pending deprecation that
 * --pending-deprecation turns into a warning and --throw-deprecation into a crash on the next
 * tick), the listener keeps using net.Socket (logged once, with the reason). TLS and WebSocket
 * always use net.Socket. A trusted proxy's optional PROXY header is read here too
 * (readProxyHeader: the same decisions as proxy-protocol.ts's stream reader).
 *
 * Lean clients are counted in their net.Server's own connection count (`_connections`, as
 * net.Socket clients are), so `getConnections()` sees them and `close()` waits for them.
 *
 * What it keeps of net.Socket's semantics: writes are handed to the kernel in order; a write the
 * kernel cannot take at once stays queued in libuv (`writeQueueSize`, counted by pendingBytes for
 * the sendq); end-of-stream or any read/write error closes the connection; close() flushes,
 * sends FIN after the queued output (shutdown), reads and discards until the peer's FIN (so
 * unread input does not turn the FIN into a RST) and force-closes after 2 s.
 */
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { FLOOD_ERROR, LineReader, type LineSink } from './line-reader.js';
import { READ_BUDGET, scheduleFlush, type ConnHandler, type IrcConn, type PeerInfo } from './conn.js';
import type { Ticket } from './admission.js';
import { PROXY_CLOSED, proxyDeadline, proxyDecision, type ProxyRead } from './proxy-protocol.js';

/** a libuv TCP stream handle as the binding exposes it (node/src/stream_base.cc, tcp_wrap.cc) */
export interface RawHandle {
  onread: ((this: RawHandle, ab: ArrayBuffer | undefined) => void) | null;
  readonly writeQueueSize: number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: object, buf: Buffer): number;
  shutdown(req: object): number;
  getpeername(out: { address?: string; port?: number }): number;
  setNoDelay(on: boolean): number;
  close(cb?: () => void): void;
}

interface StreamBinding {
  WriteWrap: new () => Record<string, unknown>;
  ShutdownWrap: new () => Record<string, unknown>;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
}

/**
 * Where a handle keeps its connection: Node's own `owner_symbol` property, which every accepted
 * handle already has (net.Socket stores itself there). A new property would grow each handle's
 * property array (~24 B per connection). Found on the first handle; a symbol of ours otherwise.
 */
let OWNER: symbol | undefined;
function ownerKey(h: RawHandle): symbol {
  OWNER ??= Object.getOwnPropertySymbols(h).find((s) => s.description === 'owner_symbol') ?? Symbol('freeq.leanConn');
  return OWNER;
}
type Owned = RawHandle & Record<symbol, LeanConn | undefined>;
const FORCE_CLOSE_MS = 2000;

let binding: StreamBinding | null | undefined;
/** why the bindings are not used (set when leanBinding() returns null) */
let bindingProblem = '';

/**
 * The stream binding, or null when it must not be used: no process.binding, or --throw-deprecation
 * (with --pending-deprecation, process.binding emits DEP0111, which would then be thrown on the next
 * tick, out of reach of any try/catch; Node 20 and 22 alike). Whether the bindings work is for the
 * self-test (leanCheck) to find out.
 */
export function leanBinding(): StreamBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  const proc = process as unknown as { binding?: (name: string) => unknown; throwDeprecation?: boolean };
  if (proc.throwDeprecation === true) {
    bindingProblem = 'process.binding is deprecated (DEP0111) and --throw-deprecation is set';
    return null;
  }
  if (typeof proc.binding !== 'function') {
    bindingProblem = 'this Node has no process.binding';
    return null;
  }
  try {
    // tcp_wrap must load too: accepted handles are its TCP objects
    proc.binding('tcp_wrap');
    binding = proc.binding('stream_wrap') as StreamBinding;
  } catch (e) {
    bindingProblem = `process.binding failed: ${(e as Error).message}`;
  }
  return binding;
}

/** a net.Server's listening handle (internal `_handle`), if it is one the lean path can take over */
function listenHandle(server: NetServer): { onconnection: unknown } | undefined {
  const h = (server as unknown as { _handle?: { onconnection?: unknown } })._handle;
  return h && typeof h.onconnection === 'function' ? (h as { onconnection: unknown }) : undefined;
}

/**
 * Once `server` listens, its accepted handles go to `take` instead of becoming net.Sockets. A failed
 * accept (EMFILE at the descriptor limit, ECONNABORTED) is skipped: libuv has already dealt with
 * the connection, and net.Server would emit it as an 'error' event. Returns false (and changes
 * nothing) if this Node does not offer what the lean path needs.
 */
export function takeOverAccept(server: NetServer, take: (h: RawHandle) => void, acceptFailed?: (errno: number) => void): boolean {
  if (!leanBinding()) return false;
  const lh = listenHandle(server);
  if (!lh) return false;
  lh.onconnection = (err: number, client: RawHandle | undefined): void => {
    if (err === 0 && client) take(client);
    else acceptFailed?.(err);
  };
  return true;
}

/** the peer's address of an accepted handle, or undefined if the socket is already gone */
export function peerAddress(h: RawHandle): { address: string; port: number } | undefined {
  const out: { address?: string; port?: number } = {};
  if (h.getpeername(out) !== 0 || !out.address) return undefined;
  return { address: out.address, port: out.port ?? 0 };
}

// Shared callbacks (`this` is the handle or the request): no closures per connection.
function onRead(this: RawHandle, ab: ArrayBuffer | undefined): void {
  const c = (this as Owned)[OWNER!];
  if (!c) return;
  const b = binding!;
  const n = b.streamBaseState[b.kReadBytesOrError]!;
  if (n < 0) { c.destroy(); return; } // end of stream or a read error: either way the peer is gone
  if (n === 0 || !ab) return;
  c.received(Buffer.from(ab, b.streamBaseState[b.kArrayBufferOffset], n));
}
function onWritten(this: { conn: LeanConn }, status: number): void {
  if (status < 0) this.conn.destroy();
  else this.conn.written();
}
function onShutdown(this: { conn: LeanConn }, status: number): void {
  if (status < 0) this.conn.destroy();
}
function endOfSlice(c: LeanConn): void { c.nextSlice(); }
function forceClose(c: LeanConn): void { c.destroy(); }
function headerDeadline(c: LeanConn): void { c.headerTimedOut(); }
function feedEarly(c: LeanConn, bytes: Buffer): void { c.early(bytes); }
const NO_BYTES = Buffer.alloc(0);

// LeanConn state bits (one small integer instead of six booleans: ~40 B less per connection)
const READING = 1;
/** close() was called: input is discarded, output ends after what is queued */
const CLOSING = 2;
/** nothing more is accepted for writing (set once close() has flushed) */
const ENDED = 4;
/** the handle is closed or closing; nothing more is written */
const DEAD = 8;
/** reading paused by the session (an async command, fakelag) / by the read budget */
const HELD_BY_SESSION = 16;
const HELD_BY_BUDGET = 32;

/**
 * A net.Server's own count of its connections (internal, as net.Socket uses it): getConnections()
 * reports it, and close() emits 'close' only once it is 0 and the listening handle is closed.
 */
interface ListenerCount { _connections: number; _emitCloseIfDrained(): void }

/** Before admission: a trusted proxy's PROXY header being read, then the bytes that followed it. */
interface Pre { bytes: Buffer; done?: (r: ProxyRead) => void }

/**
 * A plain-TCP client on a bare handle: the same IrcConn contract as SocketConn. It is its own line
 * reader (LineReader by inheritance, one object less per connection) and its own line sink.
 */
export class LeanConn extends LineReader implements IrcConn, LineSink {
  /**
   * The listener that counts this connection, or none. Not a field: it sits on the prototype of
   * the listener's own subclass (leanConnClass), so it costs nothing per connection.
   */
  declare protected readonly counter: ListenerCount | undefined;
  /** output of this turn: nothing, one line, or several (most turns write one line) */
  private out: Buffer | Buffer[] | undefined = undefined;
  private outBytes = 0;
  private bits = 0;
  private sliceBytes = 0;
  private handler?: ConnHandler = undefined;
  private timer?: NodeJS.Timeout = undefined;
  private pre?: Pre = undefined;

  constructor(private readonly h: RawHandle, private ip: string, private port: number, readq: number, private ticket?: Ticket) {
    super(readq);
    const l = this.counter;
    if (l) l._connections++;
    (h as Owned)[ownerKey(h)] = this;
    h.onread = onRead;
    h.setNoDelay(true); // latency at light load, as on every other transport
  }

  start(handler: ConnHandler): void {
    this.handler = handler;
    const rest = this.pre?.bytes;
    this.pre = undefined;
    // bytes that came with the PROXY header go first, on a later turn (as a resumed stream's would)
    if (rest && rest.length > 0) setImmediate(feedEarly, this, rest);
    else this.startReading();
  }

  /** made when asked (a few times per connection): two fields cost less than an object per client */
  get peer(): PeerInfo {
    return { ip: this.ip, port: this.port, kind: 'tcp', secure: false };
  }

  /** Admission let this client in (after a PROXY header: under the address it named). */
  admitted(ip: string, port: number, ticket: Ticket): void {
    this.ip = ip;
    this.port = port;
    this.ticket = ticket;
  }

  /**
   * From a trusted proxy: an optional PROXY v1/v2 header first. `done` gets the source address it
   * names (none without a header, or for LOCAL/UNKNOWN); a partial or malformed header, or one not
   * complete within `timeoutMs`, is `ok: false`, and so is a peer that closes first (`closed`).
   * Nothing at all within `timeoutMs` counts as no header. Reading stops until start().
   */
  readProxyHeader(timeoutMs: number, done: (r: ProxyRead) => void): void {
    this.pre = { bytes: NO_BYTES, done };
    this.timer = setTimeout(headerDeadline, timeoutMs, this);
    this.timer.unref();
    this.startReading();
  }

  /** @internal */
  headerTimedOut(): void {
    if (this.pre?.done) this.headerDone(proxyDeadline(this.pre.bytes));
  }

  private headerBytes(pre: Pre, chunk: Buffer): void {
    pre.bytes = pre.bytes.length === 0 ? chunk : Buffer.concat([pre.bytes, chunk]);
    const d = proxyDecision(pre.bytes);
    if (d) this.headerDone(d.read, d.rest);
  }

  private headerDone(r: ProxyRead, rest?: Buffer): void {
    const done = this.pre?.done;
    if (!done) return;
    this.pre = rest && rest.length > 0 ? { bytes: rest } : undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopReading();
    done(r);
  }

  /** @internal the bytes that followed the PROXY header, then the socket itself */
  early(bytes: Buffer): void {
    this.received(bytes);
    if ((this.bits & (HELD_BY_SESSION | HELD_BY_BUDGET)) === 0) this.startReading();
  }

  /** Admission refused this client: send `line`, then close as close() does. */
  refuse(line: Buffer): void {
    this.write(line);
    this.close(); // its input is read and discarded until EOF, so our FIN is not turned into a RST
  }

  /** @internal bytes from the peer */
  received(chunk: Buffer): void {
    if (this.pre?.done) { this.headerBytes(this.pre, chunk); return; }
    if (this.bits & CLOSING) return;
    this.push(chunk);
    this.sliceBytes += chunk.length;
    if (this.sliceBytes >= READ_BUDGET && (this.bits & (HELD_BY_BUDGET | DEAD)) === 0) {
      this.bits |= HELD_BY_BUDGET;
      this.stopReading();
      setImmediate(endOfSlice, this); // after this turn's output flush (scheduled earlier)
    }
  }

  /** @internal the turn after a full slice: read on unless the session holds reading */
  nextSlice(): void {
    this.bits &= ~HELD_BY_BUDGET;
    this.sliceBytes = 0;
    if ((this.bits & HELD_BY_SESSION) === 0) this.startReading();
  }

  // LineSink
  line(l: Buffer): void { this.handler?.connLine(l); }
  overflow(): void { this.handler?.connOverflow(); }
  /** hardening B1: after 1 MiB of one line without LF, say why and close */
  flood(): void { this.write(FLOOD_ERROR); this.close(); }

  write(line: Buffer): void {
    if (this.bits & ENDED) return;
    const o = this.out;
    if (o === undefined) {
      this.out = line;
      scheduleFlush(this);
    } else if (Array.isArray(o)) {
      o.push(line);
    } else {
      this.out = [o, line];
    }
    this.outBytes += line.length;
  }

  flush(): void {
    const o = this.out;
    if (o === undefined) return;
    const total = this.outBytes;
    this.out = undefined;
    this.outBytes = 0;
    if (this.bits & DEAD) return;
    // one write per turn: copying the lines into one buffer is cheaper than a request per line
    const buf = Array.isArray(o) ? Buffer.concat(o, total) : o;
    const req = new binding!.WriteWrap();
    // the request holds the buffer until libuv is done with it (as net.Socket's writeGeneric does)
    req.handle = this.h;
    req.oncomplete = onWritten;
    req.buffer = buf;
    req.conn = this;
    if (this.h.writeBuffer(req, buf) !== 0) this.destroy();
  }

  /** @internal a write libuv could not complete at once is done: tell the session when nothing waits */
  written(): void {
    if (this.h.writeQueueSize === 0 && this.outBytes === 0) this.handler?.connDrained();
  }

  pendingBytes(): number {
    return this.outBytes + (this.bits & DEAD ? 0 : this.h.writeQueueSize);
  }

  pause(): void {
    this.bits |= HELD_BY_SESSION;
    if ((this.bits & CLOSING) === 0) this.stopReading();
  }

  resume(): void {
    this.bits &= ~HELD_BY_SESSION;
    if ((this.bits & HELD_BY_BUDGET) === 0) this.startReading();
  }

  close(): void {
    if (this.bits & (CLOSING | DEAD)) return;
    this.bits |= CLOSING;
    this.flush();
    this.bits |= ENDED;
    if (this.bits & DEAD) return;
    // keep reading (input is discarded) so the peer's FIN is seen and the handle closes at once
    this.startReading();
    const req = new binding!.ShutdownWrap();
    req.handle = this.h;
    req.oncomplete = onShutdown;
    req.conn = this;
    if (this.h.shutdown(req) !== 0) { this.destroy(); return; }
    // a peer that never reads (or never closes) must not keep the handle and its buffers
    this.timer = setTimeout(forceClose, FORCE_CLOSE_MS, this);
    this.timer.unref();
  }

  /** @internal close the handle now (peer gone, error, or the close deadline) */
  destroy(): void {
    if (this.bits & DEAD) return;
    if (this.pre?.done) this.headerDone(PROXY_CLOSED);
    this.bits |= DEAD | CLOSING | ENDED;
    if (this.timer) clearTimeout(this.timer);
    this.out = undefined;
    this.outBytes = 0;
    this.stopReading();
    this.h.close(() => this.finish());
  }

  private finish(): void {
    (this.h as Owned)[OWNER!] = undefined;
    this.ticket?.release();
    this.ticket = undefined;
    const l = this.counter;
    if (l) { l._connections--; l._emitCloseIfDrained(); } // as net.Socket's close does
    const handler = this.handler;
    this.handler = undefined;
    handler?.connClosed();
  }

  private startReading(): void {
    if (this.bits & (READING | DEAD)) return;
    if (this.h.readStart() !== 0) { this.destroy(); return; }
    this.bits |= READING;
  }

  private stopReading(): void {
    if ((this.bits & READING) === 0) return;
    this.bits &= ~READING;
    this.h.readStop();
  }
}

Object.defineProperty(LeanConn.prototype, 'counter', { value: undefined });

/**
 * The LeanConn class of one listener: its connections are counted in `server`'s own connection
 * count, as net.Socket clients are (one subclass per listener; nothing added per connection).
 */
export function leanConnClass(server: NetServer): typeof LeanConn {
  const Counted = class extends LeanConn {};
  Object.defineProperty(Counted.prototype, 'counter', { value: server });
  return Counted;
}

// ---- self-test: the lean path's behaviour, checked before a listener takes it up -----------

const SELF_TEST_MS = 2000;
let checked: Promise<string | undefined> | undefined;

/**
 * Whether plain-TCP listeners may serve clients on bare handles: undefined if so, else why not.
 * Decided once per process: the bindings (leanBinding), then a self-test over loopback through
 * this very path (accept, read, write, shutdown, EOF, reset, the listener's count and close()).
 */
export function leanCheck(): Promise<string | undefined> {
  checked ??= (async () => {
    if (!leanBinding()) return bindingProblem;
    try {
      await selfTest();
      return undefined;
    } catch (e) {
      return `self-test failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  })();
  return checked;
}

/** a probe connection's server side: what it read, and whether it has closed */
class ProbeSide implements ConnHandler {
  readonly lines: string[] = [];
  closed = false;
  constructor(readonly conn: LeanConn, readonly port: number, private readonly changed: () => void) {}
  connLine(l: Buffer): void { this.lines.push(l.toString('latin1')); this.changed(); }
  connOverflow(): void { /* lines here are short */ }
  connClosed(): void { this.closed = true; this.changed(); }
  connDrained(): void { /* probes write a few bytes */ }
}

/** a probe connection's client side (a net.Socket): what it received, and its events */
interface ProbeClient { socket: Socket; data: string; connected: boolean; ended: boolean }

function listenOn(server: NetServer, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => { server.off('error', reject); resolve(); });
  });
}

async function selfTest(): Promise<void> {
  const probe = createNetServer();
  const sides: ProbeSide[] = [];
  const clients: ProbeClient[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let step = 'listen';
  let closeEmitted = false;
  const changed = (): void => { const w = wake; wake = undefined; w?.(); };
  const fail = (e: unknown): void => { failure ??= e instanceof Error ? e : new Error(String(e)); changed(); };
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) {
      if (failure) throw failure;
      await new Promise<void>((r) => { wake = r; });
    }
  };
  const count = (): Promise<number> => new Promise((res, rej) => probe.getConnections((e, n) => (e ? rej(e) : res(n))));
  const side = (c: ProbeClient): ProbeSide => {
    const s = sides.find((x) => x.port === c.socket.localPort);
    if (!s) throw new Error('a client has no server side');
    return s;
  };
  // the shared read callback, guarded: a failure inside it must fail the test, not the process
  function guardedRead(this: RawHandle, ab: ArrayBuffer | undefined): void {
    try { onRead.call(this, ab); } catch (e) { fail(e); }
  }
  const timer = setTimeout(() => fail(new Error(`no progress within ${SELF_TEST_MS} ms at: ${step}`)), SELF_TEST_MS);
  try {
    try { await listenOn(probe, '127.0.0.1'); } catch { await listenOn(probe, '::1'); }
    probe.once('close', () => { closeEmitted = true; changed(); });
    const Conn = leanConnClass(probe);
    const taken = takeOverAccept(probe, (h) => {
      try {
        const peer = peerAddress(h);
        if (!peer) throw new Error('an accepted handle has no peer address');
        const conn = new Conn(h, peer.address, peer.port, 512);
        h.onread = guardedRead;
        const s = new ProbeSide(conn, peer.port, changed);
        sides.push(s);
        conn.start(s);
        changed();
      } catch (e) { fail(e); }
    }, (errno) => fail(new Error(`accept failed (${errno})`)));
    if (!taken) throw new Error('the listening handle cannot be taken over');

    step = 'accept';
    const { address, port } = probe.address() as AddressInfo;
    for (let i = 0; i < 3; i++) {
      const c: ProbeClient = { socket: connect({ host: address, port }), data: '', connected: false, ended: false };
      c.socket.setEncoding('latin1');
      c.socket.on('connect', () => { c.connected = true; changed(); });
      c.socket.on('data', (d: string) => { c.data += d; changed(); });
      c.socket.on('end', () => { c.ended = true; changed(); });
      c.socket.on('error', fail);
      clients.push(c);
    }
    const [a, b, c] = clients as [ProbeClient, ProbeClient, ProbeClient];
    await until(() => sides.length === 3 && clients.every((x) => x.connected));
    step = 'count';
    if (await count() !== 3) throw new Error('the listener does not count its lean connections');

    step = 'read';
    a.socket.write('ping\r\n');
    const sa = side(a);
    await until(() => sa.lines.length > 0);
    if (sa.lines[0] !== 'ping') throw new Error(`read ${JSON.stringify(sa.lines[0])}, not "ping"`);
    step = 'write and shutdown';
    sa.conn.write(Buffer.from('pong\r\n'));
    sa.conn.close(); // flush, then FIN; the client's FIN (allowHalfOpen is off) closes the handle
    await until(() => a.ended && sa.closed);
    if (a.data !== 'pong\r\n') throw new Error(`the client got ${JSON.stringify(a.data)}, not "pong"`);

    step = 'EOF';
    const sb = side(b);
    b.socket.end();
    await until(() => sb.closed);

    step = 'close() waits for lean connections';
    if (await count() !== 1) throw new Error('a closed lean connection is still counted');
    probe.close();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    if (closeEmitted) throw new Error("the listener emitted 'close' with a lean connection open");

    step = 'reset';
    const sc = side(c);
    c.socket.off('error', fail);
    c.socket.on('error', () => {});
    c.socket.resetAndDestroy();
    await until(() => sc.closed && closeEmitted);
  } finally {
    clearTimeout(timer);
    for (const c of clients) c.socket.destroy();
    for (const s of sides) {
      try { s.conn.destroy(); } catch { /* the failure is reported already */ }
    }
    if (probe.listening) probe.close();
  }
}
