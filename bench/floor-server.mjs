#!/usr/bin/env node
// The Node floor for per-connection memory: a bare server that holds every connection and answers
// registration with a minimal welcome (001 + 422), nothing else. Its RSS per idle connection is
// what Node itself costs before any IRC state. Used as `--against` in the idle scenario:
//   node bench/run.mjs idle --clients 10000 --inflight 8 --against "node bench/floor-server.mjs {port}"
//   node bench/run.mjs idle --clients 10000 --inflight 8 --against "node bench/floor-server.mjs {port} lean"
// Default: net.Server and net.Socket (one 'data' listener per socket). `lean`: the bare libuv TCP
// handle through Node's internal tcp_wrap/stream_wrap bindings, as freeq's lean-sockets does
// (server/src/transport/lean-tcp.ts), with one small object per connection.
import net from 'node:net';

const port = Number(process.argv[2]);
const lean = process.argv[3] === 'lean';
if (!Number.isInteger(port)) { console.error('usage: floor-server.mjs <port> [lean]'); process.exit(2); }

/** the lines a client sent; `reply` writes one string */
function handle(state, text, reply) {
  for (const line of text.split('\n')) {
    const m = /^(NICK|USER|PING) ?(\S*)/.exec(line);
    if (!m) continue;
    if (m[1] === 'PING') { reply(`PONG floor ${m[2]}\r\n`); continue; }
    if (m[1] === 'NICK') state.nick = m[2].trim();
    else state.sawUser = true;
    if (state.sawUser && state.nick !== '*') { reply(`:floor 001 ${state.nick} :Welcome\r\n:floor 422 ${state.nick} :No MOTD\r\n`); state.sawUser = false; }
  }
}

if (!lean) {
  const socks = new Set();
  net.createServer({ noDelay: true }, (s) => {
    socks.add(s);
    const state = { nick: '*', sawUser: false };
    const reply = (t) => s.write(t);
    s.on('data', (buf) => handle(state, buf.toString('latin1'), reply));
    s.on('error', () => s.destroy());
    s.on('close', () => socks.delete(s));
  }).listen(port, '127.0.0.1');
} else {
  const { TCP, constants } = process.binding('tcp_wrap');
  const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = process.binding('stream_wrap');
  const conns = new Set();
  const OWNER = Symbol('owner');
  const done = () => {};
  class Conn {
    constructor(h) { this.h = h; this.nick = '*'; this.sawUser = false; h[OWNER] = this; h.onread = onread; h.setNoDelay(true); h.readStart(); }
    write(str) {
      const req = new WriteWrap();
      const buf = Buffer.from(str, 'latin1');
      req.handle = this.h; req.oncomplete = done; req.buffer = buf;
      if (this.h.writeBuffer(req, buf) !== 0) this.close();
    }
    close() { if (conns.delete(this)) { this.h.readStop(); this.h.close(); } }
  }
  function onread(ab) {
    const c = this[OWNER];
    const n = streamBaseState[kReadBytesOrError];
    if (n < 0) { c.close(); return; }
    if (n === 0 || !ab) return;
    handle(c, Buffer.from(ab, streamBaseState[kArrayBufferOffset], n).toString('latin1'), (t) => c.write(t));
  }
  const server = new TCP(constants.SERVER);
  if (server.bind('127.0.0.1', port) !== 0 || server.listen(511) !== 0) { console.error('cannot listen'); process.exit(1); }
  server.onconnection = (err, h) => { if (err === 0 && h) conns.add(new Conn(h)); };
}
