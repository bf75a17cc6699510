import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { HISTORY_CAPS, untagged } from './history-helpers.js';

// #12 finding 1: a CHATHISTORY reply is held to history-reply-max-bytes and -lines, every line
// counted (a draft/multiline message counts all its lines); over budget it ends early with whole
// messages and `WARN CHATHISTORY TRUNCATED`, and the client pages for the rest.

const BYTES = 16384;
const LINES = 120;
const MESSAGES = 30;
const LINES_PER_MESSAGE = 10;

const wireBytes = (lines: readonly string[]): number => lines.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0);

interface Reply { batch: string[]; after: string[] }

/** send a CHATHISTORY request; the chathistory batch's lines (BATCH + … BATCH -) and what followed up to a PING marker */
async function request(c: RawClient, command: string, marker: string): Promise<Reply> {
  c.send(command, `PING ${marker}`);
  const all = await c.collectUntil((l) => l.endsWith(`PONG irc.test ${marker}`) || l.endsWith(`PONG irc.test :${marker}`), 5000);
  const open = all.findIndex((l) => / BATCH \+\S+ chathistory /.test(l));
  assert.ok(open >= 0, `no chathistory batch in ${all.join('\n')}`);
  const id = /BATCH \+(\S+)/.exec(all[open]!)![1]!;
  const close = all.findIndex((l) => untagged(l) === `:irc.test BATCH -${id}`);
  assert.ok(close > open);
  return { batch: all.slice(open, close + 1), after: all.slice(close + 1, -1) };
}

/** the texts of the messages in a reply, one per message (multiline: the first line's text) */
function messages(r: Reply): { msgid: string; text: string }[] {
  const out: { msgid: string; text: string }[] = [];
  for (const l of r.batch) {
    const m = parse(l);
    const msgid = m.tags.get('msgid');
    if (msgid !== undefined && (m.command === 'PRIVMSG' || (m.command === 'BATCH' && m.params[1] === 'draft/multiline'))) {
      out.push({ msgid, text: m.command === 'PRIVMSG' ? m.params[1]! : '' });
    }
  }
  return out;
}

