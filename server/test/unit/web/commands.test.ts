import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInput } from '../../../../web/src/commands.js';

// The web client's message box (#15, web/src/commands.ts): plain text is said; /commands as in
// every IRC client; `//` escapes a leading slash; a wrong one explains itself.

test('text, and the commands people type', () => {
  assert.deepEqual(parseInput('hello'), { kind: 'say', text: 'hello' });
  assert.deepEqual(parseInput('//not a command'), { kind: 'say', text: '/not a command' });
  assert.deepEqual(parseInput('/join #c key'), { kind: 'join', channel: '#c', key: 'key' });
  assert.deepEqual(parseInput('/j c'), { kind: 'join', channel: '#c' });
  assert.deepEqual(parseInput('/part'), { kind: 'part' });
  assert.deepEqual(parseInput('/part see you'), { kind: 'part', reason: 'see you' });
  assert.deepEqual(parseInput('/part #c bye now'), { kind: 'part', channel: '#c', reason: 'bye now' });
  assert.deepEqual(parseInput('/me waves'), { kind: 'me', text: 'waves' });
  assert.deepEqual(parseInput('/msg alice  hi there'), { kind: 'msg', target: 'alice', text: 'hi there' });
  assert.deepEqual(parseInput('/nick bob'), { kind: 'nick', nick: 'bob' });
  assert.deepEqual(parseInput('/topic a new topic'), { kind: 'topic', text: 'a new topic' });
  assert.deepEqual(parseInput('/quote WHOIS alice'), { kind: 'raw', line: 'WHOIS alice' });
  assert.deepEqual(parseInput('/TOPIC'), { kind: 'topic', text: '' });
});

test('a command without what it needs, or an unknown one, is an error that says how', () => {
  for (const line of ['/join', '/me', '/msg alice', '/nick', '/quote', '/frobnicate']) {
    const a = parseInput(line);
    assert.equal(a.kind, 'error', line);
    assert.match((a as { text: string }).text, /usage|unknown command/);
  }
});
