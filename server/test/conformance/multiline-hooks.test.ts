import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parse, type RawClient } from '../harness/raw-client.js';
import type { AdmissionServer } from './admission-helpers.js';
import { bootWithPlugins, hooks } from './plugins-helpers.js';

// draft/multiline with the parts other modules own: plugins (onMessage sees one message, a
// rewrite is delivered as lines), the idle timeout (hardening C6, shiftable clock), CHATHISTORY

const ML = ['batch', 'draft/multiline', 'message-tags'];
/** longer than one session sweep tick (1 s with the defaults) */
const TICK = 1300;

describe('draft/multiline: plugins, timeout, history replay', () => {
  let s: AdmissionServer;
  /** the guest cloak of 127.0.0.1 (what harness/cloaks.ts guestCloak gives; s is not a TestServer) */
  let G: string;
  const clients: RawClient[] = [];
  before(async () => {
    s = await bootWithPlugins({ plugin: ['test-recorder', 'word-filter:words=darn,action=mask'] });
    G = s.server.context.ops.cloaks.guest('127.0.0.1');
  });
  after(async () => { for (const c of clients) c.destroy(); await s.stop(); });

  async function client(nick: string, caps: string[]): Promise<RawClient> {
    const c = await s.connect();
    clients.push(c);
    await c.register(nick, caps);
    return c;
  }

  async function join(c: RawClient, ch: string): Promise<void> {
    c.send(`JOIN ${ch}`);
    await c.expect('366');
  }

  test('onMessage sees the joined text once; a rewrite is delivered as the rewritten lines', async () => {
    const a = await client('mlplug', ML);
    const b = await client('mlplug2', ML);
    const p = await client('mlplug3', []);
    for (const c of [a, b, p]) await join(c, '#plug');
    await a.sync(); b.skip(); p.skip();
    const before = hooks('onMessage').length;
    a.send('BATCH +w draft/multiline #plug', '@batch=w PRIVMSG #plug :well darn', '@batch=w PRIVMSG #plug :it ', '@batch=w;draft/multiline-concat PRIVMSG #plug :works', 'BATCH -w');
    const got = await b.collectUntil(/ BATCH -/);
    const ref = parse(got[0]!).params[0]!.slice(1);
    assert.deepEqual(got.slice(1), [
      `@batch=${ref} :mlplug!mlplug@${G} PRIVMSG #plug :well ****`,
      `@batch=${ref} :mlplug!mlplug@${G} PRIVMSG #plug :it works`,
      `:mlplug!mlplug@${G} BATCH -${ref}`,
    ]);
    assert.equal(await p.expect('PRIVMSG'), `:mlplug!mlplug@${G} PRIVMSG #plug :well ****`);
    assert.equal(await p.expect('PRIVMSG'), `:mlplug!mlplug@${G} PRIVMSG #plug :it works`);
    const seen = hooks('onMessage').slice(before).filter((e) => e.nick === 'mlplug');
    assert.deepEqual(seen.map((e) => [e.command, e.target, e.text]), [['PRIVMSG', '#plug', 'well darn\nit works']]);
  });

  test('an open batch idle for 30 s is discarded with FAIL BATCH TIMEOUT; its lines are then dropped quietly', async () => {
    const a = await client('mlidle', ML);
    const b = await client('mlidle2', ML);
    a.send('BATCH +slow draft/multiline mlidle2', '@batch=slow PRIVMSG mlidle2 :waiting');
    await a.sync();
    s.advance(28_000);
    await a.expectNone('FAIL', TICK);
    // a line is activity: the 30 s start again
    a.send('@batch=slow PRIVMSG mlidle2 :still here');
    await a.sync();
    s.advance(28_000);
    await a.expectNone('FAIL', TICK);
    s.advance(3_000);
    assert.equal(await a.expect('FAIL', 3000), ':irc.test FAIL BATCH TIMEOUT slow :Multiline batch timed out');
    a.send('@batch=slow PRIVMSG mlidle2 :late', 'BATCH -slow');
    const rest = await a.sync();
    assert.deepEqual(rest.filter((l) => l.includes('FAIL')), []);
    await b.expectNone('PRIVMSG', 100);
    // the slot is free again
    a.send('BATCH +slow draft/multiline mlidle2', '@batch=slow PRIVMSG mlidle2 :now', 'BATCH -slow');
    await b.expect(/ BATCH \+/);
    assert.match(await b.expect('PRIVMSG'), / PRIVMSG mlidle2 now$/);
  });

  test('CHATHISTORY replays a multiline message as one nested draft/multiline batch (fallback: its lines)', async () => {
    const a = await client('mlch', [...ML, 'echo-message']);
    await join(a, '#chist');
    await a.sync();
    a.send('BATCH +h draft/multiline #chist', '@batch=h PRIVMSG #chist :one', '@batch=h PRIVMSG #chist :tw', '@batch=h;draft/multiline-concat PRIVMSG #chist :o', 'BATCH -h');
    const echo = await a.collectUntil(/ BATCH -/);
    const msgid = parse(echo[0]!).tags.get('msgid');
    assert.ok(msgid);
    const r = await client('mlch2', [...ML, 'draft/chathistory']);
    await join(r, '#chist');
    r.send('CHATHISTORY LATEST #chist * 10');
    const lines = await r.collectUntil((l) => /^(@\S+ )?:irc\.test BATCH -/.test(l));
    const start = lines.findIndex((l) => / BATCH \+\S+ draft\/multiline #chist$/.test(l));
    assert.ok(start >= 0, lines.join('\n'));
    const inner = parse(lines[start]!);
    assert.equal(inner.tags.get('msgid'), msgid);
    const ref = inner.params[0]!.slice(1);
    const body = lines.filter((l) => l.startsWith(`@batch=${ref}`)).map((l) => parse(l));
    assert.deepEqual(body.map((m) => [m.params[1], m.tags.has('draft/multiline-concat')]), [['one', false], ['tw', false], ['o', true]]);

    const plain = await client('mlch3', ['batch', 'message-tags', 'draft/chathistory']);
    await join(plain, '#chist');
    plain.send('CHATHISTORY LATEST #chist * 10');
    const pl = (await plain.collectUntil((l) => /^(@\S+ )?:irc\.test BATCH -/.test(l))).filter((l) => l.includes('PRIVMSG'));
    assert.deepEqual(pl.map((l) => parse(l).params[1]), ['one', 'tw', 'o']);
    assert.equal(parse(pl[0]!).tags.get('msgid'), msgid);
  });
});
