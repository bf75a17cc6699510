// #16: IRCv3 draft/message-redaction (https://ircv3.net/specs/extensions/message-redaction).
// Black-box over real sockets: who may REDACT what (state/redact-ops.ts), the spec's FAIL codes,
// delivery only to clients with the capability, the content deleted from the database (not just
// hidden), CHATHISTORY, the REST history API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { history, sleep, tagsOf, untagged } from './history-helpers.js';
import { ed25519Signer, loginWithDidKey } from './sasl-helpers.js';

// Spec, "Capability": "This specification adds the `draft/message-redaction` capability."
const CAP = 'draft/message-redaction';
/** everything a redaction test client needs: tags, echoes, history */
const FULL = ['message-tags', 'server-time', 'echo-message', 'batch', 'draft/chathistory', CAP];

interface Row { msgid: string; command: string; body: string | null; tags: string | null; lines: string | null; redacted: number; redacts: string | null; venue: string }

/** the message's row as the server stored it (the test opens the server's own SQLite file, read-only, beside it: WAL) */
function row(srv: TestServer, msgid: string): Row | undefined {
  const db = new Database(join(srv.dataDir, 'freeq.db'), { readonly: true });
  try {
    return db.prepare('SELECT msgid, command, body, tags, lines, redacted, redacts, venue FROM messages WHERE msgid = ?').get(msgid) as Row | undefined;
  } finally {
    db.close();
  }
}

/** the REDACT rows naming `msgid` */
function redactRows(srv: TestServer, msgid: string): Row[] {
  const db = new Database(join(srv.dataDir, 'freeq.db'), { readonly: true });
  try {
    return db.prepare('SELECT msgid, command, body, tags, lines, redacted, redacts, venue FROM messages WHERE redacts = ?').all(msgid) as Row[];
  } finally {
    db.close();
  }
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&');

/** `from` says `text` to `target`; the msgid as `seer` got it */
async function say(from: RawClient, seer: RawClient, target: string, text: string): Promise<string> {
  from.send(`PRIVMSG ${target} :${text}`);
  const line = await seer.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === text);
  return tagsOf(line).msgid!;
}

/**
 * `c` sends `line` (a REDACT) and gets its echo (echo-message): the echo waits until history has
 * applied the redaction (#12), so the database can be checked right after
 */
async function redact(c: RawClient, line: string): Promise<string> {
  c.send(line);
  return c.expect((_l, m) => m.command === 'REDACT');
}

/** everything `c` got up to a PING round trip (the lines before the PONG) */
async function drain(c: RawClient): Promise<string[]> {
  return (await c.sync()).slice(0, -1);
}

