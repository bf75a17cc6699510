import { WebSocketServer } from 'ws';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { httpRefusal, type Admission } from '../transport/admission.js';
import type { Accept } from '../transport/listeners.js';
import { normalizeIp } from '../transport/listeners.js';
import { clientIpFromForwarded } from '../transport/proxy-protocol.js';
import { WsConn } from '../transport/ws-conn.js';
import { releaseHttpSlot } from './connection-gate.js';

const SUBPROTOCOLS = ['binary.ircv3.net', 'text.ircv3.net'];

export interface IrcUpgradeDeps {
  config: Config;
  accept: Accept;
  /** hardening A1–A3, A7, I3: asked before the upgrade; absent → every upgrade is admitted */
  admission?: Admission;
}

/** Origins compare as serialized by browsers: lower-case scheme and host, no trailing slash. */
function normalizeOrigin(o: string): string {
  return o.trim().replace(/\/+$/, '').toLowerCase();
}

/** `/irc`: the IRCv3 WebSocket upgrade on the HTTP port. */
export function attachIrcUpgrade(server: HttpServer, d: IrcUpgradeDeps): void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: d.config.readq, // E1: never the 100 MiB default
    perMessageDeflate: false,   // E3
    // "The server MUST accept any subprotocol it supports, respecting the client's order of
    // preference" (ircv3 websocket); ws hands us the offers in header order.
    handleProtocols: (offered) => [...offered].find((p) => SUBPROTOCOLS.includes(p)) ?? false,
  });
  const allowedOrigins = new Set(d.config.wsAllowedOrigins.map(normalizeOrigin));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = (req.url ?? '').split('?')[0];
    if (url !== '/irc') { socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n'); return; }
    const origin = req.headers.origin;
    if (origin !== undefined && allowedOrigins.size > 0 && !allowedOrigins.has(normalizeOrigin(origin))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    // A7, #12 finding 7: X-Forwarded-For / -Proto only from a configured trusted proxy (none by
    // default), and then the right-most hop that is not itself a trusted proxy (hops further
    // left were written by the client); limits apply to the resolved address
    const peerIp = normalizeIp(socket.remoteAddress);
    let ip = peerIp;
    let secure = socket.constructor.name === 'TLSSocket';
    if (d.admission?.isTrustedProxy(peerIp)) {
      ip = clientIpFromForwarded(req.headers['x-forwarded-for'], peerIp, d.admission.trustedProxies);
      // the right-most value is the one our proxy wrote (one that appends keeps a client's own in front)
      const proto = req.headers['x-forwarded-proto'];
      if (typeof proto === 'string' && proto.split(',').at(-1)!.trim().toLowerCase() === 'https') secure = true;
    }
    // #12 finding 4: from here on the socket is an IRC connection, counted once, under its ticket
    releaseHttpSlot(socket);
    const ticket = d.admission?.admit(ip, 'ws');
    if (typeof ticket === 'string') {
      socket.on('error', () => {});
      socket.end(httpRefusal(ticket));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    if (ticket) socket.once('close', () => ticket.release());
    const port = socket.remotePort ?? 0;
    wss.handleUpgrade(req, socket, head, (ws) => {
      d.accept(new WsConn(ws, socket, { ip, port, kind: 'ws', secure }, d.config.readq));
    });
  });
}
