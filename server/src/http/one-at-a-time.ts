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

export async function oneAtATime(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const socket = req.raw.socket;
  const previous = lastOnSocket.get(socket);
  lastOnSocket.set(socket, new Promise<void>((resolve) => { reply.raw.once('close', () => resolve()); }));
  if (previous === undefined) return undefined;
  await previous;
  // the client went away while this request waited: nothing to build it for
  return socket.destroyed ? reply.code(503).send({ error: 'ServiceUnavailable' }) : undefined;
}
