import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';
import { CAPABILITIES } from '../../src/session/caps.js';

// IRCv3 capability negotiation 302 (https://ircv3.net/specs/extensions/capability-negotiation)
const ALL = CAPABILITIES.map((c) => c.name).join(' ');
/** CAP LS 302 shows values (draft/multiline=max-bytes=40000,max-lines=100) */
const ALL302 = CAPABILITIES.map((c) => (c.value ? `${c.name}=${c.value}` : c.name)).join(' ');

describe('ircv3 CAP', () => {
  let srv: TestServer;
  // sasl is advertised only with sasl-mechanisms set (and carries a value): see sasl.test.ts
  before(async () => { srv = await bootServer({ 'sasl-mechanisms': '' }); });
  after(async () => { await srv.stop(); });

  test('CAP LS (no version): one line, every advertised cap', async () => {
    const c = await srv.connect();
    c.send('CAP LS');
    assert.equal(await c.expect('CAP'), `:irc.test CAP * LS :${ALL}`);
  });

  test('CAP LS 302: list; a higher version is treated as 302', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    assert.equal(await c.expect('CAP'), `:irc.test CAP * LS :${ALL302}`);
    c.send('CAP LS 309');
    assert.equal(await c.expect('CAP'), `:irc.test CAP * LS :${ALL302}`);
  });

  test('registration waits for CAP END after CAP LS', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302', 'NICK capwait', 'USER u 0 * :r');
    await c.expect('CAP');
    await c.expectNone('001', 300);
    c.send('CAP END');
    assert.equal(await c.expect('001'), `:irc.test 001 capwait :Welcome to the freeq IRC Network capwait!u@${guestCloak(srv)}`);
  });

  test('registration waits for CAP END after a blind CAP REQ', async () => {
    const c = await srv.connect();
    c.send('CAP REQ :multi-prefix', 'NICK capblind', 'USER u 0 * :r');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * ACK multi-prefix');
    await c.expectNone('001', 300);
    c.send('CAP END');
    await c.expect('001');
  });

  test('no CAP at all: registers at once; CAP END after registration is ignored', async () => {
    const c = await srv.connect();
    c.send('NICK capnone', 'USER u 0 * :r');
    await c.expect(/ (376|422) /);
    c.send('CAP END');
    const lines = await c.sync();
    assert.equal(lines.length, 1, `CAP END after registration must be silent: ${lines.join(' | ')}`);
  });

  test('REQ: ACK all-or-nothing, NAK leaves caps unchanged, -cap removes, LIST shows state', async () => {
    const c = await srv.connect();
    c.send('CAP LS', 'CAP LIST');
    await c.expect(' LS ');
    assert.equal(await c.expect(' LIST '), ':irc.test CAP * LIST :');
    c.send('CAP REQ :multi-prefix server-time');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * ACK :multi-prefix server-time');
    c.send('CAP REQ :echo-message bogus-cap');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * NAK :echo-message bogus-cap');
    c.send('CAP LIST');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * LIST :multi-prefix server-time');
    c.send('CAP REQ :-multi-prefix');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * ACK -multi-prefix');
    // disabling a cap that is not enabled is fine too
    c.send('CAP REQ :-userhost-in-names');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * ACK -userhost-in-names');
    c.send('CAP LIST');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * LIST server-time');
    // names are case-sensitive opaque identifiers
    c.send('CAP REQ :Server-Time');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * NAK Server-Time');
    c.send('NICK capreq', 'USER u 0 * :r', 'CAP END');
    await c.expect('001');
    c.send('CAP REQ :multi-prefix');
    assert.equal(await c.expect('CAP'), ':irc.test CAP capreq ACK multi-prefix');
    c.send('CAP LIST');
    assert.equal(await c.expect('CAP'), ':irc.test CAP capreq LIST :multi-prefix server-time');
  });

  test('unknown subcommand: 410 with * before registration and the nick after', async () => {
    const c = await srv.connect();
    c.send('CAP FOO');
    assert.equal(await c.expect('410'), ':irc.test 410 * FOO :Invalid CAP command');
    c.send('NICK cap410', 'USER u 0 * :r');
    await c.expect('001');
    c.send('CAP frob');
    assert.equal(await c.expect('410'), ':irc.test 410 cap410 frob :Invalid CAP command');
    c.send('CAP');
    assert.equal(await c.expect('461'), ':irc.test 461 cap410 CAP :Not enough parameters');
  });

  test('cap-notify is implicit for 302 and cannot be disabled; a pre-302 client may toggle it', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302', 'CAP LIST');
    assert.equal(await c.expect(' LIST '), ':irc.test CAP * LIST cap-notify');
    c.send('CAP REQ cap-notify');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * ACK cap-notify');
    c.send('CAP REQ -cap-notify');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * NAK -cap-notify');
    // a later bare LS keeps the stored 302 version
    c.send('CAP LS', 'CAP REQ -cap-notify');
    await c.expect(' LS ');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * NAK -cap-notify');

    const old = await srv.connect();
    old.send('CAP LS', 'CAP LIST');
    assert.equal(await old.expect(' LIST '), ':irc.test CAP * LIST :');
    old.send('CAP REQ cap-notify', 'CAP REQ -cap-notify', 'CAP LIST');
    assert.equal(await old.expect('CAP'), ':irc.test CAP * ACK cap-notify');
    assert.equal(await old.expect('CAP'), ':irc.test CAP * ACK -cap-notify');
    assert.equal(await old.expect('CAP'), ':irc.test CAP * LIST :');
  });

  test('CAP LIST with many caps fits 512 bytes per line; 302 uses `*` continuation when split', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302', `CAP REQ :${ALL}`);
    await c.expect(' LS ');
    assert.equal(await c.expect('CAP'), `:irc.test CAP * ACK :${ALL}`);
    c.send('CAP LIST');
    const lines = await c.collectUntil((l, m) => m.command === 'CAP' && m.params[2] !== '*');
    const caps: string[] = [];
    lines.forEach((l, i) => {
      const m = parse(l);
      assert.ok(Buffer.byteLength(l) + 2 <= 512);
      if (i < lines.length - 1) assert.equal(m.params[2], '*', `continuation marker on ${l}`);
      caps.push(...m.params.at(-1)!.split(' '));
    });
    assert.deepEqual(caps.sort(), [...CAPABILITIES.map((x) => x.name)].sort());
  });
});
