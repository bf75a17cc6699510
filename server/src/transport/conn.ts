export type TransportKind = 'tcp' | 'tls' | 'ws';

export interface PeerInfo {
  ip: string;
  port: number;
  kind: TransportKind;
  /** TLS or WebSocket over TLS */
  secure: boolean;
  /**
   * The client's iroh endpoint id (64 hex digits, its QUIC key), when it connected over the iroh
   * transport: WHOIS shows it in 672. No client transport runs over iroh yet (TCP, TLS and
   * WebSocket connections leave it unset), so 672 is never sent today (#16).
   */
  iroh?: string;
}

/** Implemented by the session itself (no per-connection closures: they cost memory per client). */
export interface ConnHandler {
  /** one line, CRLF stripped */
  connLine(line: Buffer): void;
  /** a line exceeded readQ (reported once per over-long line) */
  connOverflow(): void;
  /** the peer went away or we closed; called exactly once */
  connClosed(): void;
  /**
   * The kernel has taken what was queued for this connection (a write that had to wait has
   * completed). Backpressure on a client's own replies resumes from here (#12, session.ts).
   */
  connDrained(): void;
}

/**
 * A client connection as the session sees it: lines in, lines out. TCP, TLS and WebSocket
 * implement it, so session code is identical on every transport (ergo:irc/ircconn.go).
 */
export interface IrcConn {
  readonly peer: PeerInfo;
  start(h: ConnHandler): void;
  /** queue one complete line (with CRLF); flushed once per event-loop turn */
  write(line: Buffer): void;
  /** bytes accepted but not yet handed to the kernel, plus the socket's own buffer */
  pendingBytes(): number;
  /** stop reading (backpressure) / resume */
  pause(): void;
  resume(): void;
  /** transport-level keepalive, where the transport has one (WebSocket ping every `intervalMs`) */
  keepalive?(intervalMs: number): void;
  /** flush what is queued, then close */
  close(): void;
}

/**
 * Input handled from one client before its reading pauses until the next event-loop turn. libuv
 * reads a busy socket up to 32 × 64 KiB in one go; a fast sender in a big channel then made one
 * turn of millions of deliveries, and nobody got anything until it ended (the bench fanout sweep
 * saw a second of silence). With a budget, output is flushed between slices of input.
 */
export const READ_BUDGET = 64 * 1024;

// ---- write batching: every dirty connection is flushed once per event-loop turn ----------

export interface Flushable { flush(): void }
const dirty = new Set<Flushable>();
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  for (const c of dirty) c.flush();
  dirty.clear();
}

export function scheduleFlush(c: Flushable): void {
  dirty.add(c);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
