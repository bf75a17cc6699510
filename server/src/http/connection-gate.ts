import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { httpRefusal, type Admission, type Ticket } from '../transport/admission.js';
import { normalizeIp } from '../transport/listeners.js';

/**
 * Connection caps of the HTTP port at accept time (#12 finding 4): one IP filled every file
 * descriptor through it (each socket sent one GET, got 429 and was kept alive 72 s). Every new
 * socket asks `Admission.admitHttp` before Node's HTTP parser is attached to it; a refused one
 * gets the same `Connection: close` answer as a refused WebSocket upgrade (plain HTTP; the status
 * and text of transport/admission.ts REFUSAL) or is just closed (HTTPS), and never reaches
 * fastify. The slot is given back when the socket closes, or when it upgrades to the `/irc`
 * WebSocket (which then holds an IRC admission ticket instead: never counted twice).
 */

const HTTP_TICKET = Symbol('freeq.httpTicket');
type GatedSocket = Socket & { [HTTP_TICKET]?: Ticket };

/** how long a refused socket may stay open so the client can read why (then it is destroyed) */
const REFUSAL_LINGER_MS = 1000;
/** refused sockets still open at once; beyond, a refused socket is destroyed without an answer */
const MAX_LINGERING = 256;

// shared listeners (`this` is the socket): no closure per connection
function releaseHttpTicket(this: GatedSocket): void { this[HTTP_TICKET]?.release(); }
function ignoreError(): void {}

/** A WebSocket upgrade is about to be admitted as an IRC connection: its HTTP slot goes back first. */
export function releaseHttpSlot(socket: Socket): void {
  (socket as GatedSocket)[HTTP_TICKET]?.release();
}

/**
 * Put admission in front of `server`'s 'connection' event. net.Server offers no hook that runs
 * before its listeners, and Node's HTTP (or TLS) layer attaches its parser in one of them, so the
 * event itself is filtered: a refused socket is never emitted. `plainHttp` false (web-tls): a
 * refusal cannot be written before the TLS handshake, so the socket is just closed.
 */
export function gateHttpConnections(server: HttpServer, admission: Admission, plainHttp: boolean): void {
  let lingering = 0;
  function lingerDone(): void { lingering--; }
  const emit = server.emit; // eslint-disable-line @typescript-eslint/unbound-method -- applied with the server as `this`
  server.emit = function gatedEmit(this: HttpServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'connection') return Reflect.apply(emit, this, [event, ...args]) as boolean;
    const socket = args[0] as GatedSocket;
    const r = admission.admitHttp(normalizeIp(socket.remoteAddress), lingering);
    if (typeof r !== 'string') {
      socket[HTTP_TICKET] = r;
      socket.once('close', releaseHttpTicket);
      return Reflect.apply(emit, this, [event, ...args]) as boolean;
    }
    socket.on('error', ignoreError);
    if (!plainHttp || lingering >= MAX_LINGERING) { socket.destroy(); return true; }
    lingering++;
    socket.once('close', lingerDone);
    socket.resume(); // read and drop the request, so our close is a FIN and not a reset
    socket.end(httpRefusal(r));
    setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
    return true;
  } as HttpServer['emit'];
}
