// #12, the HTTP port as a stranger sees it: connection caps at accept time that share the IRC
// per-IP counter (finding 4), Connection: close on 401/403/429 (finding 4), X-Forwarded-For
// honoured only from configured proxies and only its right-most untrusted hop (finding 7), and
// generic bodies for the parser's and router's own refusals (414, 431, 400). Raw sockets on
// 127.0.0.x, so every byte the server sends is asserted.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { bootAdmission, expectRefused, wsOpen, wsRegister, type AdmissionServer } from './admission-helpers.js';

/** a connected raw socket that records everything it receives and whether the server closed it */
interface RawHttp {
  socket: net.Socket;
  received(): string;
  closed: Promise<void>;
}

async function open(port: number, localAddress = '127.0.0.1'): Promise<RawHttp> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  let got = '';
  socket.on('data', (d) => { got += d.toString('latin1'); });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r, j) => { socket.once('connect', () => r()); socket.once('error', j); });
  return { socket, received: () => got, closed };
}

/** resolves when `c` has received `n` complete responses (content-length framed) */
async function responses(c: RawHttp, n: number, timeoutMs = 3000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out: string[] = [];
    let rest = c.received();
    while (out.length < n) {
      const end = rest.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(rest.slice(0, end));
      if (end < 0 || !len || rest.length < end + 4 + Number(len[1])) break;
      out.push(rest.slice(0, end + 4 + Number(len[1])));
      rest = rest.slice(end + 4 + Number(len[1]));
    }
    if (out.length === n) return out;
    if (Date.now() > deadline) throw new Error(`wanted ${n} responses, got:\n${c.received()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: irc.test\r\n${extra}\r\n`;
const body = (res: string): string => res.slice(res.indexOf('\r\n\r\n') + 4);
const header = (res: string, name: string): string | undefined => new RegExp(`\r\n${name}: ([^\r]*)`, 'i').exec(res)?.[1];

function refusal(status: string, text: string): string {
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text) + 1}\r\n\r\n${text}\n`;
}

describe('HTTP connections per IP, shared with IRC (#12 finding 4)', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'http-max-connections-per-ip': 3, 'max-connections-per-ip': 5 }); });
  after(async () => { await srv.stop(); });

  test('3 idle HTTP connections from 127.0.0.2: the 4th gets 429 + Connection: close and is closed at once; another address registers on IRC', async () => {
    const held = [await open(srv.webPort, '127.0.0.2'), await open(srv.webPort, '127.0.0.2'), await open(srv.webPort, '127.0.0.2')];
    const over = await open(srv.webPort, '127.0.0.2');
    await over.closed;
    assert.equal(over.received(), refusal('429 Too Many Requests', 'Too many HTTP connections from your IP'));
    assert.equal(await srv.limitHits('http-per-ip'), 1);
    // IRC from another loopback address is not affected
    const irc = await srv.client('elsewhere', { localAddress: '127.0.0.3' });
    irc.send('PING x');
    await irc.expect('PONG');
    // a held connection still works, and closing one frees its slot
    held[0]!.socket.write(GET('/api/v1/health'));
    const [ok] = await responses(held[0]!, 1);
    assert.match(ok!, /^HTTP\/1\.1 200 OK\r\n/);
    held[1]!.socket.destroy();
    await held[1]!.closed;
    const deadline = Date.now() + 2000;
    while (srv.server.admission.httpOpen > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const again = await open(srv.webPort, '127.0.0.2');
    again.socket.write(GET('/api/v1/health'));
    assert.match((await responses(again, 1))[0]!, /^HTTP\/1\.1 200 OK\r\n/);
    for (const c of [...held, again]) c.socket.destroy();
  });

  test('HTTP and IRC connections of one IP are bounded together by max-connections-per-ip (5)', async () => {
    const irc = [];
    for (let i = 1; i <= 3; i++) irc.push(await srv.client(`shared${i}`, { localAddress: '127.0.0.4' }));
    const h = [await open(srv.webPort, '127.0.0.4'), await open(srv.webPort, '127.0.0.4')];
    assert.equal(srv.server.admission.countFor('127.0.0.4'), 5);
    // the sixth, over HTTP (still under its own cap of 3) or IRC, is refused with the per-IP answer
    const httpOver = await open(srv.webPort, '127.0.0.4');
    await httpOver.closed;
    assert.equal(httpOver.received(), refusal('429 Too Many Requests', 'Too many connections from your IP'));
    const ircOver = await srv.connect({ localAddress: '127.0.0.4' });
    await expectRefused(ircOver, 'ERROR :Too many connections from your IP', 1000);
    for (const c of h) c.socket.destroy();
    for (const c of irc) c.destroy();
  });

  test('a WebSocket that upgrades is counted once: under its IRC ticket, not also as HTTP', async () => {
    const r = await wsOpen(srv.webPort, { localAddress: '127.0.0.5' });
    assert.equal(r.status, undefined);
    await wsRegister(r.ws, 'wsonce');
    assert.equal(srv.server.admission.countFor('127.0.0.5'), 1);
    // four more from that address fit (5 in all), the sixth does not
    const more = [];
    for (let i = 0; i < 4; i++) more.push(await open(srv.webPort, '127.0.0.5'));
    const over = await open(srv.webPort, '127.0.0.5');
    await over.closed;
    assert.match(over.received(), /^HTTP\/1\.1 429 /);
    r.ws.terminate();
    for (const c of more) c.socket.destroy();
  });
});

describe('HTTP connections server-wide (#12 finding 4)', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'http-max-connections': 2 }); });
  after(async () => { await srv.stop(); });

  test('http-max-connections 2: the third HTTP connection, from any address, gets 503; IRC is not affected', async () => {
    const held = [await open(srv.webPort, '127.0.0.6'), await open(srv.webPort, '127.0.0.7')];
    const over = await open(srv.webPort, '127.0.0.8');
    await over.closed;
    assert.equal(over.received(), refusal('503 Service Unavailable', 'Too many HTTP connections'));
    assert.equal(await srv.limitHits('http-global'), 1);
    assert.match(srv.logs(), /"msg":"HTTP connections limit reached: http-max-connections"/);
    const irc = await srv.client('stillok', { localAddress: '127.0.0.8' });
    irc.send('PING y');
    await irc.expect('PONG');
    for (const c of held) c.socket.destroy();
  });
});

describe('Connection: close after 401 and 429 (#12 finding 4)', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'http-rate-limit': 2 }); });
  after(async () => { await srv.stop(); });

  test('a keep-alive connection that hits the rate limit gets 429 with connection: close, then the server closes it', async () => {
    const c = await open(srv.webPort, '127.0.0.9');
    c.socket.write(GET('/api/v1/health'));
    const [first] = await responses(c, 1);
    assert.match(first!, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(header(first!, 'connection'), 'keep-alive');
    // one at a time (@fastify/rate-limit refuses every request of a pipelined burst that exceeds it)
    c.socket.write(GET('/api/v1/health'));
    await responses(c, 2);
    c.socket.write(GET('/api/v1/health'));
    const limited = (await responses(c, 3))[2]!;
    assert.match(limited, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    assert.equal(header(limited, 'connection'), 'close');
    assert.ok(Number(header(limited, 'retry-after')) > 0);
    assert.equal(JSON.parse(body(limited)).error, 'TooManyRequests');
    await c.closed; // the server closes it: no descriptor kept for a refused client
  });

  test('401 from a token check: connection: close, and the socket is closed', async () => {
    const c = await open(srv.webPort, '127.0.0.10');
    c.socket.write(GET('/api/v1/me', `Authorization: Bearer ${'A'.repeat(43)}\r\n`));
    const [res] = await responses(c, 1);
    assert.match(res!, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.equal(header(res!, 'connection'), 'close');
    assert.equal(body(res!), '{"error":"Unauthorized"}');
    await c.closed;
  });
});

describe('X-Forwarded-For on the API (#12 finding 7)', () => {
  test('default config: X-Forwarded-For is ignored, the rate limit counts the real peer', async () => {
    const srv = await bootAdmission({ 'http-rate-limit': 2 });
    try {
      // from 127.0.0.1, which the former default trusted
      const c = await open(srv.webPort, '127.0.0.1');
      const xffs = ['1.2.3.4', '5.6.7.8', '9.9.9.9'];
      for (let i = 0; i < xffs.length; i++) {
        c.socket.write(GET('/api/v1/health', `X-Forwarded-For: ${xffs[i]}\r\n`));
        await responses(c, i + 1);
      }
      const rs = await responses(c, 3);
      assert.deepEqual(rs.map((r) => r.slice(0, 12)), ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 429']);
      c.socket.destroy();
    } finally {
      await srv.stop();
    }
  });

  test('trusted-proxies 127.0.0.1: the right-most untrusted hop is the client ("6.6.6.6, 203.0.113.9" is 203.0.113.9)', async () => {
    const srv = await bootAdmission({ 'http-rate-limit': 1, 'trusted-proxies': '127.0.0.1' });
    try {
      const status = async (xff: string): Promise<number> => (await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/health`, { headers: { 'x-forwarded-for': xff } })).status;
      assert.equal(await status('6.6.6.6, 203.0.113.9'), 200);
      assert.equal(await status('203.0.113.9'), 429, 'the same client: its one request per minute is used');
      assert.equal(await status('7.7.7.7, 203.0.113.9'), 429, 'a different spoofed left-most entry does not make a new client');
      assert.equal(await status('6.6.6.6'), 200, '6.6.6.6 is a client of its own');
    } finally {
      await srv.stop();
    }
  });
});