describe('draft/message-redaction', () => {
  let srv: TestServer;
  let n = 0;
  const chan = (): string => `#red${++n}`;

  before(async () => {
    srv = await bootServer({ 'oper-password': 'opersecret', 'channel-creation-per-connection': 1000, 'max-connections-per-ip': 1000 });
  });
  after(async () => { await srv.stop(); });

  /** alice (op, first in), bob and carol join a fresh channel; carol has no redaction capability */
  async function scene(caps: { carol?: string[] } = {}) {
    const ch = chan();
    const alice = await srv.client(`alice${n}`, { caps: FULL });
    const bob = await srv.client(`bob${n}`, { caps: FULL });
    const carol = await srv.client(`carol${n}`, { caps: caps.carol ?? ['message-tags', 'server-time', 'batch', 'draft/chathistory'] });
    for (const c of [alice, bob, carol]) {
      c.send(`JOIN ${ch}`);
      await c.expect(new RegExp(` 366 ${c.nick} ${esc(ch)} `));
    }
    await drain(alice);
    return { ch, alice, bob, carol };
  }

  test('the capability is advertised', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    const ls = await c.collectUntil(/ CAP \* LS :/);
    assert.ok(ls.some((l) => l.split(' ').includes(CAP) || l.endsWith(` ${CAP}`) || l.includes(` ${CAP} `)), ls.join('\n'));
    c.destroy();
  });

  test('a sender redacts its own message: relayed to the channel\'s clients with the capability only, and its content is gone from the database', async () => {
    const { ch, alice, bob, carol } = await scene();
    const msgid = await say(alice, bob, ch, 'an example');
    await carol.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === 'an example');
    await drain(alice);
    const before = row(srv, msgid);
    assert.ok(before && before.body !== null && before.body.startsWith('fq1:'), 'stored, encrypted');
    // Spec, "Examples": C: REDACT #channel 123 :bad example / S: @msgid=124 :nick!u@h REDACT #channel 123 :bad example
    alice.send(`REDACT ${ch} ${msgid} :bad example`);
    const echo = await alice.expect((_l, m) => m.command === 'REDACT');
    assert.match(untagged(echo), new RegExp(`^:${alice.nick}!\\S+ REDACT ${esc(ch)} ${msgid} :bad example$`));
    const echoTags = tagsOf(echo);
    assert.ok(echoTags.msgid && echoTags.msgid !== msgid, 'the REDACT has its own msgid');
    assert.ok(echoTags.time, 'and a server-time');
    // "SHOULD forward this REDACT, with an appropriate prefix, to the target recipients that have
    // negotiated the draft/message-redaction capability, in the same way as PRIVMSG messages"
    const got = await bob.expect((_l, m) => m.command === 'REDACT');
    assert.equal(got, echo, 'the same line, the same msgid');
    // "MUST not forward this REDACT to target recipients that have not negotiated this capability"
    // (no fallback NOTICE either: the Fallback section leaves it to servers)
    assert.deepEqual((await drain(carol)).filter((l) => /REDACT|NOTICE/.test(l)), []);
    // deleted from the database, not hidden: the row keeps its place, without body, tags or lines
    const after = row(srv, msgid)!;
    assert.deepEqual([after.body, after.tags, after.lines, after.redacted], [null, null, null, 1]);
    const r = redactRows(srv, msgid);
    assert.equal(r.length, 1);
    assert.equal(r[0]!.msgid, echoTags.msgid);
    assert.equal(r[0]!.command, 'REDACT');
    assert.ok(r[0]!.body !== null && !r[0]!.body.includes('bad example'), 'the reason is stored encrypted');
  });

  test('a signed message (a logged-in sender) loses its signature with its content', async () => {
    const ch = chan();
    const signer = ed25519Signer();
    const dora = await loginWithDidKey(srv, 'dora', signer, ['message-tags', 'echo-message', CAP]);
    const eve = await srv.client('eve', { caps: ['message-tags', CAP] });
    for (const [c, nick] of [[dora, 'dora'], [eve, 'eve']] as const) {
      c.send(`JOIN ${ch}`);
      await c.expect(new RegExp(` 366 ${nick} ${esc(ch)} `));
    }
    dora.send(`PRIVMSG ${ch} :signed words`);
    const line = await eve.expect((_l, m) => m.command === 'PRIVMSG');
    const tags = tagsOf(line);
    assert.ok(tags['+freeq.at/sig'], `signed: ${line}`);
    await dora.expect((_l, m) => m.command === 'PRIVMSG'); // the echo: stored by now (#12)
    assert.ok(row(srv, tags.msgid!)!.tags !== null, 'the signature is stored with the message');
    await redact(dora, `REDACT ${ch} ${tags.msgid}`);
    assert.match(untagged(await eve.expect((_l, m) => m.command === 'REDACT')), new RegExp(`^:dora!\\S+ REDACT ${esc(ch)} ${tags.msgid}$`));
    const after = row(srv, tags.msgid!)!;
    assert.deepEqual([after.body, after.tags], [null, null], 'body and signature gone');
    dora.destroy();
    eve.destroy();
  });

  test('a channel operator redacts anyone\'s message of the channel; a member who is not may not (and nothing changes)', async () => {
    const { ch, alice, bob } = await scene();
    const mine = await say(alice, bob, ch, 'from the op');
    const theirs = await say(bob, alice, ch, 'join my network for cold hard chats');
    await drain(bob);
    // Spec, "Errors": FAIL REDACT REDACT_FORBIDDEN <target> <target-msgid> :You are not authorised to delete this message
    bob.send(`REDACT ${ch} ${mine} :no`);
    assert.equal(untagged(await bob.expect('FAIL')), `:irc.test FAIL REDACT REDACT_FORBIDDEN ${ch} ${mine} :You are not authorised to delete this message`);
    assert.notEqual(row(srv, mine)!.body, null, 'refused: the message keeps its content');
    assert.deepEqual(redactRows(srv, mine), []);
    assert.deepEqual((await drain(alice)).filter((l) => l.includes('REDACT')), [], 'and nobody hears of it');
    // Spec, "Examples": deleting someone else's PRIVMSG (C2 is a channel operator)
    await redact(alice, `REDACT ${ch} ${theirs} spam`);
    assert.match(untagged(await bob.expect((_l, m) => m.command === 'REDACT')), new RegExp(`^:${alice.nick}!\\S+ REDACT ${esc(ch)} ${theirs} spam$`));
    assert.equal(row(srv, theirs)!.body, null);
  });

  test('a server operator redacts a message of a channel it is not in', async () => {
    const { ch, alice, bob } = await scene();
    const msgid = await say(bob, alice, ch, 'reported');
    const op = await srv.client(`oper${n}`, { caps: ['message-tags', 'echo-message', CAP] });
    op.send('OPER root opersecret');
    await op.expect(/ 381 /);
    assert.match(untagged(await redact(op, `REDACT ${ch} ${msgid} :moderation`)), new RegExp(` REDACT ${esc(ch)} ${msgid} :?moderation$`));
    assert.match(untagged(await alice.expect((_l, m) => m.command === 'REDACT')), new RegExp(`^:${op.nick}!\\S+ REDACT ${esc(ch)} ${msgid} :?moderation$`));
    assert.equal(row(srv, msgid)!.body, null);
    op.destroy();
  });

  test('errors: 461, UNKNOWN_MSGID (unknown, another channel\'s, already redacted, a REDACT), INVALID_TARGET, 417; each changes nothing', async () => {
    const { ch, alice, bob } = await scene();
    const other = chan();
    alice.send(`JOIN ${other}`);
    await alice.expect(new RegExp(` 366 ${alice.nick} ${esc(other)} `));
    const here = await say(alice, bob, ch, 'stays');
    alice.send(`PRIVMSG ${other} :elsewhere`);
    const there = tagsOf(await alice.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === 'elsewhere')).msgid!;
    await drain(alice);
    const fail = async (cmd: string): Promise<string> => {
      alice.send(cmd);
      return untagged(await alice.expect((_l, m) => m.command === 'FAIL' || /^\d{3}$/.test(m.command)));
    };
    assert.equal(await fail(`REDACT ${ch}`), `:irc.test 461 ${alice.nick} REDACT :Not enough parameters`);
    // Spec, "Errors": FAIL REDACT UNKNOWN_MSGID <target> <target-msgid> :This message does not exist or is too old
    assert.equal(await fail(`REDACT ${ch} nosuchmsgid`), `:irc.test FAIL REDACT UNKNOWN_MSGID ${ch} nosuchmsgid :This message does not exist or is too old`);
    assert.equal(await fail(`REDACT ${ch} ${there}`), `:irc.test FAIL REDACT UNKNOWN_MSGID ${ch} ${there} :This message does not exist or is too old`, 'a message of another channel');
    assert.equal(await fail(`REDACT ${ch} ${'x'.repeat(65)}`), `:irc.test FAIL REDACT UNKNOWN_MSGID ${ch} ${'x'.repeat(65)} :This message does not exist or is too old`);
    // Spec, "Errors": FAIL REDACT INVALID_TARGET <target> :You cannot delete messages from <target>
    assert.equal(await fail(`REDACT nobody ${here}`), `:irc.test FAIL REDACT INVALID_TARGET nobody :You cannot delete messages from nobody`);
    assert.equal(await fail(`REDACT ${bob.nick} ${here}`), `:irc.test FAIL REDACT INVALID_TARGET ${bob.nick} :You cannot delete messages from ${bob.nick}`, 'a guest has no stored private messages');
    // B2: a REDACT too long to relay whole is refused, never cut
    assert.equal(await fail(`REDACT ${ch} ${here} :${'r'.repeat(460)}`), `:irc.test 417 ${alice.nick} :Line too long to be relayed without truncation`);
    assert.notEqual(row(srv, here)!.body, null, 'nothing changed');
    assert.deepEqual(redactRows(srv, here), []);
    assert.deepEqual((await drain(bob)).filter((l) => l.includes('REDACT')), []);
    // redacted once: a second REDACT of it, or a REDACT of the REDACT, is unknown
    const id = tagsOf(await redact(alice, `REDACT ${ch} ${here}`)).msgid!;
    assert.equal(await fail(`REDACT ${ch} ${here}`), `:irc.test FAIL REDACT UNKNOWN_MSGID ${ch} ${here} :This message does not exist or is too old`);
    assert.equal(await fail(`REDACT ${ch} ${id}`), `:irc.test FAIL REDACT UNKNOWN_MSGID ${ch} ${id} :This message does not exist or is too old`);
    assert.equal(redactRows(srv, here).length, 1);
  });

  test('a secret channel: an outsider who is not the sender gets UNKNOWN_MSGID, not a hint that the message exists', async () => {
    const { ch, alice, bob } = await scene();
    alice.send(`MODE ${ch} +s`);
    await alice.expect(/ MODE \S+ \+s$/);
    const msgid = await say(alice, bob, ch, 'secret');
    await drain(alice);
    const out = await srv.client(`outsider${n}`, { caps: [CAP] });
    out.send(`REDACT ${ch} ${msgid}`);
    assert.equal(untagged(await out.expect('FAIL')), `:irc.test FAIL REDACT UNKNOWN_MSGID ${ch} ${msgid} :This message does not exist or is too old`);
    assert.notEqual(row(srv, msgid)!.body, null);
    out.destroy();
  });

  test('a guest\'s own message: only from the connection that said it (a reconnect is someone else)', async () => {
    const { ch, alice, bob } = await scene();
    const msgid = await say(bob, alice, ch, 'said as a guest');
    bob.send('QUIT');
    await bob.waitClosed();
    const again = await srv.client(bob.nick, { caps: FULL });
    again.send(`JOIN ${ch}`);
    await again.expect(/ 366 /);
    again.send(`REDACT ${ch} ${msgid}`);
    assert.equal(untagged(await again.expect('FAIL')), `:irc.test FAIL REDACT REDACT_FORBIDDEN ${ch} ${msgid} :You are not authorised to delete this message`);
    assert.notEqual(row(srv, msgid)!.body, null);
    again.destroy();
  });

  test('CHATHISTORY: the redacted message is never replayed; draft/message-redaction clients get the REDACT at its time, not counted in the limit', async () => {
    const { ch, alice, bob, carol } = await scene();
    const ids: string[] = [];
    for (const t of ['m1', 'm2', 'm3', 'm4']) ids.push(await say(alice, bob, ch, t));
    alice.send(`REDACT ${ch} ${ids[1]} :typo`);
    const redact = await bob.expect((_l, m) => m.command === 'REDACT');
    const redactId = tagsOf(redact).msgid!;
    // Spec, "Chat history": after a message is redacted, chathistory responses SHOULD either exclude
    // it entirely, [...] or add the REDACT message to the response (not counting toward message limits)
    const withCap = await history(bob, `CHATHISTORY LATEST ${ch} * 2`);
    assert.deepEqual(withCap.items.map((l) => [parse(l).command, parse(l).params.slice(1).join(' ')]), [
      ['PRIVMSG', 'm3'], ['PRIVMSG', 'm4'], ['REDACT', `${ids[1]} typo`],
    ]);
    const replayed = withCap.items[2]!;
    assert.equal(tagsOf(replayed).msgid, redactId, 'with the REDACT\'s own msgid');
    assert.equal(tagsOf(replayed).batch, withCap.id, 'inside the chathistory batch');
    // without the capability: as if the message had never been
    assert.deepEqual((await history(carol, `CHATHISTORY LATEST ${ch} * 10`)).items.map((l) => parse(l).params[1]), ['m1', 'm3', 'm4']);
    // a reference to the redacted message still finds its place
    assert.deepEqual((await history(bob, `CHATHISTORY AFTER ${ch} msgid=${ids[1]} 10`)).items.map((l) => parse(l).command === 'REDACT' ? 'REDACT' : parse(l).params[1]), ['m3', 'm4', 'REDACT']);
    assert.deepEqual((await history(bob, `CHATHISTORY BEFORE ${ch} msgid=${ids[2]} 10`)).items.map((l) => parse(l).params[1]), ['m1']);
  });

  test('the REST history API no longer returns the message', async () => {
    const { ch, alice, bob } = await scene();
    const keep = await say(alice, bob, ch, 'public words');
    const gone = await say(alice, bob, ch, 'regretted words');
    await redact(alice, `REDACT ${ch} ${gone}`);
    const res = await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/channels/${encodeURIComponent(ch)}/history`);
    assert.equal(res.status, 200);
    const body = await res.json() as { messages: Array<{ msgid: string; text: string; command: string }> };
    assert.deepEqual(body.messages.map((m) => [m.msgid, m.command, m.text]), [[keep, 'PRIVMSG', 'public words']]);
  });

  test('a reaction (stored TAGMSG) and a multiline message can be redacted too', async () => {
    const { ch, alice, bob } = await scene();
    const target = await say(bob, alice, ch, 'react to me');
    alice.send(`@+draft/react=👍;+draft/reply=${target} TAGMSG ${ch}`);
    const react = tagsOf(await bob.expect((_l, m) => m.command === 'TAGMSG')).msgid!;
    await drain(alice);
    assert.notEqual(row(srv, react)!.tags, null, 'the reaction is stored');
    // Spec, "Examples": deleting a TAGMSG
    await redact(alice, `REDACT ${ch} ${react}`);
    assert.match(untagged(await bob.expect((_l, m) => m.command === 'REDACT')), new RegExp(` REDACT ${esc(ch)} ${react}$`));
    assert.equal(row(srv, react)!.tags, null);
    alice.send('CAP REQ :draft/multiline', `BATCH +ml draft/multiline ${ch}`, `@batch=ml PRIVMSG ${ch} :line one`, `@batch=ml PRIVMSG ${ch} :line two`, 'BATCH -ml');
    const ml = tagsOf(await bob.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === 'line one')).msgid!;
    await drain(alice);
    assert.notEqual(row(srv, ml)!.lines, null);
    await redact(alice, `REDACT ${ch} ${ml}`);
    const r = row(srv, ml)!;
    assert.deepEqual([r.body, r.tags, r.lines], [null, null, null]);
  });

  test('private messages: the sender redacts (both sides hear it, each as a private message names them); the recipient may not; a server operator may', async () => {
    const fay = await loginWithDidKey(srv, 'fay', ed25519Signer(), ['message-tags', 'echo-message', 'server-time', 'batch', 'draft/chathistory', CAP]);
    const gus = await loginWithDidKey(srv, 'gus', ed25519Signer(), ['message-tags', 'server-time', 'batch', 'draft/chathistory', CAP]);
    fay.send('PRIVMSG gus :psst');
    const msgid = tagsOf(await gus.expect((_l, m) => m.command === 'PRIVMSG')).msgid!;
    await drain(fay);
    assert.ok(row(srv, msgid)?.venue.startsWith('dm:'), 'stored as the two accounts\' conversation');
    gus.send(`REDACT fay ${msgid}`);
    assert.equal(untagged(await gus.expect('FAIL')), `:irc.test FAIL REDACT REDACT_FORBIDDEN fay ${msgid} :You are not authorised to delete this message`);
    assert.notEqual(row(srv, msgid)!.body, null);
    assert.match(untagged(await redact(fay, `REDACT gus ${msgid} :wrong window`)), new RegExp(`^:fay!\\S+ REDACT gus ${msgid} :wrong window$`));
    assert.match(untagged(await gus.expect((_l, m) => m.command === 'REDACT')), new RegExp(`^:fay!\\S+ REDACT gus ${msgid} :wrong window$`));
    assert.equal(row(srv, msgid)!.body, null);
    // gus's history of the conversation: no message, the REDACT naming the conversation as gus does
    const h = await history(gus, 'CHATHISTORY LATEST fay * 10');
    assert.deepEqual(h.items.map((l) => untagged(l).replace(/^:fay!\S+ /, ':fay ')), [`:fay REDACT fay ${msgid} :wrong window`]);
    // a server operator (neither side) redacts by naming either side: each side's REDACT names the other
    gus.send('PRIVMSG fay :harassment');
    const bad = tagsOf(await fay.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === 'harassment')).msgid!;
    const op = await srv.client(`dmoper${n}`, { caps: ['message-tags', 'echo-message', CAP] });
    op.send('OPER root opersecret');
    await op.expect(/ 381 /);
    assert.match(untagged(await redact(op, `REDACT fay ${bad} :abuse`)), new RegExp(` REDACT fay ${bad} :?abuse$`));
    assert.match(untagged(await fay.expect((_l, m) => m.command === 'REDACT')), new RegExp(`^:${op.nick}!\\S+ REDACT gus ${bad} :?abuse$`));
    assert.match(untagged(await gus.expect((_l, m) => m.command === 'REDACT')), new RegExp(`^:${op.nick}!\\S+ REDACT fay ${bad} :?abuse$`));
    assert.equal(row(srv, bad)!.body, null);
    op.destroy();
    fay.destroy();
    gus.destroy();
  });
});

describe('redact-window', () => {
  test('0: senders cannot redact their own messages (channel operators still can)', async () => {
    const srv = await bootServer({ 'redact-window': '0' });
    try {
      const op = await srv.client('op', { caps: FULL });
      const user = await srv.client('user', { caps: FULL });
      for (const c of [op, user]) { c.send('JOIN #w'); await c.expect(/ 366 /); }
      const msgid = await say(user, op, '#w', 'mine');
      await drain(user);
      user.send(`REDACT #w ${msgid}`);
      assert.equal(untagged(await user.expect('FAIL')), `:irc.test FAIL REDACT REDACT_FORBIDDEN #w ${msgid} :You are not authorised to delete this message`);
      assert.notEqual(row(srv, msgid)!.body, null);
      await redact(op, `REDACT #w ${msgid}`);
      assert.equal(row(srv, msgid)!.body, null);
    } finally {
      await srv.stop();
    }
  });

  test('past the window: REDACT_WINDOW_EXPIRED with the window in seconds; a channel operator is not bound by it', async () => {
    const srv = await bootServer({ 'redact-window': '1s' });
    try {
      const op = await srv.client('op', { caps: FULL });
      const user = await srv.client('user', { caps: FULL });
      for (const c of [op, user]) { c.send('JOIN #w'); await c.expect(/ 366 /); }
      const early = await say(user, op, '#w', 'early');
      const fresh = await say(user, op, '#w', 'fresh');
      user.send(`REDACT #w ${fresh}`);
      await op.expect((_l, m) => m.command === 'REDACT' && m.params[1] === fresh);
      await sleep(1100);
      await drain(user);
      // Spec, "Errors": FAIL REDACT REDACT_WINDOW_EXPIRED <target> <target-msgid> <window> :You can no longer edit this message
      user.send(`REDACT #w ${early}`);
      assert.equal(untagged(await user.expect('FAIL')), `:irc.test FAIL REDACT REDACT_WINDOW_EXPIRED #w ${early} 1 :You can no longer delete this message`);
      assert.notEqual(row(srv, early)!.body, null);
      await redact(op, `REDACT #w ${early}`);
      assert.equal(row(srv, early)!.body, null);
    } finally {
      await srv.stop();
    }
  });
});
