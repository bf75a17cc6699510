// hardening.md C3: JOIN (same channel) 3/90 s → 500, INVITE 4/60 s and AWAY 4/120 s → 263,
// after registration, operators exempt; every refusal counted in freeq_limit_hits_total.
// Booted through startServer with a shiftable clock (admission-helpers), so windows are crossed by
// advancing the server's clock instead of sleeping. The production defaults are used on purpose.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootAdmission, operUp, type AdmissionServer } from './admission-helpers.js';
import type { RawClient } from '../harness/raw-client.js';

const OPER_PW = 'c3 oper password';
const TOOMANY = (nick: string, chan: string) => `:irc.test 500 ${nick} ${chan} :Too many join requests. Please wait a while and try again.`;
const TRYAGAIN = (nick: string, cmd: string) => `:irc.test 263 ${nick} ${cmd} :Please wait a while and try again.`;

async function joinPart(c: RawClient, chan: string): Promise<void> {
  c.send(`JOIN ${chan}`);
  await c.expect(new RegExp(`^:${c.nick}!\\S+ JOIN ${chan}$`));
  await c.expect(/ 366 /);
  c.send(`PART ${chan}`);
  await c.expect(new RegExp(`^:${c.nick}!\\S+ PART ${chan}`));
}

describe('C3 churn limits (defaults, fake clock)', () => {
  let s: AdmissionServer;
  // fakelag off: these clients send a few commands back to back and C1 would only slow them down
  before(async () => { s = await bootAdmission({ fakelag: false, 'oper-password': OPER_PW }); });
  after(async () => { await s.stop(); });

  test('the defaults are UnrealIRCd\'s: JOIN 3/90 s, INVITE 4/60 s, AWAY 4/120 s', () => {
    const c = s.server.context.config;
    assert.deepEqual(
      [c.joinRate, c.joinRateWindow, c.inviteRate, c.inviteRateWindow, c.awayRate, c.awayRateWindow],
      [3, 90_000, 4, 60_000, 4, 120_000],
    );
  });

  test('JOIN of the same channel: the 4th within 90 s → 500 and no join; other channels unaffected; after the window it works', async () => {
    const watcher = await s.client('jwatch');
    watcher.send('JOIN #churn');
    await watcher.expect(/ 366 /);
    const c = await s.client('jchurn');
    const before = await s.limitHits('join-rate');
    for (let i = 0; i < 3; i++) await joinPart(c, '#churn');
    watcher.skip();
    c.send('JOIN #churn');
    assert.equal(await c.expect(/ (500|366) /), TOOMANY('jchurn', '#churn'));
    // case-folded: the same channel under another spelling is still the same channel
    c.send('JOIN #CHURN');
    assert.equal(await c.expect(/ (500|366) /), TOOMANY('jchurn', '#churn'));
    assert.equal(await s.limitHits('join-rate'), before + 2);
    await watcher.expectNone(/ JOIN #churn$/, 200);
    assert.ok(!s.server.context.world.findChannel('#churn')!.members.has(s.server.context.world.findUser('jchurn')!));
    // another channel has its own budget
    c.send('JOIN #other');
    assert.match(await c.expect(/ (500|JOIN) /), /^:jchurn!\S+ JOIN #other$/);
    s.advance(90_000);
    c.send('JOIN #churn');
    assert.match(await c.expect(/ (500|JOIN) /), /^:jchurn!\S+ JOIN #churn$/);
    assert.match(await watcher.expect(/ JOIN /), /^:jchurn!\S+ JOIN #churn$/);
  });

  test('refused joins (475) do not count; only joins that happen do', async () => {
    const owner = await s.client('jowner');
    owner.send('JOIN #keyed', 'MODE #keyed +k sekrit');
    await owner.expect(/ MODE #keyed \+k sekrit$/);
    const c = await s.client('jkey');
    for (let i = 0; i < 5; i++) {
      c.send('JOIN #keyed wrong');
      assert.equal(await c.expect(/ (475|500) /), ':irc.test 475 jkey #keyed :Cannot join channel (+k)');
    }
    c.send('JOIN #keyed sekrit');
    assert.match(await c.expect(/ (500|JOIN) /), /^:jkey!\S+ JOIN #keyed$/);
  });

  test('INVITE: the 5th within 60 s → 263 and the target gets nothing; errors do not count; after the window it works', async () => {
    const c = await s.client('inviter');
    c.send('JOIN #inv');
    await c.expect(/ 366 /);
    const t = await s.client('invitee');
    const before = await s.limitHits('invite-rate');
    for (let i = 0; i < 3; i++) {
      c.send('INVITE nobody #inv');
      assert.equal(await c.expect(/ (401|341|263) /), ':irc.test 401 inviter nobody :No such nick/channel');
    }
    for (let i = 0; i < 4; i++) {
      c.send('INVITE invitee #inv');
      assert.equal(await c.expect(/ (341|263) /), ':irc.test 341 inviter invitee #inv');
      assert.match(await t.expect(/ INVITE /), /^:inviter!\S+ INVITE invitee #inv$/);
    }
    c.send('INVITE invitee #inv');
    assert.equal(await c.expect(/ (341|263) /), TRYAGAIN('inviter', 'INVITE'));
    await t.expectNone(/ INVITE /, 200);
    assert.equal(await s.limitHits('invite-rate'), before + 1);
    s.advance(60_000);
    c.send('INVITE invitee #inv');
    assert.equal(await c.expect(/ (341|263) /), ':irc.test 341 inviter invitee #inv');
  });

  test('AWAY: the 5th within 120 s → 263 and the status is unchanged; after the window it works', async () => {
    const c = await s.client('awayer');
    const before = await s.limitHits('away-rate');
    for (let i = 0; i < 2; i++) {
      c.send('AWAY :lunch');
      assert.equal(await c.expect(/ (306|305|263) /), ':irc.test 306 awayer :You have been marked as being away');
      c.send('AWAY');
      assert.equal(await c.expect(/ (306|305|263) /), ':irc.test 305 awayer :You are no longer marked as being away');
    }
    c.send('AWAY :fifth');
    assert.equal(await c.expect(/ (306|305|263) /), TRYAGAIN('awayer', 'AWAY'));
    assert.equal(s.server.context.world.findUser('awayer')!.away, undefined, 'still not away');
    assert.equal(await s.limitHits('away-rate'), before + 1);
    s.advance(120_000);
    c.send('AWAY :back to work');
    assert.equal(await c.expect(/ (306|305|263) /), ':irc.test 306 awayer :You have been marked as being away');
    assert.equal(s.server.context.world.findUser('awayer')!.away, 'back to work');
  });

  test('operators are exempt from all three', async () => {
    const op = await s.client('c3oper');
    await operUp(op, OPER_PW);
    for (let i = 0; i < 5; i++) await joinPart(op, '#opchurn');
    const t = await s.client('c3target');
    op.send('JOIN #opinv');
    await op.expect(/ 366 /);
    for (let i = 0; i < 6; i++) {
      op.send('INVITE c3target #opinv');
      assert.equal(await op.expect(/ (341|263) /), ':irc.test 341 c3oper c3target #opinv');
    }
    for (let i = 0; i < 6; i++) {
      op.send(i % 2 ? 'AWAY' : 'AWAY :busy');
      assert.match(await op.expect(/ (306|305|263) /), / 30[56] c3oper /);
    }
    await t.sync();
  });
});
