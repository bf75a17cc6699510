import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * #12 finding 2: one request at a time per connection. Node's HTTP server parses pipelined
 * requests as they arrive and runs their handlers at once, holding every response it built until
 * the ones before it are written; 100 pipelined history requests on one connection built 100
 * responses (2.3 GB) before the client read a byte. As a route's onRequest hook, this makes a
 * request wait until the previous response on its connection has been handed to the kernel
 * ('close' after 'finish'; or the connection closed), so a client that does not read holds at
 * most one built response, and the kernel's buffers hold the rest of its backlog.
 *
 * Hand-written: no fastify plugin serializes pipelined requests (the ecosystem assumes a proxy
 * in front), and this is the whole of it.
 */
const lastOnSocket = new WeakMap<object, Promise<void>>();
/** requests of a connection not yet answered (this route group's) */
const openOnSocket = new WeakMap<object, number>();
/**
 * Settles when the connection closes: one listener per connection, shared by its waiting
 * requests. A response queued behind another (pipelined) is attached to the socket only in its
 * turn, so when the connection closes first it never emits 'close': without this, every request
 * queued behind it would wait for good.
 */
const closedOf = new WeakMap<object, Promise<void>>();
function socketClosed(socket: FastifyRequest['raw']['socket']): Promise<void> {
  let p = closedOf.get(socket);
  if (!p) {
    p = socket.closed ? Promise.resolve() : new Promise<void>((resolve) => { socket.once('close', () => resolve()); });
    closedOf.set(socket, p);
  }
  return p;
}

/**
 * Requests one connection may have waiting. Node parses every pipelined request it has read (one
 * 64 KiB read is ~900 small GETs) and keeps each one's request and response objects until its
 * turn: a client that pipelines without end grew the heap by ~50 MB/s (bench/attack.mjs rest,
 * 10 connections). Browsers and HTTP libraries do not pipeline at all; beyond this the connection
 * is closed (a response cannot be sent out of turn).
 */
export const MAX_PIPELINED = 32;

export async function oneAtATime(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const socket = req.raw.socket;
  const open = (openOnSocket.get(socket) ?? 0) + 1;
  openOnSocket.set(socket, open);
  if (open > MAX_PIPELINED + 1) {
    // behind the one answered 429 + Connection: close below: never answered, dropped when that
    // response ends the connection; a client that keeps pipelining past 4× is cut off at once
    reply.raw.once('close', () => openOnSocket.set(socket, (openOnSocket.get(socket) ?? 1) - 1));
    if (open > 4 * MAX_PIPELINED) socket.destroy();
    void reply.hijack();
    return reply;
  }
  const previous = lastOnSocket.get(socket);
  lastOnSocket.set(socket, new Promise<void>((resolve) => {
    reply.raw.once('close', () => { openOnSocket.set(socket, (openOnSocket.get(socket) ?? 1) - 1); resolve(); });
  }));
  if (previous === undefined) return undefined;
  await Promise.race([previous, socketClosed(socket)]);
  // and on a later turn of the event loop: a response the kernel takes at once settles 'close'
  // within the same tick queue, so without this a connection's pipelined requests ran back to back
  // in one turn (100 pages, ~0.4 s in which nobody else was served: bench/attack.mjs rest)
  await new Promise<void>((resolve) => setImmediate(resolve));
  // the client went away while this request waited: nothing to build it for
  if (socket.destroyed) return reply.code(503).send({ error: 'ServiceUnavailable' });
  // the first request over the limit is answered, in its turn, and ends the connection
  if (open > MAX_PIPELINED) return reply.code(429).header('connection', 'close').send({ error: 'TooManyRequests', message: `at most ${MAX_PIPELINED} pipelined requests` });
  return undefined;
}
