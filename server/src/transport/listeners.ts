import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Addr } from '../config/schema.js';
import type { IrcConn, TransportKind } from './conn.js';
import { SocketConn } from './socket-conn.js';

export type Accept = (conn: IrcConn) => void;

function normalizeIp(ip: string | undefined): string {
  if (!ip) return '0.0.0.0';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function peerOf(socket: Socket, kind: TransportKind, secure: boolean) {
  return { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0, kind, secure };
}

export function listen(server: NetServer | TlsServer, addr: Addr): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => { server.off('error', reject); resolve(); });
  });
}

export function createTcpListener(readq: number, accept: Accept): NetServer {
  return createNetServer({ noDelay: true }, (socket) => accept(new SocketConn(socket, peerOf(socket, 'tcp', false), readq)));
}

export function createTlsListener(certFile: string, keyFile: string, readq: number, accept: Accept): TlsServer {
  const server = createTlsServer({
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    minVersion: 'TLSv1.2', // hardening A8
  }, (socket) => accept(new SocketConn(socket, peerOf(socket, 'tls', true), readq)));
  // a failed handshake must not surface as an unhandled error
  server.on('tlsClientError', () => {});
  return server;
}
