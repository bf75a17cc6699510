import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import type { Accept } from '../transport/listeners.js';
import { peerOf } from '../transport/listeners.js';
import { WsConn } from '../transport/ws-conn.js';

const SUBPROTOCOLS = ['binary.ircv3.net', 'text.ircv3.net'];

export interface HttpDeps {
  config: Config;
  accept: Accept;
  health(): Record<string, unknown>;
}

/** HTTP port: `/irc` (IRCv3 WebSocket) and `/api/v1/health`. */
export function createHttpApp(d: HttpDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, requestTimeout: 30_000 });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: d.config.readq, // E1: never the 100 MiB default
    perMessageDeflate: false,   // E3
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  app.get('/api/v1/health', async () => d.health());
  app.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = (req.url ?? '').split('?')[0];
    if (url !== '/irc') { socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n'); return; }
    const origin = req.headers.origin;
    const allowed = d.config.wsAllowedOrigins;
    if (origin !== undefined && allowed.length > 0 && !allowed.includes(origin)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      d.accept(new WsConn(ws, socket, peerOf(socket, 'ws', socket.constructor.name === 'TLSSocket'), d.config.readq));
    });
  });
  return app;
}
