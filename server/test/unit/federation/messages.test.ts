import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { parseS2s, WireEvent as WireEventSchema } from '../../../src/federation/messages.js';
import { sealEnvelope } from '../../../src/federation/envelope.js';
import { Channel, Membership } from '../../../src/state/channel.js';
import type { StateEvent } from '../../../src/state/events.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { toWire, type WireEvent } from '../../../src/state/wire.js';

// #14: every S2S message is schema-checked before use; no string a peer sends can hold CR, LF or
// NUL (IRC line injection); unknown fields are refused; what this server emits (state/wire.ts)
// passes its own schema, kind by kind.

// compile-time: the wire form this server produces is what the schema accepts
const _produced: z.infer<typeof WireEventSchema> = undefined as unknown as WireEvent;
void _produced;

const link: Recipient = { tagMask: 0, hasCap: () => false, deliver() {}, disconnect() {} };
const PEER = 'ab'.repeat(32);
const SEED = Buffer.alloc(32, 7);

function users(): { u: User; v: User; ch: Channel } {
  const u = new User(1, '192.0.2.1', false, link, 5, 'cloak.host');
  u.uid = 'ABABABAB00000A';
  u.nick = 'wendy';
  u.username = 'w';
  u.realname = 'Wendy';
  u.account = 'did:plc:wendy';
  u.handle = 'wendy.example';
  u.away = 'lunch';
  const v = new User(2, '192.0.2.2', false, link, 6, 'other.host');
  v.uid = 'ABABABAB00000B';
  v.nick = 'vic';
  v.username = 'v';
  const ch = new Channel('#Room', '#room', 1);
  ch.topic = { text: 'hello', setBy: 'wendy!w@cloak.host', setAt: 9 };
  ch.members.set(u, new Membership(1));
  return { u, v, ch };
}

function allEvents(): StateEvent[] {
  const { u, v, ch } = users();
  return [
    { kind: 'join', user: u, channel: ch },
    { kind: 'part', user: u, channel: ch, reason: 'bye' },
    { kind: 'kick', source: u.mask, actor: { kind: 'user', user: u }, channel: ch, target: v, reason: 'r' },
    { kind: 'quit', user: u, reason: 'q', audience: new Set([v]) },
    { kind: 'nick', user: u, oldMask: 'old!w@cloak.host', audience: new Set() },
    { kind: 'topic', source: 'irc.test', actor: { kind: 'server', name: 'irc.test' }, channel: ch },
    { kind: 'channel-mode', source: u.mask, channel: ch, changes: [{ adding: true, mode: 'o', param: 'vic' }, { adding: false, mode: 'k' }] },
    { kind: 'user-mode', user: u, changes: [{ adding: true, mode: 'i' }] },
    { kind: 'away', user: u },
    { kind: 'setname', user: u },
    { kind: 'chghost', user: u, oldUsername: 'x', oldHost: 'y' },
    { kind: 'invite', source: u, target: v, channel: ch },
    { kind: 'server-notice', target: v, text: 'n' },
    { kind: 'account', user: u },
    { kind: 'channel-dropped', channel: ch, reason: 'expired' },
    { kind: 'message', from: u, command: 'PRIVMSG', target: '@#Room', channel: ch, minRank: 'o', text: 'a\nb', lines: [{ text: 'a', concat: false }, { text: 'b', concat: false }], tags: new Map([['+draft/reply', 'x']]), msgid: 'm1', at: 11, stored: true },
    { kind: 'message', from: u, command: 'TAGMSG', target: 'vic', to: v, msgid: 'm2', at: 12, stored: false },
    { kind: 'lockdown', actor: { kind: 'server', name: 'irc.test' }, from: 'off', to: 'sasl-only' },
    { kind: 'register', user: u },
    { kind: 'nick-owner', did: 'did:plc:wendy', nick: 'wendy' },
    { kind: 'did-op', channel: ch, did: 'did:plc:wendy', adding: false, by: 'did:plc:founder' },
    { kind: 'handle', user: u },
    { kind: 'server-ban', actor: { kind: 'user', user: u }, adding: true, target: '*!*@bad.example', banKind: 'mask', reason: 'spam' },
  ];
}

/** every path to a string inside `v` */
function stringPaths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof v === 'string') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPaths(x, [...at, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...at, k]));
  return [];
}
function withString(v: unknown, path: (string | number)[], f: (s: string) => string): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  o[last] = f(o[last] as string);
  return copy;
}

describe('S2S message schemas', () => {
  for (const ev of allEvents()) {
    const name = ev.kind === 'message' ? `message ${ev.command}` : ev.kind;
    test(`${name}: this server's wire form passes, inside a signed envelope`, () => {
      const p = parseS2s(sealEnvelope(SEED, PEER, 1, '1733443200000.000000', toWire(ev)));
      assert.ok(p.ok, p.ok ? '' : p.reason);
    });
  }

  test('CR, LF or NUL in any string of any event (in an envelope) → refused', () => {
    let checked = 0;
    for (const ev of allEvents()) {
      const env = sealEnvelope(SEED, PEER, 1, '1733443200000.000000', toWire(ev));
      for (const path of stringPaths(env.payload)) {
        if (path[path.length - 1] === 'kind') continue;
        for (const bad of ['\r', '\n', '\0']) {
          const forged = { ...env, payload: withString(env.payload, path, (s) => `${s}${bad}PRIVMSG #x :injected`) };
          assert.equal(parseS2s(forged).ok, false, `${ev.kind} ${path.join('.')} with ${JSON.stringify(bad)}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 200, `${checked} fields × 3 checked`);
  });

  test('unknown fields, wrong types and unknown message types are refused', () => {
    const { u } = users();
    const env = sealEnvelope(SEED, PEER, 1, '1733443200000.000000', toWire({ kind: 'away', user: u }));
    assert.equal(parseS2s({ ...env, extra: 1 }).ok, false);
    assert.equal(parseS2s({ ...env, payload: { ...env.payload, isOper: true } }).ok, false);
    assert.equal(parseS2s({ ...env, seq: 0 }).ok, false);
    assert.equal(parseS2s({ ...env, seq: '1' }).ok, false);
    assert.equal(parseS2s({ ...env, origin: PEER.toUpperCase() }).ok, false);
    assert.equal(parseS2s({ ...env, hlc: '9'.repeat(20) }).ok, false);
    assert.equal(parseS2s({ type: 'kill-everyone' }).ok, false);
    assert.equal(parseS2s(null).ok, false);
    assert.equal(parseS2s('hello').ok, false);
  });

  test('hello: version 1, a 64-hex id, a name without CR/LF/NUL; the reason of a refusal names the field', () => {
    assert.equal(parseS2s({ type: 'hello', version: 1, id: PEER, name: 'irc.example', caps: ['burst'] }).ok, true);
    const bad = parseS2s({ type: 'hello', version: 1, id: 'xyz', name: 'irc.example', caps: [] });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.reason, /^id: /);
    assert.equal(parseS2s({ type: 'hello', version: 2, id: PEER, name: 'irc.example', caps: [] }).ok, false);
    assert.equal(parseS2s({ type: 'hello', version: 1, id: PEER, name: 'irc\r\nexample', caps: [] }).ok, false);
    assert.equal(parseS2s({ type: 'hello', version: 1, id: PEER, name: 'x', caps: Array(33).fill('c') }).ok, false);
  });
});
