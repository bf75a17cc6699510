#!/usr/bin/env node
// Micro-benchmark for #12 finding 13 (ban matching per message). One message to 4 channels
// of 100 +b masks each (and 100 +e): the pre-#12 way (fold and glob-match every mask, for the
// cloak and the real IP) against MaskList (masks compiled once per list change, subject folded once).
//
//   node --import tsx bench/ban-match.mjs [--messages N]
//
// Not a test: numbers depend on the host. Prints µs per message for both.
import { foldCase } from '../server/src/protocol/casemap.ts';
import { maskMatch } from '../server/src/protocol/validate.ts';
import { MaskList } from '../server/src/state/mask-list.ts';

const arg = process.argv.indexOf('--messages');
const messages = arg !== -1 ? Number(process.argv[arg + 1]) : 20_000;

function masks(prefix) {
  const out = [];
  for (let i = 0; i < 100; i++) {
    if (i % 4 === 0) out.push(`${prefix}Nick${i}!*@*`);
    else if (i % 4 === 1) out.push(`*!*@freeq/guest/${prefix}${i}abcdefghijk`);
    else if (i % 4 === 2) out.push(`*!User${i}@*.example.org`);
    else out.push(`*!*@10.${i}.*.*`);
  }
  return out;
}

const channels = [0, 1, 2, 3].map((c) => ({ b: masks(`b${c}`), e: masks(`e${c}`) }));
const lists = channels.map((c) => ({
  b: new MaskList(c.b.map((mask) => ({ mask, setBy: 'x', setAt: 0 }))),
  e: new MaskList(c.e.map((mask) => ({ mask, setBy: 'x', setAt: 0 }))),
}));
const user = { nick: 'Speaker', username: 'speaker', host: 'freeq/guest/zzzzzzzzzzzzzzzz', ip: '203.0.113.9', account: undefined };
const mask = `${user.nick}!${user.username}@${user.host}`;
const ipMask = `${user.nick}!${user.username}@${user.ip}`;

function oldMatches(m) {
  if (m.startsWith('did:')) return user.account !== undefined && user.account === m;
  if (m.startsWith('$a:')) return user.account !== undefined && foldCase(user.account) === foldCase(m.slice(3));
  return maskMatch(m, mask) || maskMatch(m, ipMask);
}

function timeIt(name, fn) {
  for (let i = 0; i < 1000; i++) fn();
  const t0 = process.hrtime.bigint();
  let banned = 0;
  for (let i = 0; i < messages; i++) banned += fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / messages;
  console.log(`${name.padEnd(28)} ${us.toFixed(2)} µs per message to 4 channels (banned in ${banned / messages} of them)`);
}

timeIt('per-mask maskMatch (before)', () => {
  let n = 0;
  for (const c of channels) if (c.b.some(oldMatches) && !c.e.some(oldMatches)) n++;
  return n;
});
timeIt('MaskList (compiled)', () => {
  let n = 0;
  const s = { account: user.account, texts: [foldCase(mask), foldCase(ipMask)] };
  for (const l of lists) if (l.b.matches(s) && !l.e.matches(s)) n++;
  return n;
});
