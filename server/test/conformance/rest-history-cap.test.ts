// #12 finding 2: GET /api/v1/channels/{name}/history has a byte cap per response (counting every
// line of a multiline message), a cursor to continue (has_more + next_before), and answers the
// requests of one connection one at a time: pipelined requests are not all built at once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { sleep } from './history-helpers.js';
import { MAX_PIPELINED } from '../../src/http/one-at-a-time.js';

interface Page { channel: string; messages: { msgid: string; text: string }[]; has_more: boolean; next_before: string | null }

/** 100 lines of 380 bytes: a 38 kB message, near multiline-max-bytes (40,000) */
const bigLines = (tag: string): string[] => Array.from({ length: 100 }, (_, i) => `${tag}:${String(i).padStart(3, '0')}:${'y'.repeat(372 - tag.length)}`);

/** `c` sends each message as one draft/multiline batch to `target` */
async function sendMultiline(c: RawClient, target: string, messages: string[][]): Promise<void> {
  messages.forEach((lines, n) => {
    c.send(`BATCH +m${n} draft/multiline ${target}`, ...lines.map((l) => `@batch=m${n} PRIVMSG ${target} :${l}`), `BATCH -m${n}`);
  });
  await c.sync();
}

async function get(srv: TestServer, path: string): Promise<{ status: number; bytes: number; page: Page }> {
  const r = await fetch(`http://127.0.0.1:${srv.webPort}${path}`);
  const buf = Buffer.from(await r.arrayBuffer());
  return { status: r.status, bytes: buf.length, page: JSON.parse(buf.toString()) as Page };
}

describe('#12: REST history byte cap and cursor', () => {
  test('every response is at most http-history-max-bytes; next_before pages through everything, each message once', async () => {
    const srv = await bootServer();
    try {
      const alice = await srv.client('alice', { caps: ['batch', 'draft/multiline'] });
      alice.send('JOIN #big');
      await alice.expect(/ 366 alice #big /);
      // 30 large multiline messages with small ones between them
      const expected: string[] = [];
      for (let i = 0; i < 30; i++) {
        const lines = bigLines(`big${i}`);
        await sendMultiline(alice, '#big', [lines]);
        alice.send(`PRIVMSG #big :small ${i}`);
        expected.push(lines.join('\n'), `small ${i}`);
      }
      await alice.sync();

      const cap = srv.config.httpHistoryMaxBytes;
      assert.equal(cap, 256 * 1024, 'the default');
      const seen: string[] = [];
      let path = '/api/v1/channels/%23big/history?limit=200';
      let pages = 0;
      for (;;) {
        const { status, bytes, page } = await get(srv, path);
        assert.equal(status, 200);
        assert.ok(bytes <= cap, `page ${pages}: ${bytes} bytes`);
        pages++;
        seen.unshift(...page.messages.map((m) => m.text));
        if (!page.has_more) { assert.equal(page.next_before, null); break; }
        assert.equal(page.next_before, page.messages[0]!.msgid);
        path = `/api/v1/channels/%23big/history?limit=200&before=${page.next_before}`;
      }
      assert.ok(pages >= 5, `1.2 MB took ${pages} pages`);
      assert.deepEqual(seen, expected);
    } finally {
      await srv.stop();
    }
  });

  test('a single message larger than the cap still comes, alone', async () => {
    const srv = await bootServer({ 'http-history-max-bytes': '16k' });
    try {
      const alice = await srv.client('alice', { caps: ['batch', 'draft/multiline'] });
      alice.send('JOIN #big');
      await alice.expect(/ 366 alice #big /);
      const a = bigLines('a');
      const b = bigLines('b');
      await sendMultiline(alice, '#big', [a, b]);
      const first = await get(srv, '/api/v1/channels/%23big/history');
      assert.deepEqual(first.page.messages.map((m) => m.text), [b.join('\n')]);
      assert.equal(first.page.has_more, true);
      const second = await get(srv, `/api/v1/channels/%23big/history?before=${first.page.next_before}`);
      assert.deepEqual(second.page.messages.map((m) => m.text), [a.join('\n')]);
      assert.equal(second.page.has_more, false);
    } finally {
      await srv.stop();
    }
  });
});

/**
 * Reads HTTP/1.1 responses with Content-Length bodies off a socket as they come; resolves once
 * `n` are complete (chunks are joined only when a response is known to be whole: 20 MB arrive).
 */
function readResponses(sock: net.Socket, n: number): Promise<{ status: number; body: string }[]> {
  const out: { status: number; body: string }[] = [];
  let chunks: Buffer[] = [];
  let have = 0;
  let need: { head: number; status: number; len: number } | undefined;
  return new Promise((resolve) => {
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      have += d.length;
      for (;;) {
        if (!need) {
          const buf = Buffer.concat(chunks);
          chunks = [buf];
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          need = { head: end + 4, status: Number(head.split(' ')[1]), len: Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]) };
          assert.ok(Number.isInteger(need.len), `content-length in ${head}`);
        }
        if (have < need.head + need.len) return;
        const buf = Buffer.concat(chunks);
        out.push({ status: need.status, body: buf.subarray(need.head, need.head + need.len).toString() });
        const rest = buf.subarray(need.head + need.len);
        chunks = [rest];
        have = rest.length;
        need = undefined;
        if (out.length === n) { resolve(out); return; }
      }
    });
  });
}

