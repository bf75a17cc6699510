// index.js, not the package root: 1.1.0's package.json names a `main` (iroh-js/index.js) that it does
// not ship, so the bare name still loads but prints a DEP0128 warning on every start
import { Endpoint, EndpointAddr, EndpointId, type Connection, type Incoming, type RecvStream, type SendStream } from '@number0/iroh/index.js';
import { ed25519PublicKeyOf } from '../util/ed25519.js';
import { encodeFrame } from './frame.js';
import { S2sLink, type LinkSide, type LinkStream } from './link.js';

/**
 * The iroh transport of federation links (#14, federation.md "Transport"): QUIC between iroh
 * endpoints whose secret key is the federation key, so the endpoint id is the peer id and QUIC's
 * handshake proves the peer holds it (as TLS 1.3 does for tls-link.ts). One endpoint per server
 * both listens and dials; a link is one bi-stream, opened by the dialer, on its own connection.
 */

export const S2S_ALPN = 'freeq/s2s/1';
const ALPN = [...Buffer.from(S2S_ALPN)];

/** bytes asked of one read: the binding allocates this much per call and hands back a JS array */
const READ_CHUNK = 64 * 1024;
/** most bytes per write call: the binding takes Array<number>, one JS number per byte */
const MAX_WRITE = 64 * 1024;
/** end() gives the peer this long to acknowledge what is queued before the connection is cut */
const END_GRACE_MS = 5_000;

/** PKCS#8 DER prefix of an ed25519 private key; the 32-byte seed follows (keys/peer-identity.ts) */

const hex = (bytes: number[]): string => Buffer.from(bytes).toString('hex');
const utf8Array = (s: string): number[] => [...Buffer.from(s)];

/**
 * A binding error in one line: its messages name Rust source paths, and under RUST_BACKTRACE a
 * backtrace follows; the chain of causes is what an operator needs.
 */
export function irohErrorMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text.split('\n');
  const bt = lines.findIndex((l) => l.startsWith('Stack backtrace:'));
  return lines.slice(0, bt < 0 ? undefined : bt)
    .map((l) => l.replace(/\s*\([^()]*:\d+:\d+\)$/, '').trim())
    .filter((l) => l !== '' && l !== 'Caused by:')
    .join(': ').slice(0, 500);
}

/** The binding parses a JS array, not a Buffer; a plain loop is ~5x faster than Array.from. */
function toArray(buf: Buffer): number[] {
  const out = new Array<number>(buf.length);
  for (let i = 0; i < buf.length; i++) out[i] = buf[i]!;
  return out;
}

/** An iroh endpoint bound with this server's federation key. */
export class IrohEndpoint {
  /** set by listenS2sIroh: an endpoint has one accept loop */
  listening = false;
  constructor(
    /** the binding's endpoint: for listenS2sIroh / dialS2sIroh only */
    readonly inner: Endpoint,
    /** = the endpoint id, checked against node:crypto's key for the same seed */
    readonly peerId: string,
  ) {}

  /** 'host:port' of each UDP socket bound (iroh adds an IPv6 socket to an IPv4 bindAddr) */
  boundAddrs(): string[] {
    return this.inner.boundSockets();
  }

  /** closes every connection (their links see 'connection closed') and ends the accept loop */
  async close(): Promise<void> {
    await this.inner.close();
  }
}

export interface IrohEndpointOptions {
  /** the federation key: the 32-byte ed25519 seed of iroh-key.secret */
  seed: Uint8Array;
  /** UDP address to bind (port 0: any); without it iroh picks its own */
  bindAddr?: { host: string; port: number };
  /** 'default': n0's relays for NAT traversal; 'disabled': direct addresses only (tests, private networks) */
  relayMode: 'default' | 'disabled';
}

