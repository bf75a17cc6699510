import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import util from 'node:util';
import type { Addr } from '../config/schema.js';
import { normalizeIp as normalizeAddress } from '../util/cidr.js';
import type { IrcConn, PeerInfo, TransportKind } from './conn.js';
import { refusalLine, type Admission, type RefusalKind, type Ticket } from './admission.js';
import { PROXY_HEADER_TIMEOUT_MS, readProxyHeader } from './proxy-protocol.js';
import { SocketConn } from './socket-conn.js';
import { leanCheck, leanConnClass, peerAddress, takeOverAccept, type LeanConn, type RawHandle } from './lean-tcp.js';

export type Accept = (conn: IrcConn) => void;

export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '0.0.0.0';
  return normalizeAddress(ip);
}

export function peerOf(socket: Socket, kind: TransportKind, secure: boolean): PeerInfo {
  return { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0, kind, secure };
}

export async function listen(server: NetServer, addr: Addr): Promise<void> {
  // a plain-TCP listener with lean-sockets knows its socket layer before it accepts anyone
  await (server as Partial<TcpListener>).layerDecided;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => { server.off('error', reject); resolve(); });
  });
}

export interface ListenerDeps {
  readq: number;
  accept: Accept;
  admission: Admission;
  /** deadline for a trusted proxy's PROXY header (default 5 s) */
  proxyHeaderTimeoutMs?: number;
  /**
   * Listeners that read a PROXY header (listen-proxy-protocol, tls-listen-proxy-protocol), and
   * then only from trusted-proxies (#12 finding 7): on any other listener, or from any other
   * peer, the first bytes are the client's own.
   */
  proxyProtocol?: { tcp?: boolean; tls?: boolean };
  /** plain TCP on bare handles (transport/lean-tcp.ts) where this Node allows it */
  leanSockets?: boolean;
  /**
   * accept() failed (EMFILE at the descriptor limit, ENFILE, ENOBUFS): the listener goes on. Without
   * this, net.Server emits such a failure as an 'error' event, which would stop the process.
   */
  acceptFailed?: (err: Error, listener: 'tcp' | 'tls') => void;
}

/** after `server` listens, failed accepts go to `d.acceptFailed` instead of becoming fatal */
function keepListeningOnAcceptErrors(server: NetServer, d: ListenerDeps, listener: 'tcp' | 'tls'): void {
  server.once('listening', () => server.on('error', (e) => d.acceptFailed?.(e, listener)));
}

/** #12 finding 7: a PROXY header is read only on a listener configured for it, from a trusted proxy */
function readsProxyHeader(d: ListenerDeps, kind: 'tcp' | 'tls', peerIp: string): boolean {
  return d.proxyProtocol?.[kind] === true && d.admission.isTrustedProxy(peerIp);
}

/** Say why, close (the peer gets the line, then EOF), and never read what it sent. */
function refuseSocket(socket: Socket, kind: RefusalKind): void {
  socket.resume(); // discard input, so unread bytes don't turn our FIN into a RST
  socket.end(refusalLine(kind));
  setTimeout(() => socket.destroy(), 2000).unref();
}

const TICKET = Symbol('freeq.ticket');
type AdmittedSocket = Socket & { [TICKET]?: Ticket };
// shared listeners (`this` is the socket): no closure per connection
function destroyOnError(this: Socket): void { this.destroy(); }

/**
 * A failed lean accept as an Error without stack frames. At EMFILE nothing can be opened, and
 * formatting a stack trace with source maps on (tsx, c8) reads source files to decorate it: on
 * Node 22 that threw EMFILE out of the logger and killed the process (accept-limit test).
 */
function acceptError(errno: number): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Object.assign(new Error(`accept failed: ${util.getSystemErrorName(errno)}`), { errno });
  } finally {
    Error.stackTraceLimit = limit;
  }
}
function releaseTicket(this: AdmittedSocket): void { this[TICKET]?.release(); }

/**
 * Everything before a connection exists: on a PROXY listener and from a trusted proxy, the
 * optional PROXY v1/v2 header (its address replaces the peer's); then admission with the resolved
 * address. `admitted` gets the raw socket (paused when a header was read) and the ticket,
 * released when the socket closes.
 */
function admitSocket(socket: Socket, kind: 'tcp' | 'tls', d: ListenerDeps, admitted: (ip: string, port: number, ticket: Ticket) => void): void {
  socket.on('error', destroyOnError);
  const peerIp = normalizeIp(socket.remoteAddress);
  const peerPort = socket.remotePort ?? 0;
  if (!readsProxyHeader(d, kind, peerIp)) { decide(socket, kind, d, admitted, peerIp, peerPort); return; }
  readProxyHeader(socket, d.proxyHeaderTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS, (res) => {
    if (!res.ok) {
      // a proxy's health check connects and closes without a byte: not worth a warning
      if (!res.closed) d.admission.badProxyHeader(peerIp, res.reason);
      socket.destroy();
      return;
    }
    decide(socket, kind, d, admitted, res.source?.ip ?? peerIp, res.source?.port ?? peerPort);
  });
}

function decide(socket: Socket, kind: TransportKind, d: ListenerDeps, admitted: (ip: string, port: number, ticket: Ticket) => void, ip: string, port: number): void {
  if (socket.destroyed) return;
  const r = d.admission.admit(ip, kind);
  if (typeof r === 'string') { refuseSocket(socket, r); return; }
  (socket as AdmittedSocket)[TICKET] = r;
  socket.on('close', releaseTicket); // release is idempotent
  admitted(ip, port, r);
}