describe('#12: pipelined REST requests are answered one at a time', () => {
  test('20 pipelined requests on one connection: 20 right answers in order, each built only once the one before it was written', async () => {
    // ~2 MB per #big response: ten of them are more than the kernel buffers a client that does not read
    const srv = await bootServer({ 'http-history-max-bytes': '2m' });
    try {
      const alice = await srv.client('alice', { caps: ['batch', 'draft/multiline'] });
      const watcher = await srv.client('watcher');
      alice.send('JOIN #big,#small');
      await alice.expect(/ 366 alice #small /);
      watcher.send('JOIN #small');
      await watcher.expect(/ 366 watcher #small /);
      await sendMultiline(alice, '#big', Array.from({ length: 60 }, (_, i) => bigLines(`p${i}`)));
      alice.send('PRIVMSG #small :early');
      await watcher.expect(/ PRIVMSG #small :?early$/);

      const paths = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? '/api/v1/channels/%23big/history?limit=200' : `/api/v1/channels/%23small/history?limit=${i}`));
      const sock = net.connect({ host: '127.0.0.1', port: srv.webPort });
      await new Promise((r) => sock.once('connect', r));
      sock.pause(); // does not read: the responses pile up in the kernel, then wait in the server
      const reading = readResponses(sock, paths.length);
      sock.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
      await sleep(500);
      // said after the requests were sent: only responses built after now can contain it
      alice.send('PRIVMSG #small :late');
      await watcher.expect(/ PRIVMSG #small :?late$/);
      sock.resume();
      const responses = await reading;
      sock.destroy();

      const smallTexts: string[][] = [];
      responses.forEach((r, i) => {
        assert.equal(r.status, 200, `response ${i}`);
        const page = JSON.parse(r.body) as Page;
        // in order: each answers its own request
        if (i % 2 === 0) {
          assert.equal(page.channel, '#big');
          assert.ok(r.body.length <= 2 * 1024 * 1024 && page.messages.length > 10 && page.has_more, `response ${i}: a full #big page`);
        } else {
          assert.equal(page.channel, '#small');
          smallTexts.push(page.messages.map((m) => m.text));
        }
      });
      assert.deepEqual(smallTexts[0], ['early'], 'the first #small answer was built before "late"');
      assert.deepEqual(smallTexts.at(-1), ['early', 'late'], 'the last one only after it: requests waited for the responses before them');
    } finally {
      await srv.stop();
    }
  });
});

describe('#12: a connection may not pipeline without end', () => {
  test('40 pipelined requests: 32 answered in order, the 33rd gets 429 with Connection: close, the rest are dropped with the connection', async () => {
    const srv = await bootServer();
    try {
      const alice = await srv.client('alice');
      alice.send('JOIN #p');
      await alice.expect(/ 366 alice #p /);
      alice.send('PRIVMSG #p :hello');
      await alice.sync();
      const sock = net.connect({ host: '127.0.0.1', port: srv.webPort });
      await new Promise((r) => sock.once('connect', r));
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      const reading = readResponses(sock, MAX_PIPELINED + 1);
      sock.write(Array.from({ length: 40 }, (_, i) => `GET /api/v1/channels/%23p/history?limit=${1 + i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
      const responses = await reading;
      assert.deepEqual(responses.slice(0, MAX_PIPELINED).map((r) => r.status), Array.from({ length: MAX_PIPELINED }, () => 200));
      assert.deepEqual(responses.slice(0, MAX_PIPELINED).map((r) => (JSON.parse(r.body) as Page).messages.map((m) => m.text)), Array.from({ length: MAX_PIPELINED }, () => ['hello']));
      assert.equal(responses[MAX_PIPELINED]!.status, 429);
      assert.deepEqual(JSON.parse(responses[MAX_PIPELINED]!.body), { error: 'TooManyRequests', message: `at most ${MAX_PIPELINED} pipelined requests` });
      await closed; // nothing more: the server ended the connection after the 429
      // the server is fine: a new connection is served
      assert.equal((await get(srv, '/api/v1/channels/%23p/history')).status, 200);
    } finally {
      await srv.stop();
    }
  });
});