describe('CHATHISTORY reply budget (#12)', () => {
  let srv: TestServer;
  let sender: RawClient;
  const sent: string[] = [];

  before(async () => {
    srv = await bootServer({ 'history-reply-max-bytes': String(BYTES), 'history-reply-max-lines': LINES });
    sender = await srv.client('talker', { caps: ['batch', 'draft/multiline', 'message-tags', 'server-time'] });
    sender.send('JOIN #big');
    await sender.expect('366');
    // 30 multiline messages of 10 lines × 200 bytes (~3 kB each on the wire): ~90 kB in all
    for (let i = 0; i < MESSAGES; i++) {
      const ref = `m${i}`;
      const lines = [`BATCH +${ref} draft/multiline #big`];
      for (let j = 0; j < LINES_PER_MESSAGE; j++) lines.push(`@batch=${ref} PRIVMSG #big :${`message ${String(i).padStart(2, '0')} line ${j} `.padEnd(200, 'x')}`);
      lines.push(`BATCH -${ref}`);
      sender.send(...lines);
      sent.push(`message ${String(i).padStart(2, '0')}`);
    }
    sender.send('PING sent');
    await sender.expect('PONG', 5000);
  });
  after(async () => { await srv.stop(); });

  test('RPL_ISUPPORT advertises the byte and line budget', async () => {
    const c = await srv.connect();
    c.send('NICK isup', 'USER isup 0 * :i');
    const lines = await c.collectUntil(/^:irc\.test (376|422) /, 5000);
    const tokens = lines.filter((l) => / 005 /.test(l)).flatMap((l) => parse(l).params.slice(1, -1));
    assert.ok(tokens.includes(`freeq.at/CHATHISTORYBYTES=${BYTES}`), tokens.join(' '));
    assert.ok(tokens.includes(`freeq.at/CHATHISTORYLINES=${LINES}`));
    c.destroy();
  });

  for (const multiline of [true, false]) {
    test(`LATEST * 500 stays within the budget and pages through everything (${multiline ? 'with' : 'without'} draft/multiline)`, async () => {
      const caps = multiline ? [...HISTORY_CAPS, 'draft/multiline'] : HISTORY_CAPS;
      const c = await srv.client(multiline ? 'readml' : 'readplain', { caps });
      c.send('JOIN #big');
      await c.expect('366');
      const seen: string[] = [];
      let command = 'CHATHISTORY LATEST #big * 500';
      for (let page = 0; page < MESSAGES + 1; page++) {
        const r = await request(c, command, `p${page}`);
        // the caps: every line of the chathistory batch counted, nested multiline batches included
        assert.ok(wireBytes(r.batch) <= BYTES, `page ${page}: ${wireBytes(r.batch)} bytes`);
        assert.ok(r.batch.length <= LINES, `page ${page}: ${r.batch.length} lines`);
        const msgs = messages(r);
        // whole messages only: each kept message comes with all 10 of its lines
        const privmsgs = r.batch.filter((l) => parse(l).command === 'PRIVMSG');
        assert.equal(privmsgs.length, msgs.length * LINES_PER_MESSAGE);
        const texts = privmsgs.filter((_l, i) => i % LINES_PER_MESSAGE === 0).map((l) => parse(l).params[1]!.slice(0, 10));
        seen.unshift(...texts);
        const truncated = r.after.some((l) => untagged(l).startsWith(':irc.test WARN CHATHISTORY TRUNCATED LATEST') || untagged(l).startsWith(':irc.test WARN CHATHISTORY TRUNCATED BEFORE'));
        if (msgs.length === 0) break;
        if (page === 0) {
          assert.ok(truncated, `first page not marked truncated: ${r.after.join('\n')}`);
          assert.ok(msgs.length >= 2 && msgs.length < MESSAGES, `${msgs.length} messages on the first page`);
          assert.match(r.after.find((l) => l.includes('WARN'))!, new RegExp(`^:irc\\.test WARN CHATHISTORY TRUNCATED LATEST #big :Reply limited to ${msgs.length} messages \\(${BYTES} bytes, ${LINES} lines\\); request more with BEFORE or AFTER$`));
        }
        command = `CHATHISTORY BEFORE #big msgid=${msgs[0]!.msgid} 500`;
      }
      // nothing lost, nothing twice, in order
      assert.deepEqual(seen, sent);
      c.destroy();
    });
  }

  test('AFTER keeps the oldest messages; the client pages forwards', async () => {
    const c = await srv.client('fwd', { caps: [...HISTORY_CAPS, 'draft/multiline'] });
    c.send('JOIN #big');
    await c.expect('366');
    const seen: string[] = [];
    let command = 'CHATHISTORY AFTER #big timestamp=2000-01-01T00:00:00.000Z 500';
    for (let page = 0; page < MESSAGES + 1; page++) {
      const r = await request(c, command, `f${page}`);
      assert.ok(wireBytes(r.batch) <= BYTES);
      const msgs = messages(r);
      if (msgs.length === 0) break;
      const firstLines = r.batch.filter((l) => parse(l).command === 'PRIVMSG').filter((_l, i) => i % LINES_PER_MESSAGE === 0);
      seen.push(...firstLines.map((l) => parse(l).params[1]!.slice(0, 10)));
      command = `CHATHISTORY AFTER #big msgid=${msgs[msgs.length - 1]!.msgid} 500`;
    }
    assert.deepEqual(seen, sent);
    c.destroy();
  });

  test('the line budget binds on its own: single-line messages, lines counted', async () => {
    const s2 = await bootServer({ 'history-reply-max-lines': 25 });
    try {
      const a = await s2.client('a', { caps: HISTORY_CAPS });
      a.send('JOIN #l');
      await a.expect('366');
      for (let i = 0; i < 60; i++) a.send(`PRIVMSG #l :line ${i}`);
      const r = await request(a, 'CHATHISTORY LATEST #l * 500', 'x');
      assert.equal(r.batch.length, 25); // BATCH + … BATCH -: 23 messages
      assert.equal(parse(r.batch[r.batch.length - 2]!).params[1], 'line 59');
      assert.equal(parse(r.batch[1]!).params[1], 'line 37');
      assert.ok(r.after.some((l) => l.includes('WARN CHATHISTORY TRUNCATED LATEST #l :Reply limited to 23 messages')));
      // a reply that fits carries no warning
      const small = await request(a, 'CHATHISTORY LATEST #l * 10', 'y');
      assert.equal(small.batch.length, 12);
      assert.deepEqual(small.after, []);
    } finally {
      await s2.stop();
    }
  });

  test('replay on JOIN: one JOIN of several channels shares one budget', async () => {
    const s3 = await bootServer({ 'history-reply-max-bytes': String(BYTES), 'history-replay-on-join': 50 });
    try {
      const a = await s3.client('filler', { caps: HISTORY_CAPS });
      a.send('JOIN #r1,#r2');
      await a.expect(/ 366 filler #r2 /);
      // 40 messages of ~400 bytes per channel: each channel alone could fill the whole budget
      for (const ch of ['#r1', '#r2']) for (let i = 0; i < 40; i++) a.send(`PRIVMSG ${ch} :${`${ch} ${i} `.padEnd(300, 'z')}`);
      await a.sync();
      // batch and server-time but not draft/chathistory: replay on JOIN applies
      const b = await s3.client('joiner', { caps: ['batch', 'server-time', 'message-tags'], localAddress: '127.0.0.2' });
      b.send('JOIN #r1,#r2', 'PING :joined');
      const lines = await b.collectUntil(/PONG irc\.test :?joined$/, 5000);
      const replayed = lines.filter((l) => parse(l).tags.has('batch'));
      assert.ok(replayed.length > 10, `${replayed.length} replayed lines`);
      // every replayed line and the BATCH lines of both replays together stay within one budget
      const batches = lines.filter((l) => / BATCH [+-]/.test(l));
      assert.ok(wireBytes([...replayed, ...batches.filter((l) => !parse(l).tags.has('batch'))]) <= BYTES, `${wireBytes(replayed)} bytes replayed`);
    } finally {
      await s3.stop();
    }
  });
});
