import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

// IRCv3 draft/multiline (https://ircv3.net/specs/extensions/multiline), hardening.md C6

const ML = ['batch', 'draft/multiline', 'message-tags', 'server-time'];
const MSGID = /(?:^@|;)msgid=([^; ]+)/;

async function join(c: RawClient, ch: string): Promise<void> {
  c.send(`JOIN ${ch}`);
  await c.expect('366');
}

/** send a whole client batch */
function sendBatch(c: RawClient, ref: string, target: string, lines: Array<string | { text: string; concat?: boolean; command?: string; target?: string }>, openTags = ''): void {
  const out = [`${openTags ? `@${openTags} ` : ''}BATCH +${ref} draft/multiline ${target}`];
  for (const l of lines) {
    const o = typeof l === 'string' ? { text: l } : l;
    out.push(`@batch=${ref}${o.concat ? ';draft/multiline-concat' : ''} ${o.command ?? 'PRIVMSG'} ${o.target ?? target} :${o.text}`);
  }
  out.push(`BATCH -${ref}`);
  c.send(...out);
}

/** a string as a RegExp source that matches it literally */
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const stripTime = (l: string): string => l.replace(/(^@|;)time=[^; ]+/, '$1').replace(/^@;/, '@').replace(/^@ /, '');

describe('draft/multiline', () => {
  let srv: TestServer;
  let G: string;
  // each test's connections are closed after it (per-IP connection limit)
  let open: RawClient[] = [];
  before(async () => {
    srv = await bootServer();
    G = guestCloak(srv);
    const client = srv.client.bind(srv);
    const connect = srv.connect.bind(srv);
    srv.client = async (nick, opts) => { const c = await client(nick, opts); open.push(c); return c; };
    srv.connect = async (opts) => { const c = await connect(opts); open.push(c); return c; };
  });
  afterEach(() => { for (const c of open) c.destroy(); open = []; });
  after(async () => { await srv.stop(); });

  test('CAP LS 302 advertises draft/multiline with max-bytes and max-lines; LS without version, the bare name', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    const ls = await c.expect('CAP');
    assert.match(ls, / draft\/multiline=max-bytes=40000,max-lines=100 /);
    c.send('CAP LS');
    const plain = await c.expect('CAP');
    assert.match(plain, / draft\/multiline /);
    assert.doesNotMatch(plain, /max-bytes/);
    c.send('CAP REQ :draft/multiline batch');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * ACK :draft/multiline batch');
  });

  test('multiline recipient: one BATCH with the msgid, lines tagged batch, concat kept; plain recipient: the lines', async () => {
    const a = await srv.client('mla', { caps: ML });
    const b = await srv.client('mlb', { caps: ML });
    const p = await srv.client('mlp', { caps: ['message-tags'] });
    const old = await srv.client('mlo');
    for (const c of [a, b, p, old]) await join(c, '#ml');
    await a.sync(); b.skip(); p.skip(); old.skip();
    sendBatch(a, 'r1', '#ml', ['hello', 'how is ', { text: 'everyone?', concat: true }, '', 'bye']);

    const got = await b.collectUntil(/ BATCH -/);
    const start = parse(got[0]!);
    assert.equal(start.command, 'BATCH');
    assert.equal(start.source, `mla!mla@${G}`);
    const ref = start.params[0]!.slice(1);
    assert.deepEqual(start.params, [`+${ref}`, 'draft/multiline', '#ml']);
    const msgid = start.tags.get('msgid');
    assert.ok(msgid, `BATCH start carries the msgid: ${got[0]}`);
    assert.ok(start.tags.get('time'));
    assert.deepEqual(got.slice(1), [
      `@batch=${ref} :mla!mla@${G} PRIVMSG #ml hello`,
      `@batch=${ref} :mla!mla@${G} PRIVMSG #ml :how is `,
      `@batch=${ref};draft/multiline-concat :mla!mla@${G} PRIVMSG #ml everyone?`,
      `@batch=${ref} :mla!mla@${G} PRIVMSG #ml :`,
      `@batch=${ref} :mla!mla@${G} PRIVMSG #ml bye`,
      `:mla!mla@${G} BATCH -${ref}`,
    ]);

    // fallback: the lines as sent, no blank one, the msgid on the first only
    const plain = [await p.expect('PRIVMSG'), await p.expect('PRIVMSG'), await p.expect('PRIVMSG'), await p.expect('PRIVMSG')];
    assert.deepEqual(plain, [
      `@msgid=${msgid} :mla!mla@${G} PRIVMSG #ml hello`,
      `:mla!mla@${G} PRIVMSG #ml :how is `,
      `:mla!mla@${G} PRIVMSG #ml everyone?`,
      `:mla!mla@${G} PRIVMSG #ml bye`,
    ]);
    await p.sync();
    assert.deepEqual(p.received.filter((l) => l.includes('BATCH') || l.endsWith('PRIVMSG #ml :')), []);
    const oldLines = (await old.collectUntil((l) => l.endsWith(' bye'))).filter((l) => l.includes('PRIVMSG'));
    assert.deepEqual(oldLines, [
      `:mla!mla@${G} PRIVMSG #ml hello`,
      `:mla!mla@${G} PRIVMSG #ml :how is `,
      `:mla!mla@${G} PRIVMSG #ml everyone?`,
      `:mla!mla@${G} PRIVMSG #ml bye`,
    ]);
    // without echo-message the sender gets nothing back
    const own = await a.sync();
    assert.equal(own.length, 1, own.join(' | '));
  });

  test('nothing leaks before BATCH -, and the batch is not relayed line by line', async () => {
    const a = await srv.client('mlleak', { caps: ML });
    const b = await srv.client('mlleak2', { caps: ML });
    const plain = await srv.client('mlleak3');
    for (const c of [a, b, plain]) await join(c, '#leak');
    await a.sync(); b.skip(); plain.skip();
    a.send('BATCH +open draft/multiline #leak', '@batch=open PRIVMSG #leak :secret one', '@batch=open PRIVMSG #leak :secret two');
    const own = await a.sync();
    assert.equal(own.length, 1, `collected lines are not answered: ${own.join(' | ')}`);
    await b.expectNone(/secret|BATCH/, 300);
    await plain.expectNone(/secret|BATCH/, 50);
    a.send('BATCH -open');
    await b.expect(/ BATCH \+/);
    assert.match(await b.expect('PRIVMSG'), /PRIVMSG #leak :secret one$/);
    assert.match(await plain.expect('PRIVMSG'), /PRIVMSG #leak :secret one$/);
  });

  test('echo-message: the sender gets the batch with the same msgid; a labeled BATCH + labels the echo BATCH start', async () => {
    const a = await srv.client('mlecho', { caps: [...ML, 'echo-message', 'labeled-response'] });
    const b = await srv.client('mlecho2', { caps: ML });
    await join(a, '#echo'); await join(b, '#echo');
    await a.sync(); b.skip();
    sendBatch(a, 'e1', '#echo', ['one', 'two'], 'label=L1;+draft/reply=abc');
    const echo = await a.collectUntil(/ BATCH -/);
    const start = parse(echo[0]!);
    assert.equal(start.command, 'BATCH');
    assert.equal(start.tags.get('label'), 'L1', `label on the opening BATCH: ${echo[0]}`);
    assert.equal(start.tags.get('+draft/reply'), 'abc', 'client tags of the opening BATCH are the message tags');
    const ref = start.params[0]!.slice(1);
    assert.deepEqual(echo.slice(1).map(stripTime), [
      `@batch=${ref} :mlecho!mlecho@${G} PRIVMSG #echo one`,
      `@batch=${ref} :mlecho!mlecho@${G} PRIVMSG #echo two`,
      `:mlecho!mlecho@${G} BATCH -${ref}`,
    ]);
    assert.ok(!echo.some((l) => l.includes('labeled-response')), 'not wrapped in a labeled-response batch');
    const theirs = parse(await b.expect(/ BATCH \+/));
    assert.equal(theirs.tags.get('msgid'), start.tags.get('msgid'));
    assert.equal(theirs.tags.get('+draft/reply'), 'abc');
    assert.equal(theirs.tags.has('label'), false);
    // the label is not answered early (no ACK for BATCH +)
    assert.ok(!a.received.some((l) => parse(l).command === 'ACK'), a.received.join('\n'));
  });

  test('labeled BATCH + without echo-message: one ACK with the label, after BATCH -', async () => {
    const a = await srv.client('mlack', { caps: [...ML, 'labeled-response'] });
    await join(a, '#ack');
    await a.sync();
    a.send('@label=x1 BATCH +k draft/multiline #ack', '@batch=k PRIVMSG #ack :hi');
    const before = await a.sync();
    assert.equal(before.length, 1, before.join(' | '));
    a.send('BATCH -k');
    assert.equal(await a.expect('ACK'), '@label=x1 :irc.test ACK');
  });

  test('direct message: multiline to a nick, NOTICE batches, mixed commands refused', async () => {
    const a = await srv.client('mldm', { caps: ML });
    const b = await srv.client('mldm2', { caps: ML });
    const c = await srv.client('mldm3');
    await a.sync();
    sendBatch(a, 'd', 'mldm2', ['x', 'y']);
    const got = await b.collectUntil(/ BATCH -/);
    assert.equal(got.length, 4);
    assert.match(got[1]!, new RegExp(`^@batch=\\S+ :mldm!mldm@${esc(G)} PRIVMSG mldm2 x$`));
    // NOTICE lines are a multiline NOTICE ("one or more NOTICE lines")
    sendBatch(a, 'n', 'mldm3', [{ text: 'n1', command: 'NOTICE' }, { text: 'n2', command: 'NOTICE' }]);
    assert.equal(await c.expect('NOTICE'), `:mldm!mldm@${G} NOTICE mldm3 n1`);
    assert.equal(await c.expect('NOTICE'), `:mldm!mldm@${G} NOTICE mldm3 n2`);
    // PRIVMSG and NOTICE in one batch: refused, nothing delivered
    sendBatch(a, 'mix', 'mldm3', ['p', { text: 'n', command: 'NOTICE' }]);
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :A multiline batch may only contain PRIVMSG lines or NOTICE lines');
    await a.sync();
    await c.expectNone('PRIVMSG', 200);
  });

  test('max-lines: 100 lines pass, 101 → FAIL BATCH MULTILINE_MAX_LINES 100, nothing delivered', async () => {
    const a = await srv.client('mllines', { caps: ML });
    const b = await srv.client('mllines2');
    await a.sync();
    const hundred = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    sendBatch(a, 'ok', 'mllines2', hundred);
    const got = await b.collectUntil((l) => l.endsWith('line 99'));
    assert.equal(got.filter((l) => l.includes('PRIVMSG')).length, 100);
    sendBatch(a, 'big', 'mllines2', [...hundred, 'line 100']);
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_MAX_LINES 100 :Multiline batch max-lines exceeded');
    // one FAIL only: the rest of the refused batch (and its BATCH -) is dropped silently
    const rest = await a.sync();
    assert.deepEqual(rest.filter((l) => l.includes('FAIL')), []);
    await b.expectNone('PRIVMSG', 200);
  });

  test('max-bytes: 40,000 bytes pass, 40,001 → FAIL BATCH MULTILINE_MAX_BYTES 40000', async () => {
    const a = await srv.client('mlbytes', { caps: ML });
    const b = await srv.client('mlbytes2', { caps: ML });
    await a.sync();
    // 100 lines of 400 bytes joined by concat: exactly 40,000 bytes
    const exact = Array.from({ length: 100 }, (_, i) => ({ text: String(i % 10).repeat(400), concat: i > 0 }));
    sendBatch(a, 'fits', 'mlbytes2', exact);
    const got = await b.collectUntil(/ BATCH -/, 5000);
    assert.equal(got.filter((l) => l.includes('PRIVMSG')).length, 100);
    // one more byte
    sendBatch(a, 'over', 'mlbytes2', [{ text: 'x'.repeat(401) }, ...exact.slice(1)]);
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_MAX_BYTES 40000 :Multiline batch max-bytes exceeded');
    await a.sync();
    await b.expectNone('BATCH', 200);
    // each joining line feed counts one byte: 99×400 (concat) + 1 (\n) + 400 = 40,001
    const withLf = [{ text: 'a'.repeat(400) }, ...Array.from({ length: 98 }, () => ({ text: 'b'.repeat(400), concat: true })), { text: 'c'.repeat(400) }];
    sendBatch(a, 'lf2', 'mlbytes2', withLf);
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_MAX_BYTES 40000 :Multiline batch max-bytes exceeded');
    // …and with a 399-byte last line it is exactly 40,000: delivered
    sendBatch(a, 'lf3', 'mlbytes2', [...withLf.slice(0, -1), { text: 'c'.repeat(399) }]);
    const lf3 = await b.collectUntil(/ BATCH -/, 5000);
    assert.ok(lf3.some((l) => l.endsWith('c'.repeat(399))));
  });

  test('at most 5 open batches: the 6th BATCH + → FAIL BATCH; closing one makes room', async () => {
    const a = await srv.client('mlopen', { caps: ML });
    const b = await srv.client('mlopen2');
    await a.sync();
    for (let i = 1; i <= 5; i++) a.send(`BATCH +o${i} draft/multiline mlopen2`);
    const ok = await a.sync();
    assert.equal(ok.length, 1, ok.join(' | '));
    a.send('BATCH +o6 draft/multiline mlopen2');
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Too many open multiline batches (at most 5)');
    // lines of the refused batch are dropped without further FAILs, and never delivered
    a.send('@batch=o6 PRIVMSG mlopen2 :six', 'BATCH -o6');
    const after6 = await a.sync();
    assert.deepEqual(after6.filter((l) => l.includes('FAIL')), []);
    a.send('@batch=o1 PRIVMSG mlopen2 :one', 'BATCH -o1');
    assert.equal(await b.expect('PRIVMSG'), `:mlopen!mlopen@${G} PRIVMSG mlopen2 one`);
    a.send('BATCH +o7 draft/multiline mlopen2', '@batch=o7 PRIVMSG mlopen2 :seven', 'BATCH -o7');
    assert.equal(await b.expect('PRIVMSG'), `:mlopen!mlopen@${G} PRIVMSG mlopen2 seven`);
    await b.sync();
    assert.ok(!b.received.some((l) => l.includes('six')));
  });

  test('invalid target, unknown reference, empty and blank batches, missing cap, unsupported type', async () => {
    const a = await srv.client('mlbad', { caps: ML });
    const b = await srv.client('mlbad2', { caps: ML });
    await join(a, '#foo'); await join(b, '#foo');
    await a.sync(); b.skip();
    sendBatch(a, 't', '#foo', ['fine', { text: 'hello', target: '#bar' }]);
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID_TARGET #foo #bar :Invalid multiline target');
    // the batch target is case-insensitive
    sendBatch(a, 'c', '#foo', [{ text: 'case', target: '#FOO' }]);
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG #foo case$/);
    assert.ok(!b.received.some((l) => l.includes('fine')), 'the refused batch was not delivered');

    a.send('@batch=nope PRIVMSG #foo :stray');
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Unknown batch reference');
    a.send('BATCH -nope');
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Unknown batch reference');
    a.send('BATCH +e draft/multiline #foo', 'BATCH -e');
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Empty multiline batch');
    sendBatch(a, 'bl', '#foo', ['', '']);
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Multiline message is blank');
    sendBatch(a, 'bc', '#foo', ['x', { text: '', concat: true }]);
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Blank line with draft/multiline-concat');
    a.send('BATCH +ty chathistory #foo');
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Unsupported batch type');
    a.send('BATCH +dup draft/multiline #foo', 'BATCH +dup draft/multiline #foo');
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Batch reference already in use');
    a.send('BATCH -dup', 'BATCH +x');
    assert.equal(await a.expect('461'), ':irc.test 461 mlbad BATCH :Not enough parameters');
    a.send('BATCH x');
    assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :Invalid batch reference');
    // a channel that does not exist is refused like a PRIVMSG to it, when the batch closes
    sendBatch(a, 'nx', '#nowhere', ['hi']);
    assert.equal(await a.expect('403'), ':irc.test 403 mlbad #nowhere :No such channel');

    const noCap = await srv.client('mlnocap', { caps: ['batch'] });
    noCap.send('BATCH +z draft/multiline mlbad', '@batch=z PRIVMSG mlbad :hi', 'BATCH -z');
    assert.equal(await noCap.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_INVALID :The draft/multiline capability is not enabled');
    const rest = await noCap.sync();
    assert.deepEqual(rest.filter((l) => l.includes('FAIL')), [], 'the refused batch\'s lines are dropped quietly');
    await a.expectNone(/PRIVMSG mlbad/, 100);
  });

  test('channel rules apply when the batch closes: +n outsider, +m', async () => {
    const op = await srv.client('mlop', { caps: ML });
    const out = await srv.client('mlout', { caps: ML });
    await join(op, '#rules');
    await op.sync();
    sendBatch(out, 'n', '#rules', ['a', 'b']);
    assert.equal(await out.expect('404'), ':irc.test 404 mlout #rules :Cannot send to channel (no external messages)');
    await join(out, '#rules');
    op.send('MODE #rules +m');
    await out.expect('MODE');
    sendBatch(out, 'm', '#rules', ['a', 'b']);
    assert.equal(await out.expect('404'), ':irc.test 404 mlout #rules :Cannot send to channel (+m)');
    await op.sync();
    assert.ok(!op.received.some((l) => / PRIVMSG #rules /.test(l) || / BATCH \+/.test(l)), op.received.join('\n'));
  });
});

describe('draft/multiline: rate limit, fakelag, config limits', () => {
  test('one multiline message counts once against message-rate; its lines are not fakelagged', async () => {
    const srv = await bootServer({ 'message-rate': 2, 'message-rate-window': '60s', fakelag: true, 'fakelag-burst': 5, 'fakelag-rate': 1, 'fakelag-window': '1s' });
    try {
      const a = await srv.client('mlrate', { caps: ML });
      const b = await srv.client('mlrate2');
      await a.sync();
      const t0 = Date.now();
      // 50 lines: with fakelag on them, this would take ~45 s
      sendBatch(a, 'r1', 'mlrate2', Array.from({ length: 50 }, (_, i) => `l${i}`));
      await b.expect((l) => l.endsWith(' l49'), 5000);
      assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
      sendBatch(a, 'r2', 'mlrate2', ['second', 'message']);
      assert.equal(await b.expect('PRIVMSG'), `:mlrate!mlrate@${guestCloak(srv)} PRIVMSG mlrate2 second`);
      // the third message in the window is over message-rate 2
      a.send('PRIVMSG mlrate2 :third');
      assert.equal(await a.expect('404', 5000), ':irc.test 404 mlrate mlrate2 :Flood protection: sending too fast');
    } finally { await srv.stop(); }
  });

  test('multiline-max-bytes / multiline-max-lines configure the limits and the CAP value', async () => {
    const srv = await bootServer({ 'multiline-max-bytes': 1000, 'multiline-max-lines': 3 });
    try {
      const c = await srv.connect();
      c.send('CAP LS 302');
      assert.match(await c.expect('CAP'), / draft\/multiline=max-bytes=1000,max-lines=3 /);
      const a = await srv.client('mlcfg', { caps: ML });
      sendBatch(a, 'l', 'mlcfg', ['1', '2', '3', '4']);
      assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_MAX_LINES 3 :Multiline batch max-lines exceeded');
      sendBatch(a, 'b', 'mlcfg', ['x'.repeat(400), 'x'.repeat(400), 'x'.repeat(199)]);
      assert.equal(await a.expect('FAIL'), ':irc.test FAIL BATCH MULTILINE_MAX_BYTES 1000 :Multiline batch max-bytes exceeded');
      // 400 + 1 + 400 + 1 + 198 = 1000: fits, delivered to oneself
      sendBatch(a, 'ok', 'mlcfg', ['x'.repeat(400), 'x'.repeat(400), 'y'.repeat(198)]);
      const got = await a.collectUntil(/ BATCH -/);
      assert.equal(got.filter((l) => l.includes('PRIVMSG')).length, 3);
    } finally { await srv.stop(); }
  });
});

describe('draft/multiline and history', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('a delivered multiline message is recorded once, with its lines and the joined text', async () => {
    const a = await srv.client('mlhist', { caps: [...ML, 'echo-message'] });
    await join(a, '#hist');
    await a.sync();
    sendBatch(a, 'h', '#hist', ['first', 'sec', { text: 'ond', concat: true }]);
    const echo = await a.collectUntil(/ BATCH -/);
    const msgid = MSGID.exec(echo[0]!)?.[1];
    assert.ok(msgid);
    const stored = srv.server.context.historyReader.latest('#hist', 10);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.msgid, msgid);
    assert.equal(stored[0]!.text, 'first\nsecond');
    assert.deepEqual(stored[0]!.lines, [{ text: 'first', concat: false }, { text: 'sec', concat: false }, { text: 'ond', concat: true }]);
  });
});
