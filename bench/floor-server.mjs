#!/usr/bin/env node
// The Node floor for per-connection memory: a bare net.Server that holds every socket with one
// 'data' listener and answers registration with a minimal welcome (001 + 422), nothing else. Its
// RSS per idle connection is what Node itself costs before any IRC state (net.Socket, its
// stream states, the libuv handle). Used as `--against` in the idle scenario:
//   node bench/run.mjs idle --clients 10000 --inflight 8 --against "node bench/floor-server.mjs {port}"
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) { console.error('usage: floor-server.mjs <port>'); process.exit(2); }
const socks = new Set();
net.createServer({ noDelay: true }, (s) => {
  socks.add(s);
  let nick = '*';
  let sawUser = false;
  s.on('data', (buf) => {
    for (const line of buf.toString('latin1').split('\n')) {
      const m = /^(NICK|USER|PING) ?(\S*)/.exec(line);
      if (!m) continue;
      if (m[1] === 'PING') { s.write(`PONG floor ${m[2]}\r\n`); continue; }
      if (m[1] === 'NICK') nick = m[2].trim();
      else sawUser = true;
      if (sawUser && nick !== '*') { s.write(`:floor 001 ${nick} :Welcome\r\n:floor 422 ${nick} :No MOTD\r\n`); sawUser = false; }
    }
  });
  s.on('error', () => s.destroy());
  s.on('close', () => socks.delete(s));
}).listen(port, '127.0.0.1');
