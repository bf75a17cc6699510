import tls, { type TLSSocket } from 'node:tls';
import type { FederationTlsIdentity } from './cert.js';
import { peerIdOfCertificate } from './cert.js';
import { encodeFrame } from './frame.js';
import { S2sLink, type LinkSide, type LinkStream } from './link.js';

export type { LinkEvents, LinkLog, LinkSide } from './link.js';
export { S2sLink } from './link.js';

/** a TLS socket as a link's stream */
function tlsStream(socket: TLSSocket): LinkStream {
  socket.on('error', () => { /* 'close' follows */ });
  return {
    write: (data) => { socket.write(data); },
    get pending() { return socket.writableLength; },
    end: () => { socket.end(); socket.destroySoon(); },
    destroy: () => { socket.destroy(); },
    pause: () => { socket.pause(); },
    resume: () => { socket.resume(); },
    onData: (cb) => { socket.on('data', cb); },
    onClose: (cb) => { socket.once('close', cb); },
  };
}

type TlsSide = LinkSide & { self: FederationTlsIdentity };

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
export function listenS2sTls(side: TlsSide & { allowed(peerId: string): boolean; handshakeTimeoutMs?: number }): tls.Server & { destroyConnections(): void } {
  const server = tls.createServer({
    ...TLS_OPTS, cert: side.self.cert, key: side.self.key,
    // no CA: the certificate is checked by its key below; TLS 1.3 still proves the peer holds it
    requestCert: true, rejectUnauthorized: false, handshakeTimeout: side.handshakeTimeoutMs ?? 10_000,
  }, (socket) => {
    const id = peerOf(socket);
    if (id === undefined || !side.allowed(id)) {
      side.log.warn({ peer: id ?? null, remote: socket.remoteAddress, reason: id === undefined ? 'no ed25519 certificate' : 'not in the allowlist' }, 'Rejecting S2S connection');
      socket.on('error', () => {});
      socket.end(encodeFrame({ type: 'refusal', reason: id === undefined ? 'no ed25519 certificate' : 'not in the allowlist' }));
      // the peer has a second to read the refusal and close; then it is closed here
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    new S2sLink(tlsStream(socket), id, side, 'in');
  });
  server.on('tlsClientError', () => { /* a failed handshake: nothing to log per attempt */ });
  // every connection, handshaking or linked: closed at shutdown (server.close waits for them all)
  const open = new Set<{ destroy(): void; once(ev: 'close', f: () => void): unknown }>();
  server.on('connection', (s: { destroy(): void; once(ev: 'close', f: () => void): unknown }) => { open.add(s); s.once('close', () => open.delete(s)); });
  return Object.assign(server, { destroyConnections: () => { for (const s of open) s.destroy(); } });
}

/** Dial a peer over TLS, pinning the id we expect (`tls:ID@host:port`); a different key is refused. */
export function dialS2sTls(side: TlsSide & { host: string; port: number; expect: string }): Promise<S2sLink> {
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
      resolve(new S2sLink(tlsStream(socket), id, side, 'out'));
    });
    socket.once('error', reject);
  });
}