export interface TcpListener extends NetServer {
  /** what plain TCP clients run on, known once listening: bare handles or net.Socket */
  socketLayer: 'lean' | 'net';
  /** with lean-sockets asked for and not used: why (the self-test failed, --throw-deprecation, …) */
  leanUnavailable?: string;
  /** @internal settled once lean-sockets' self-test has run (listen() waits for it) */
  layerDecided?: Promise<void>;
}

/**
 * Plain IRC. With `leanSockets` (and a Node whose lean path passes its self-test, run before the
 * listener listens), every client is served on its bare handle: a trusted proxy's PROXY header
 * (with listen-proxy-protocol) is read there, then admission, then a LeanConn, counted by the
 * listener as a net.Socket would be (getConnections(), close()).
 * Otherwise net.Server hands over a net.Socket: PROXY header and admission on the socket, then a
 * SocketConn.
 */
export function createTcpListener(d: ListenerDeps): TcpListener {
  const server = createNetServer({ noDelay: true }, (socket) => {
    admitSocket(socket, 'tcp', d, (ip, port) => d.accept(new SocketConn(socket, { ip, port, kind: 'tcp', secure: false }, d.readq)));
  }) as TcpListener;
  server.socketLayer = 'net';
  keepListeningOnAcceptErrors(server, d, 'tcp');
  if (d.leanSockets) {
    server.layerDecided = leanCheck().then((why) => {
      if (why !== undefined) { server.leanUnavailable = why; return; }
      const Conn = leanConnClass(server);
      server.once('listening', () => {
        const failed = (errno: number): void => d.acceptFailed?.(acceptError(errno), 'tcp');
        if (takeOverAccept(server, (h) => acceptLean(h, d, Conn), failed)) server.socketLayer = 'lean';
        else server.leanUnavailable = 'the listening handle cannot be taken over';
      });
    });
  }
  return server;
}

/** A bare handle: the PROXY header (PROXY listener, trusted proxy), admission, then a LeanConn. */
function acceptLean(h: RawHandle, d: ListenerDeps, Conn: typeof LeanConn): void {
  const peer = peerAddress(h);
  if (!peer) { h.close(); return; } // reset before we saw it
  const peerIp = normalizeIp(peer.address);
  const conn = new Conn(h, peerIp, peer.port, d.readq);
  if (!readsProxyHeader(d, 'tcp', peerIp)) { admitLean(conn, d, peerIp, peer.port); return; }
  conn.readProxyHeader(d.proxyHeaderTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS, (res) => {
    if (!res.ok) {
      // a proxy's health check connects and closes without a byte: not worth a warning
      if (!res.closed) d.admission.badProxyHeader(peerIp, res.reason);
      conn.destroy();
      return;
    }
    admitLean(conn, d, res.source?.ip ?? peerIp, res.source?.port ?? peer.port);
  });
}

function admitLean(conn: LeanConn, d: ListenerDeps, ip: string, port: number): void {
  const r = d.admission.admit(ip, 'tcp');
  if (typeof r === 'string') { conn.refuse(Buffer.from(refusalLine(r))); return; }
  conn.admitted(ip, port, r);
  d.accept(conn);
}

export interface TlsListener extends NetServer {
  /**
   * re-read the certificate and key (REHASH, SIGHUP), from new paths when given; new connections
   * use them. Throws (keeping the old ones) when they cannot be read or do not match.
   */
  reloadCertificate(certFile?: string, keyFile?: string): void;
}

/**
 * IRC over TLS as a plain net.Server: PROXY header and admission happen on the raw socket (a
 * refused client costs no handshake and gets a plaintext ERROR), then the socket is wrapped in a
 * server-side TLSSocket. The whole pre-registration phase — PROXY header plus handshake — must
 * finish within tls-handshake-timeout.
 */
export function createTlsListener(certFile: string, keyFile: string, d: ListenerDeps): TlsListener {
  const load = (cert = certFile, key = keyFile): SecureContext => createSecureContext({
    cert: readFileSync(cert),
    key: readFileSync(key),
    minVersion: 'TLSv1.2', // hardening A8
  });
  let secureContext = load();
  const server = createNetServer({ noDelay: true }, (socket) => {
    let tlsSocket: TLSSocket | undefined;
    const timer = setTimeout(() => {
      d.admission.handshakeTimedOut(normalizeIp(socket.remoteAddress));
      tlsSocket?.destroy();
      socket.destroy();
    }, d.admission.handshakeTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    admitSocket(socket, 'tls', d, (ip, port, ticket) => {
      const t = new TLSSocket(socket, { isServer: true, secureContext, requestCert: false, rejectUnauthorized: false });
      tlsSocket = t;
      // a failed handshake must not surface as an unhandled error
      t.on('error', () => { clearTimeout(timer); t.destroy(); });
      t.once('close', () => { clearTimeout(timer); ticket.release(); });
      t.once('secure', () => {
        clearTimeout(timer);
        d.accept(new SocketConn(t, { ip, port, kind: 'tls', secure: true }, d.readq));
      });
    });
  }) as TlsListener;
  server.reloadCertificate = (cert = certFile, key = keyFile) => {
    secureContext = load(cert, key);
    certFile = cert;
    keyFile = key;
  };
  keepListeningOnAcceptErrors(server, d, 'tls');
  return server;
}