export async function openIrohEndpoint(opts: IrohEndpointOptions): Promise<IrohEndpoint> {
  if (opts.seed.length !== 32) throw new Error(`the federation key must be a 32-byte seed, not ${opts.seed.length} bytes`);
  const seed = Buffer.from(opts.seed);
  const expected = ed25519PublicKeyOf(seed).toString('hex');
  const b = Endpoint.builder();
  if (opts.relayMode === 'default') b.applyN0(); else b.applyN0DisableRelay();
  b.secretKey([...seed]);
  b.alpns([ALPN]);
  if (opts.bindAddr) {
    const { host, port } = opts.bindAddr;
    b.bindAddr(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  }
  const ep = await b.bind();
  const id = hex(ep.id().toBytes());
  if (id !== expected) {
    await ep.close();
    // peers know this server by the key's id: an endpoint under any other id could never be dialed
    throw new Error(`iroh endpoint id ${id} is not the federation key's peer id ${expected}`);
  }
  return new IrohEndpoint(ep, id);
}

/**
 * One bi-stream (and the connection it lives on) as a link's stream. Frames written in one
 * event-loop turn, and while a write is in flight, go to the binding as one write: every byte
 * crosses as a JS number, so one call per frame halves the throughput (federation.md). Only one
 * write is ever in flight, which also keeps frames in order (the binding's calls race for the stream).
 */
export function irohStream(send: SendStream, recv: RecvStream, conn: Connection): LinkStream {
  let queue: Buffer[] = [];
  let pending = 0;
  let writing = false;
  let scheduled = false;
  let ending = false;
  let closed = false;
  let paused = false;
  let reading = false;
  /** a chunk that arrived after pause(), delivered on resume() */
  let held: Buffer | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let onData: ((chunk: Buffer) => void) | undefined;
  const onClose: (() => void)[] = [];

  const done = (code: bigint, reason: string): void => {
    if (closed) return;
    closed = true;
    queue = [];
    pending = 0;
    held = undefined;
    clearTimeout(graceTimer);
    try { conn.close(code, utf8Array(reason)); } catch { /* already closed */ }
    // on a later tick, as a socket's 'close': a caller of destroy() finishes before it hears of it
    process.nextTick(() => { for (const cb of onClose) cb(); });
  };
  // an exception in a link's handler is a bug: raise it as a socket's 'data' handler would, never
  // as a rejected promise nobody awaits
  const raise = (e: unknown): void => { done(1n, 'internal error'); process.nextTick(() => { throw e; }); };

  // Closing a QUIC connection discards what the peer has received but not yet read, so the side
  // that ends only sends FIN (after what is queued) and waits: the peer closes the connection once it
  // has read up to that FIN (read() below), or the grace timer does.
  const finishSend = (): void => {
    send.finish().then(() => {}, () => done(1n, 'finish failed')).catch(raise);
  };

  const flush = (): void => {
    scheduled = false;
    if (closed || writing) return;
    if (queue.length === 0) { if (ending) finishSend(); return; }
    let n = 0, i = 0;
    while (i < queue.length && n < MAX_WRITE) n += queue[i++]!.length;
    const batch = i === 1 ? queue[0]! : Buffer.concat(queue.slice(0, i), n);
    queue = queue.slice(i);
    writing = true;
    send.writeAll(toArray(batch)).then(() => {
      writing = false;
      pending -= n;
      flush();
    }, () => done(1n, 'write failed')).catch(raise);
  };

  const read = (): void => {
    if (closed || paused || reading || !onData) return;
    reading = true;
    recv.read(READ_CHUNK).then((bytes) => {
      reading = false;
      if (closed) return;
      // an empty read is the peer's FIN: it is leaving and we have all it sent, so close (no half-open links)
      if (bytes.length === 0) { done(0n, 'end'); return; }
      const chunk = Buffer.from(bytes);
      if (paused) { held = chunk; return; }
      onData?.(chunk);
      read();
    }, () => done(1n, 'read failed')).catch(raise);
  };

  const end = (): void => {
    if (closed || ending) return;
    ending = true;
    graceTimer = setTimeout(() => done(1n, 'end timed out'), END_GRACE_MS);
    if (!writing && !scheduled) flush();
  };

  // closed by the peer, by idle timeout or by the endpoint's close()
  conn.closed().then(() => done(0n, 'closed'), () => done(0n, 'closed')).catch(raise);

  return {
    write: (data) => {
      if (closed || ending) return;
      queue.push(data);
      pending += data.length;
      if (!scheduled && !writing) { scheduled = true; setImmediate(flush); }
    },
    get pending() { return pending; },
    end,
    destroy: () => { done(1n, 'closed'); },
    pause: () => { paused = true; },
    resume: () => {
      if (!paused) return;
      paused = false;
      // on a later turn, as a socket's resume() does: the caller may still be in a handler
      setImmediate(() => {
        if (paused || closed) return;
        const chunk = held;
        held = undefined;
        try { if (chunk) onData?.(chunk); } catch (e) { raise(e); return; }
        read();
      });
    },
    // reading starts with the first reader: nothing read is ever dropped for want of one
    onData: (cb) => { onData = cb; read(); },
    onClose: (cb) => { onClose.push(cb); },
  };
}

type ListenSide = LinkSide & { allowed(peerId: string): boolean; handshakeTimeoutMs?: number };

function checkSelf(ep: IrohEndpoint, side: LinkSide): void {
  if (side.self.peerId !== ep.peerId) throw new Error(`link side ${side.self.peerId} is not the endpoint's id ${ep.peerId}`);
}

/**
 * Accept links on the endpoint: QUIC proved the dialer's endpoint id, which `allowed` (the
 * allowlist) must accept; any other peer gets a refusal on the stream it opened, then is closed.
 * The loop ends when the endpoint is closed.
 */
export function listenS2sIroh(ep: IrohEndpoint, side: ListenSide): void {
  checkSelf(ep, side);
  if (ep.listening) throw new Error('this iroh endpoint already has a listener');
  ep.listening = true;
  const accept = async (): Promise<void> => {
    for (let inc = await ep.inner.acceptNext(); inc; inc = await ep.inner.acceptNext()) {
      void incoming(inc, side).catch(() => { /* a failed handshake: nothing to log per attempt */ });
    }
  };
  void accept().catch(() => { /* the endpoint closed under a pending accept */ });
}

async function incoming(inc: Incoming, side: ListenSide): Promise<void> {
  const remote = (await inc.remoteAddr().catch(() => null))?.addr ?? null;
  const conn = await (await inc.accept()).connect();
  const id = hex(conn.remoteId().toBytes());
  // the dialer's stream reaches us with its first bytes (its hello): one that never sends is cut
  const timer = setTimeout(() => conn.close(1n, utf8Array('no stream in time')), side.handshakeTimeoutMs ?? 10_000);
  const bi = await conn.acceptBi().finally(() => clearTimeout(timer));
  const stream = irohStream(bi.send, bi.recv, conn);
  if (!side.allowed(id)) {
    side.log.warn({ peer: id, remote, reason: 'not in the allowlist' }, 'Rejecting S2S connection');
    stream.write(encodeFrame({ type: 'refusal', reason: 'not in the allowlist' }));
    stream.end();
    return;
  }
  new S2sLink(stream, id, side, 'in');
}

/**
 * Dial a peer by its id (`expect`), at the given direct UDP addresses ('host:port') or, without
 * them, wherever discovery finds it. QUIC refuses an endpoint holding another key; the id is checked
 * here too so a binding that did otherwise would still not link to the wrong server.
 */
export async function dialS2sIroh(ep: IrohEndpoint, side: LinkSide & { expect: string; addrs?: string[] }): Promise<S2sLink> {
  checkSelf(ep, side);
  if (!/^[0-9a-f]{64}$/.test(side.expect)) throw new Error(`not a peer id: ${side.expect}`);
  const addr = new EndpointAddr(EndpointId.fromBytes([...Buffer.from(side.expect, 'hex')]), null, side.addrs ?? []);
  let conn: Connection;
  try {
    conn = await ep.inner.connect(addr, ALPN);
  } catch (e) {
    throw new Error(`iroh dial to ${side.expect} failed: ${irohErrorMessage(e)}`, { cause: e });
  }
  const id = hex(conn.remoteId().toBytes());
  if (id !== side.expect) {
    side.log.warn({ peer: id, expected: side.expect, reason: 'endpoint is not the pinned peer id' }, 'Rejecting S2S connection');
    conn.close(1n, utf8Array('not the pinned peer id'));
    throw new Error(`peer dialed as ${side.expect} is ${id}`);
  }
  const bi = await conn.openBi().catch((e: unknown) => { conn.close(1n, utf8Array('no stream')); throw e; });
  return new S2sLink(irohStream(bi.send, bi.recv, conn), id, side, 'out');
}
