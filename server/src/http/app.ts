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

/** Origins compare as serialized by browsers: lower-case scheme and host, no trailing slash. */
function normalizeOrigin(o: string): string {
  return o.trim().replace(/\/+$/, '').toLowerCase();
}

/** HTTP port: `/irc` (IRCv3 WebSocket) and `/api/v1/health`. */
export function createHttpApp(d: HttpDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, requestTimeout: 30_000 });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: d.config.readq, // E1: never the 100 MiB default
    perMessageDeflate: false,   // E3
    // "The server MUST accept any subprotocol it supports, respecting the client's order of
    // preference" (ircv3 websocket); ws hands us the offers in header order.
    handleProtocols: (offered) => [...offered].find((p) => SUBPROTOCOLS.includes(p)) ?? false,
  });
  const allowedOrigins = new Set(d.config.wsAllowedOrigins.map(normalizeOrigin));
  app.get('/api/v1/health', async () => d.health());
  app.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = (req.url ?? '').split('?')[0];
    if (url !== '/irc') { socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n'); return; }
    const origin = req.headers.origin;
    if (origin !== undefined && allowedOrigins.size > 0 && !allowedOrigins.has(normalizeOrigin(origin))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      d.accept(new WsConn(ws, socket, peerOf(socket, 'ws', socket.constructor.name === 'TLSSocket'), d.config.readq));
    });
  });
  return app;
}
