import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type IrcMessage } from '../../../../sdk/src/index.js';
import { accountsFromWhox, applyLine, withAccounts, WHOX_TOKEN, type Members } from '../../../../web/src/members.js';
import { lineOf, newestAt, unreadSince, type Line } from '../../../../web/src/lines.js';
import { loadSaved, SAVED_KEY, storeSaved, withChannel, withoutChannel, type KeyValueStore } from '../../../../web/src/saved.js';

// The web client's pure state (#15): who is logged in among the members (WHOX, account-notify),
// unread counts from a read marker (draft/read-marker), and what a reload restores (saved.ts).

const msg = (line: string): IrcMessage => parseMessage(line)!;

test('members: WHOX replies give each member\'s account (`0`: a guest); ACCOUNT follows a login and a logout everywhere', () => {
  const who = [
    `:srv 354 me ${WHOX_TOKEN} alice H@ did:plc:alice`,
    `:srv 354 me ${WHOX_TOKEN} Bob H 0`,
    ':srv 354 me 999 carol H did:plc:carol', // another query's token
    ':srv 315 me #c :End of WHO list',
  ].map(msg);
  assert.deepEqual([...accountsFromWhox(who)], [['alice', 'did:plc:alice'], ['bob', undefined]]);
  const all: Members = new Map([['#c', new Map([
    ['alice', { nick: 'alice', prefix: '@' }], ['bob', { nick: 'Bob', prefix: '', account: 'did:plc:stale' }], ['carol', { nick: 'carol', prefix: '' }],
  ])], ['#d', new Map([['bob', { nick: 'Bob', prefix: '+' }]])]]);
  const marked = withAccounts(all, '#C', accountsFromWhox(who));
  assert.deepEqual([...marked.get('#c')!.values()], [
    { nick: 'alice', prefix: '@', account: 'did:plc:alice' }, { nick: 'Bob', prefix: '' }, { nick: 'carol', prefix: '' },
  ]);
  assert.equal(withAccounts(all, '#nowhere', accountsFromWhox(who)), all);
  const loggedIn = applyLine(marked, msg(':Bob!b@h ACCOUNT did:plc:bob'))!;
  assert.equal(loggedIn.get('#c')!.get('bob')!.account, 'did:plc:bob');
  assert.equal(loggedIn.get('#d')!.get('bob')!.account, 'did:plc:bob', 'in every channel');
  const loggedOut = applyLine(loggedIn, msg(':Bob!b@h ACCOUNT *'))!;
  assert.deepEqual(loggedOut.get('#d')!.get('bob'), { nick: 'Bob', prefix: '+' });
});

const line = (from: string, at: string | undefined, extra: Partial<Line> = {}): Line => ({ id: `${from}${at}`, time: '', from, text: 'x', kind: 'message', ...(at ? { at } : {}), ...extra });

test('read markers: what others said after the marker is unread, mentions counted apart; the newest line\'s time is how far a shown one is read', () => {
  const lines = [
    line('bob', '2026-01-01T00:00:01.000Z'),
    line('bob', '2026-01-01T00:00:02.000Z', { mention: true }),
    line('me', '2026-01-01T00:00:03.000Z'), // its own
    line('bob', '2026-01-01T00:00:04.000Z', { mention: true }),
    line('bob', '2026-01-01T00:00:05.000Z', { kind: 'event' }),
    line('', undefined, { kind: 'error' }),
  ];
  assert.deepEqual(unreadSince(lines, '2026-01-01T00:00:01.000Z', 'me'), { unread: 2, mentions: 2 });
  assert.deepEqual(unreadSince(lines, '2026-01-01T00:00:02.000Z', 'me'), { unread: 1, mentions: 1 });
  assert.deepEqual(unreadSince(lines, '2026-01-01T00:00:04.000Z', 'me'), { unread: 0, mentions: 0 });
  assert.deepEqual(unreadSince(lines, '2025-12-31T23:59:59.000Z', 'me'), { unread: 3, mentions: 2 });
  assert.equal(newestAt(lines), '2026-01-01T00:00:05.000Z');
  assert.equal(newestAt([line('', undefined)]), undefined);
  const m = lineOf({ from: 'bob', source: 'bob!b@h', target: '#c', text: '\x01ACTION waves\nand waves\x01', isChannel: true, tags: { time: '2026-01-01T00:00:09.000Z', account: 'did:plc:bob', msgid: 'm1' } }, 'message');
  assert.deepEqual([m.kind, m.text, m.at, m.account, m.msgid], ['action', 'waves\nand waves', '2026-01-01T00:00:09.000Z', 'did:plc:bob', 'm1']);
});

class MemoryStore implements KeyValueStore {
  readonly map = new Map<string, string>();
  getItem(k: string): string | null { return this.map.get(k) ?? null; }
  setItem(k: string, v: string): void { this.map.set(k, v); }
  removeItem(k: string): void { this.map.delete(k); }
}

test('saved: the nick, the channels and the one shown, checked when read back; leave and log out forget', () => {
  const store = new MemoryStore();
  assert.equal(loadSaved(store), undefined);
  let s = withChannel(withChannel(withChannel({ nick: 'alice', channels: [] }, '#a'), '#B'), '#b');
  s = { ...s, current: '#b' };
  storeSaved(store, s);
  assert.deepEqual(JSON.parse(store.getItem(SAVED_KEY)!), { nick: 'alice', channels: ['#a', '#B'], current: '#b' });
  assert.deepEqual(loadSaved(store), { nick: 'alice', channels: ['#a', '#B'], current: '#b' });
  assert.deepEqual(withoutChannel(s, '#b'), { nick: 'alice', channels: ['#a'] }, 'leaving the one shown forgets it was shown');
  assert.deepEqual(withoutChannel(s, '#a'), { nick: 'alice', channels: ['#B'], current: '#b' });
  // what is not ours (or was tampered with) is dropped, not trusted
  store.setItem(SAVED_KEY, JSON.stringify({ nick: 'bob', channels: ['#ok', 'no-prefix', '#bad,list', 42], current: 7, password: 'x' }));
  assert.deepEqual(loadSaved(store), { nick: 'bob', channels: ['#ok'] });
  for (const bad of ['not json', '{"nick":"has space","channels":[]}', '{"channels":["#a"]}', 'null']) {
    store.setItem(SAVED_KEY, bad);
    assert.equal(loadSaved(store), undefined, bad);
  }
  storeSaved(store, undefined);
  assert.equal(store.getItem(SAVED_KEY), null);
  // a store that refuses (private modes, full): nothing thrown
  const refusing: KeyValueStore = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); }, removeItem: () => { throw new Error('denied'); } };
  assert.equal(loadSaved(refusing), undefined);
  storeSaved(refusing, s);
  storeSaved(undefined, s);
});