describe('errors from below the router are generic (#12: the 414 body named a fastify error code)', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission(); });
  after(async () => { await srv.stop(); });

  test('a path parameter over 100 characters → 414 {"error":"URITooLong"}', async () => {
    const c = await open(srv.webPort);
    c.socket.write(GET(`/api/v1/channels/${'a'.repeat(300)}/history`));
    const [res] = await responses(c, 1);
    assert.match(res!, /^HTTP\/1\.1 414 URI Too Long\r\n/);
    assert.equal(body(res!), '{"error":"URITooLong"}');
    assert.doesNotMatch(res!, /FST_/);
    c.socket.destroy();
  });

  test('GET / with a 20 kB path → 431 {"error":"RequestHeaderFieldsTooLarge"}, then closed', async () => {
    const c = await open(srv.webPort);
    c.socket.write(GET(`/${'a'.repeat(20_000)}`));
    await c.closed;
    const text = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 39\r\n\r\n{"error":"RequestHeaderFieldsTooLarge"}';
    assert.equal(c.received(), text);
  });

  test('a malformed request line → 400 {"error":"BadRequest"}, then closed', async () => {
    const c = await open(srv.webPort);
    c.socket.write('GARBAGE\r\n\r\n');
    await c.closed;
    assert.equal(c.received(), 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 22\r\n\r\n{"error":"BadRequest"}');
  });
});
