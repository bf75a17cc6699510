import tls, { type TLSSocket } from 'node:tls';
import type { FederationTlsIdentity } from './cert.js';
import { peerIdOfCertificate } from './cert.js';
import { encodeFrame, FrameDecoder, FrameError } from './frame.js';
import { parseS2s, type S2sMessage } from './messages.js';

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

export interface LinkSide {
  self: FederationTlsIdentity;
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
}

/**
 * One federation link over TLS 1.3 with mutual authentication (#14): each side presents a
 * self-signed certificate over its federation key (federation/cert.ts), and the peer id is that
 * key. Phase 1 on top: each side sends `hello` (version, its id, name, capabilities); the hello's
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

  constructor(
    private readonly socket: TLSSocket,
    /** the id the peer's certificate proved (transport-authenticated) */
    readonly peerId: string,
    private readonly side: LinkSide,
    readonly direction: 'in' | 'out',
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish('connection closed'));
    socket.on('error', () => { /* 'close' follows */ });
    this.helloTimer = setTimeout(() => { if (!this.up) this.refuse('no hello in time'); }, side.helloTimeoutMs ?? 10_000);
    this.helloTimer.unref();
    this.send({ type: 'hello', version: 1, id: side.self.peerId, name: side.name, caps: [] });
  }

  send(msg: S2sMessage): void {
    if (this.closed) return;
    if (this.socket.writableLength > (this.side.maxPendingBytes ?? 16 * 1024 * 1024)) {
      this.side.log.warn({ peer: this.peerId, direction: this.direction, pending: this.socket.writableLength }, 'S2S link closed: the peer is not reading (sendq)');
      this.socket.destroy();
      this.finish('sendq exceeded');
      return;
    }
    this.socket.write(encodeFrame(msg));
  }

  /** close with a refusal the peer can log (never an ack) */
  refuse(reason: string): void {
    if (this.closed) return;
    this.side.log.warn({ peer: this.peerId, direction: this.direction, reason }, 'Rejecting S2S connection');
    this.send({ type: 'refusal', reason });
    this.socket.end();
    this.finish(reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.socket.end();
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.socket.destroySoon();
    this.side.events.closed(this, reason);
  }

  private onData(chunk: Buffer): void {
    let raws: unknown[];
    try {
      raws = this.decoder.push(chunk);
    } catch (e) {
      this.refuse(e instanceof FrameError ? `bad frame: ${e.message}` : 'bad frame');
      return;
    }
    for (const raw of raws) {
      if (this.closed) return;
      const p = parseS2s(raw);
      if (!p.ok) { this.refuse(`invalid message: ${p.reason}`); return; }
      this.onMessage(p.msg);
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

const TLS_OPTS = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/** The id a TLS socket's peer certificate proves, or undefined. */
function peerOf(socket: TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate(true);
  return cert && 'raw' in cert && cert.raw ? peerIdOfCertificate(cert.raw) : undefined;
}

/**
 * The TLS listener (`--s2s-listen-addr`): a peer must present a certificate over an ed25519 key
 * whose id `allowed` accepts (the allowlist); any other is refused after the handshake.
 */
export function listenS2sTls(side: LinkSide & { allowed(peerId: string): boolean; handshakeTimeoutMs?: number }): tls.Server {
  const server = tls.createServer({
    ...TLS_OPTS, cert: side.self.cert, key: side.self.key,
    // no CA: the certificate is checked by its key below; TLS 1.3 still proves the peer holds it
    requestCert: true, rejectUnauthorized: false, handshakeTimeout: side.handshakeTimeoutMs ?? 10_000,
  }, (socket) => {
    const id = peerOf(socket);
    if (id === undefined || !side.allowed(id)) {
      side.log.warn({ peer: id ?? null, remote: socket.remoteAddress, reason: id === undefined ? 'no ed25519 certificate' : 'not in the allowlist' }, 'Rejecting S2S connection');
      socket.end(encodeFrame({ type: 'refusal', reason: id === undefined ? 'no ed25519 certificate' : 'not in the allowlist' }));
      return;
    }
    new S2sLink(socket, id, side, 'in');
  });
  server.on('tlsClientError', () => { /* a failed handshake: nothing to log per attempt */ });
  return server;
}

/** Dial a peer over TLS, pinning the id we expect (`tls:ID@host:port`); a different key is refused. */
export function dialS2sTls(side: LinkSide & { host: string; port: number; expect: string }): Promise<S2sLink> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...TLS_OPTS, host: side.host, port: side.port, cert: side.self.cert, key: side.self.key,
      // pinned by key below, not by a CA or a host name
      rejectUnauthorized: false, checkServerIdentity: () => undefined,
    }, () => {
      const id = peerOf(socket);
      if (id !== side.expect) {
        side.log.warn({ peer: id ?? null, expected: side.expect, remote: `${side.host}:${side.port}`, reason: 'certificate is not the pinned peer id' }, 'Rejecting S2S connection');
        socket.destroy();
        reject(new Error(`peer at ${side.host}:${side.port} is ${id ?? 'not an ed25519 key'}, not ${side.expect}`));
        return;
      }
      resolve(new S2sLink(socket, id, side, 'out'));
    });
    socket.once('error', reject);
  });
}
