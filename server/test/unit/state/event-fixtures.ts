import { Channel, Membership } from '../../../src/state/channel.js';
import type { StateEvent } from '../../../src/state/events.js';
import { User, type Recipient } from '../../../src/state/user.js';

// One of every state event kind, with two users and a channel: the bus test (wire form) and the
// federation schema test (every kind passes; no field may carry CR/LF/NUL) share them.

const link: Recipient = { tagMask: 0, hasCap: () => false, deliver() {}, disconnect() {} };

export function sampleEvents(): { u: User; v: User; ch: Channel; events: StateEvent[] } {
  const u = new User(7, '192.0.2.99', true, link, 5, 'cloak.host');
  u.uid = 'ABABABAB00000A';
  u.nick = 'wendy';
  u.username = 'w';
  u.realname = 'Wendy';
  u.account = 'did:plc:wendy';
  u.handle = 'wendy.example';
  u.away = 'lunch';
  const v = new User(8, '192.0.2.98', false, link, 6, 'other.host');
  v.uid = 'ABABABAB00000B';
  v.nick = 'vic';
  v.username = 'v';
  const ch = new Channel('#Room', '#room', 1);
  ch.topic = { text: 'hello', setBy: 'wendy!w@cloak.host', setAt: 9 };
  ch.members.set(u, new Membership(1));
  const events: StateEvent[] = [
    { kind: 'join', user: u, channel: ch },
    { kind: 'part', user: u, channel: ch, reason: 'bye' },
    { kind: 'kick', source: u.mask, actor: { kind: 'user', user: u }, channel: ch, target: v, reason: 'r' },
    { kind: 'quit', user: u, reason: 'q', audience: new Set([v]) },
    { kind: 'nick', user: u, oldMask: 'old!w@cloak.host', audience: new Set([v]) },
    { kind: 'topic', source: 'irc.test', actor: { kind: 'server', name: 'irc.test' }, channel: ch },
    { kind: 'channel-mode', source: u.mask, channel: ch, changes: [{ adding: true, mode: 'o', param: 'vic' }, { adding: false, mode: 'k' }] },
    { kind: 'user-mode', user: u, changes: [{ adding: true, mode: 'i' }] },
    { kind: 'away', user: u },
    { kind: 'setname', user: u },
    { kind: 'chghost', user: u, oldUsername: 'x', oldHost: 'y' },
    { kind: 'invite', source: u, target: v, channel: ch },
    { kind: 'server-notice', target: v, text: 'n' },
    { kind: 'account', user: u },
    { kind: 'channel-dropped', channel: ch, reason: 'empty' },
    { kind: 'message', from: u, command: 'PRIVMSG', target: '@#Room', channel: ch, minRank: 'o', text: 'a\nb', lines: [{ text: 'a', concat: false }, { text: 'b', concat: false }], tags: new Map([['+freeq.at/sig', 's']]), msgid: 'm1', at: 11, stored: true },
    { kind: 'message', from: u, command: 'TAGMSG', target: 'vic', to: v, msgid: 'm2', at: 12, stored: false },
    { kind: 'lockdown', actor: { kind: 'operator', name: 'sha256:abc' }, from: 'off', to: 'closed' },
    { kind: 'register', user: u },
    { kind: 'nick-owner', did: 'did:plc:wendy', nick: 'wendy', claimed: '1700000000000.000001' },
    { kind: 'did-op', channel: ch, did: 'did:plc:wendy', adding: true, by: 'did:plc:founder' },
    { kind: 'handle', user: u },
    { kind: 'server-ban', actor: { kind: 'user', user: u }, adding: true, target: '*!*@bad.example', banKind: 'mask', reason: 'spam', expiresAt: 99 },
    { kind: 'knock', user: v, channel: ch, reason: 'let me in' },
    { kind: 'redact', user: u, target: '#Room', channel: ch, msgid: 'm1', reason: 'oops', id: 'm3', at: 13, stored: true },
    { kind: 'redact', user: u, target: 'vic', parties: ['did:plc:vic', 'did:plc:wendy'], did: 'did:plc:vic', msgid: 'm4', id: 'm5', at: 14, stored: true },
  ];
  return { u, v, ch, events };
}
