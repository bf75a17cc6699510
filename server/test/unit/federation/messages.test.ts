import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { parseS2s, WireEvent as WireEventSchema } from '../../../src/federation/messages.js';
import { sealEnvelope } from '../../../src/federation/envelope.js';
import type { StateEvent } from '../../../src/state/events.js';
import { toWire, type WireEvent } from '../../../src/state/wire.js';
import { sampleEvents } from '../state/event-fixtures.js';

// #14: every S2S message is schema-checked before use; no string a peer sends can hold CR, LF or
// NUL (IRC line injection); unknown fields are refused; what this server emits (state/wire.ts)
// passes its own schema, kind by kind.

// compile-time: the wire form this server produces is what the schema accepts
const _produced: z.infer<typeof WireEventSchema> = undefined as unknown as WireEvent;
void _produced;

const PEER = 'ab'.repeat(32);
const SEED = Buffer.alloc(32, 7);

const allEvents = (): StateEvent[] => sampleEvents().events;

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
    const { u } = sampleEvents();
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
