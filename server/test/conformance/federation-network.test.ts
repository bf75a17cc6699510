import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPeerIdentity } from '../../src/keys/peer-identity.js';
import { startChildServer, type ChildServer } from '../harness/child-server.js';
import { parse, RawClient } from '../harness/raw-client.js';
import { freeTcpPort, freeUdpPort } from '../harness/federation.js';

// Three real server processes (#14 "Tests"), each with its own data dir and federation key,
// linked as a full mesh (every pair links directly), over TLS and over
// iroh: channel traffic and state cross every link; a server cut off by SQUIT and brought back
// converges (topic by last writer, flag modes, members, ops by the TS rule); a server killed with
// SIGKILL and restarted on its data dir relinks and converges again.

const PASSWORD = 'correct horse battery';
const dirs: string[] = [];
const nodes: Node[] = [];
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const n of nodes) await n.child?.stop('SIGKILL').catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Node {
  name: string;
  id: string;
  dir: string;
  args: string[];
  child?: ChildServer;
  /** what earlier runs of this server printed (before a restart) */
  earlier: string;
}



const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** three data dirs with their keys, and each server's arguments for `transport` (A dials B and C, B dials C) */
async function network(transport: 'tls' | 'iroh'): Promise<[Node, Node, Node]> {
  const made = ['a.test', 'b.test', 'c.test'].map((name) => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-net-'));
    dirs.push(dir);
    return { name, dir, id: loadPeerIdentity(dir).peerId };
  });
  const ports = await Promise.all(made.map(() => (transport === 'tls' ? freeTcpPort() : freeUdpPort())));
  const peer = (i: number): string => (transport === 'tls' ? `tls:${made[i]!.id}@127.0.0.1:${ports[i]}` : `${made[i]!.id}@127.0.0.1:${ports[i]}`);
  const dials: number[][] = [[1, 2], [2], []];
  const out = made.map((m, i): Node => {
    const args = [
      '--server-name', m.name, '--log-level', 'info', '--oper-password', PASSWORD,
      '--s2s-ping-interval', '200ms', '--s2s-ping-timeout', '1s',
      // test configuration (as harness/server.ts): bursts of commands, many joins of one channel
      '--fakelag', 'false', '--message-rate', '100000', '--join-rate', '1000',
      '--s2s-allowed-peers', made.filter((_, j) => j !== i).map((x) => x.id).join(','),
      ...(transport === 'tls'
        ? ['--s2s-listen-addr', `127.0.0.1:${ports[i]}`]
        : ['--iroh', '--iroh-relay-mode', 'disabled', '--iroh-bind-addr', `127.0.0.1:${ports[i]}`]),
      ...(dials[i]!.length ? ['--s2s-peers', dials[i]!.map(peer).join(',')] : []),
    ];
    return { ...m, args, earlier: '' };
  });
  nodes.push(...out);
  return out as [Node, Node, Node];
}

async function start(n: Node): Promise<void> {
  n.child = await startChildServer({ dataDir: n.dir, args: n.args });
}

/** the federation lines the server printed (all runs), for failure messages */
function s2sLog(n: Node): string {
  const all = n.earlier + (n.child?.out() ?? '');
  return all.split('\n').filter((l) => /S2S|netsplit|federation|"level":[56]0/.test(l) || (l.trim() !== '' && !l.startsWith('{'))).slice(-40).join('\n');
}
const logs = (ns: Node[]): string => ns.map((n) => `--- ${n.name} ---\n${s2sLog(n)}`).join('\n');

async function user(n: Node, nick: string): Promise<RawClient> {
  const c = await RawClient.connect({ port: n.child!.ports.irc });
  clients.push(c);
  await c.register(nick, ['multi-prefix']);
  return c;
}

/** wait for a line matching `re` received at or after `since` (an index into c.received); nothing is consumed */
async function seen(c: RawClient, re: RegExp, since = 0, ms = 10_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    for (let i = since; i < c.received.length; i++) if (re.test(c.received[i]!)) return c.received[i]!;
    if (Date.now() - t0 > ms) throw new Error(`${c.nick}: timed out waiting for ${String(re)}; last lines:\n${c.received.slice(-15).join('\n')}`);
    await sleep(10);
  }
}

/** a command's reply lines up to the one matching `end` */
async function query(c: RawClient, line: string, end: RegExp): Promise<string[]> {
  c.skip();
  c.send(line);
  return c.collectUntil(end, 5000);
}

/** NAMES of `ch` as `c` sees it: the sorted members with their prefixes (multi-prefix) */
async function names(c: RawClient, ch: string): Promise<string> {
  const lines = await query(c, `NAMES ${ch}`, new RegExp(` 366 ${c.nick} ${esc(ch)} `));
  return lines.filter((l) => new RegExp(` 353 ${c.nick} [=*@] ${esc(ch)} `).test(l))
    .flatMap((l) => parse(l).params.at(-1)!.split(' ')).filter(Boolean).sort((x, y) => x.replace(/^[@+]+/, '').localeCompare(y.replace(/^[@+]+/, ''))).join(' ');
}

async function topic(c: RawClient, ch: string): Promise<string> {
  const lines = await query(c, `TOPIC ${ch}`, new RegExp(` (331|332|442|403) ${c.nick} ${esc(ch)} `));
  const l = lines.at(-1)!;
  return / 332 /.test(l) ? parse(l).params.at(-1)! : `(${parse(l).command})`;
}

async function modes(c: RawClient, ch: string): Promise<string> {
  const lines = await query(c, `MODE ${ch}`, new RegExp(` (324|442|403) ${c.nick} ${esc(ch)}`));
  return parse(lines.at(-1)!).params.slice(2).join(' ');
}

/** how many servers LUSERS counts */
async function serverCount(c: RawClient): Promise<number> {
  const l = (await query(c, 'LUSERS', / 251 /)).at(-1)!;
  return Number(/ on (\d+) servers?$/.exec(l)?.[1] ?? -1);
}

/** servers linked directly with the client's server (LINKS: hop count 1) */
async function directLinks(c: RawClient): Promise<number> {
  return (await query(c, 'LINKS', / 365 /)).filter((l) => / 364 /.test(l) && parse(l).params.at(-1)!.startsWith('1 ')).length;
}

/** every server sees `n` servers (LUSERS) and links with each of the others directly (a full mesh: LINKS) */
async function linked(cs: RawClient[], n: number, ns: Node[], ms = 15_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const counts = await Promise.all(cs.map(serverCount));
    const direct = await Promise.all(cs.map(directLinks));
    if (counts.every((x) => x === n) && direct.every((x) => x === n - 1)) return;
    if (Date.now() - t0 > ms) assert.fail(`servers seen (LUSERS) ${counts.join(', ')}, direct links (LINKS) ${direct.join(', ')}, expected ${n} and ${n - 1} on each\n${logs(ns)}`);
    await sleep(100);
  }
}

/**
 * Divergences found so far in this run: each `converge` that fails is recorded here and the run
 * goes on (so that one report names every divergence); the run fails at its end if any.
 */
let problems: string[] = [];

/**
 * Ask each client the same question until every answer equals `expected` (the servers
 * converged) or `ms` passes; a divergence is recorded with every server's answer.
 */
async function converge(what: string, cs: RawClient[], ask: (c: RawClient) => Promise<string>, expected: string, ns: Node[], ms = 6000): Promise<void> {
  const t0 = Date.now();
  let got: string[] = [];
  for (;;) {
    got = await Promise.all(cs.map(ask));
    if (got.every((g) => g === expected)) return;
    if (Date.now() - t0 > ms) break;
    await sleep(100);
  }
  problems.push(`${what} did not converge to ${JSON.stringify(expected)}; each server shows:\n${cs.map((c, i) => `  ${ns[i]?.name ?? i} (${c.nick}): ${JSON.stringify(got[i])}`).join('\n')}`);
}

/** `c` (a member) sees `ch` with members `nicks` (bare nicks) */
async function waitMembers(c: RawClient, ch: string, nicks: string[], ms = 10_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const got = (await names(c, ch)).split(' ').map((x) => x.replace(/^[@+]+/, ''));
    if (nicks.every((n) => got.includes(n))) return;
    if (Date.now() - t0 > ms) assert.fail(`${c.nick} sees ${ch} as ${got.join(' ')}; expected ${nicks.join(' ')}`);
    await sleep(50);
  }
}

async function scenario(transport: 'tls' | 'iroh', log: (s: string) => void): Promise<void> {
  const t0 = Date.now();
  const lap = (what: string): void => log(`${transport}: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const [A, B, C] = await network(transport);
  const ns = [A, B, C];
  await Promise.all(ns.map(start));
  lap('three servers started');

  const alice = await user(A, 'alice');
  const bob = await user(B, 'bob');
  const carol = await user(C, 'carol');
  const dave = await user(C, 'dave');
  const trio = [alice, bob, carol];
  await linked(trio, 3, ns);
  lap('full mesh linked');

  // ---- one network: a user on each server in one channel -------------------------------------
  alice.send('JOIN #net');
  await alice.expect(/ 366 alice #net /);
  // bob and carol join once their servers know the channel (else each would found its own)
  await Promise.all([waitMembers(bob, '#net', ['alice']), waitMembers(carol, '#net', ['alice'])]);
  let m = alice.received.length;
  bob.send('JOIN #net');
  await seen(alice, /^:bob!\S+ JOIN #net$/, m);
  carol.send('JOIN #net');
  dave.send('JOIN #net');
  for (const c of [alice, bob]) for (const who of ['carol', 'dave']) await seen(c, new RegExp(`^:${who}!\\S+ JOIN #net$`));
  await converge('#net members', trio, (c) => names(c, '#net'), '@alice bob carol dave', ns);

  // messages from each server reach the other two
  const says: [RawClient, RawClient[]][] = [[alice, [bob, carol]], [bob, [alice, carol]], [carol, [alice, bob]]];
  for (const [from, to] of says) {
    from.send(`PRIVMSG #net :hello from ${from.nick}`);
    for (const c of to) await seen(c, new RegExp(`^:${from.nick}!\\S+ PRIVMSG #net :hello from ${from.nick}$`));
  }

  // topic and ops: alice (A) sets the topic, ops bob (B)
  alice.send('TOPIC #net :the network topic', 'MODE #net +o bob');
  for (const c of [bob, carol, dave]) {
    await seen(c, /^:alice!\S+ TOPIC #net :the network topic$/);
    await seen(c, /^:alice!\S+ MODE #net \+o bob$/);
  }

  // +m and +v: carol (C, no voice) cannot speak; bob (B, op) voices her; she speaks to A and B
  m = carol.received.length;
  alice.send('MODE #net +m');
  await seen(carol, /^:alice!\S+ MODE #net \+m$/, m);
  await seen(bob, /^:alice!\S+ MODE #net \+m$/);
  carol.send('PRIVMSG #net :muted?');
  await seen(carol, / 404 carol #net /, m);
  bob.send('MODE #net +v carol');
  await seen(carol, /^:bob!\S+ MODE #net \+v carol$/, m);
  await seen(alice, /^:bob!\S+ MODE #net \+v carol$/);
  carol.send('PRIVMSG #net :voiced');
  await seen(alice, /^:carol!\S+ PRIVMSG #net :?voiced$/);
  await seen(bob, /^:carol!\S+ PRIVMSG #net :?voiced$/);
  for (const c of [alice, bob]) assert.ok(!c.received.some((l) => /PRIVMSG #net :muted\?/.test(l)), `${c.nick} got carol's message under +m`);

  // a part, and a kick by bob (op on B) of dave (C), seen on A and C
  dave.send('PART #net :bye');
  for (const c of [alice, bob, carol]) await seen(c, /^:dave!\S+ PART #net :?bye$/);
  m = alice.received.length;
  let mb = bob.received.length;
  dave.send('JOIN #net');
  await seen(alice, /^:dave!\S+ JOIN #net$/, m);
  await seen(bob, /^:dave!\S+ JOIN #net$/, mb);
  bob.send('KICK #net dave :out you go');
  for (const c of [alice, carol, dave]) await seen(c, /^:bob!\S+ KICK #net dave :out you go$/);

  // +k: dave needs the key, on his own server; with it he joins everywhere
  m = dave.received.length;
  alice.send('MODE #net +k sekrit');
  for (const c of [bob, carol]) await seen(c, /^:alice!\S+ MODE #net \+k sekrit$/);
  dave.send('JOIN #net');
  await seen(dave, / 475 dave #net /, m);
  let ma = alice.received.length;
  mb = bob.received.length;
  dave.send('JOIN #net sekrit');
  await seen(alice, /^:dave!\S+ JOIN #net$/, ma);
  await seen(bob, /^:dave!\S+ JOIN #net$/, mb);

  // +b on a remote user's mask (bob on B bans dave of C): after the kick, C keeps him out
  bob.send('MODE #net +b dave!*@*');
  for (const c of [alice, carol, dave]) await seen(c, /^:bob!\S+ MODE #net \+b dave!\*@\*$/);
  bob.send('KICK #net dave :banned');
  for (const c of [alice, carol]) await seen(c, /^:bob!\S+ KICK #net dave :?banned$/);
  m = dave.received.length;
  ma = alice.received.length;
  dave.send('JOIN #net sekrit');
  await seen(dave, / 474 dave #net /, m);
  await sleep(300);
  assert.ok(!alice.received.slice(ma).some((l) => /^:dave!\S+ JOIN/.test(l)), 'a banned user joined on another server');

  // +i and INVITE: alice (A) lifts the ban and sets +i; dave is refused; bob (B) invites him
  alice.send('MODE #net -b+i dave!*@*');
  for (const c of [bob, carol]) await seen(c, /^:alice!\S+ MODE #net -b\+i dave!\*@\*$/);
  m = dave.received.length;
  dave.send('JOIN #net sekrit');
  await seen(dave, / 473 dave #net /, m);
  bob.send('INVITE dave #net');
  await seen(dave, /^:bob!\S+ INVITE dave :?#net$/, m);
  ma = alice.received.length;
  mb = bob.received.length;
  dave.send('JOIN #net');
  await seen(dave, /^:dave!\S+ JOIN #net$/, m);
  await seen(alice, /^:dave!\S+ JOIN #net$/, ma);
  await seen(bob, /^:dave!\S+ JOIN #net$/, mb);
  await converge('#net members', trio, (c) => names(c, '#net'), '@alice @bob +carol dave', ns);
  await converge('#net modes', trio, (c) => modes(c, '#net'), '+imntk sekrit', ns);
  await converge('#net topic', trio, (c) => topic(c, '#net'), 'the network topic', ns);
  lap('messages, joins, parts, topic, modes, kicks, bans, invites');

  // ---- the network as users see it ------------------------------------------------------------
  for (const c of trio) {
    const l = (await query(c, 'LUSERS', / 251 /)).at(-1)!;
    assert.match(l, / 251 \S+ :There are 4 users and 0 invisible on 3 servers$/);
    const links = await query(c, 'LINKS', / 365 /);
    const linkNames = links.filter((x) => / 364 /.test(x)).map((x) => parse(x).params[1]).sort();
    assert.deepEqual(linkNames, ['a.test', 'b.test', 'c.test'], links.join('\n'));
    const map = await query(c, 'MAP', / 007 /);
    for (const s of ['a.test', 'b.test', 'c.test']) assert.ok(map.some((x) => new RegExp(` 006 \\S+ :\\W*${esc(s)} \\[`).test(x)), map.join('\n'));
  }
  const mapC = await query(carol, 'MAP', / 007 /);
  assert.ok(mapC.some((x) => /a\.test \[.* 1 users/.test(x)) && mapC.some((x) => /c\.test \[.* 2 users/.test(x)), mapC.join('\n'));
  for (const [c, who, server] of [[alice, 'bob', 'b.test'], [bob, 'carol', 'c.test'], [carol, 'alice', 'a.test'], [alice, 'dave', 'c.test']] as const) {
    const w = await query(c, `WHOIS ${who}`, new RegExp(` 318 ${c.nick} ${who} `));
    assert.ok(w.some((x) => new RegExp(` 312 ${c.nick} ${who} ${esc(server)} :`).test(x)), w.join('\n'));
  }
  lap('LUSERS, LINKS, MAP, WHOIS');

  // ---- partition: B cut off by SQUIT on A and on C ---------------------------------------------
  alice.send('JOIN #p');
  await alice.expect(/ 366 alice #p /);
  await Promise.all([waitMembers(bob, '#p', ['alice']), waitMembers(carol, '#p', ['alice'])]);
  bob.send('JOIN #p');
  carol.send('JOIN #p');
  await waitMembers(alice, '#p', ['alice', 'bob', 'carol']);
  alice.send('MODE #p +oo bob carol');
  await converge('#p members before the split', trio, (c) => names(c, '#p'), '@alice @bob @carol', ns);
  for (const c of trio) {
    c.send(`OPER ${c.nick} :${PASSWORD}`);
    await c.expect(/ 381 /);
  }
  mb = bob.received.length;
  ma = alice.received.length;
  const mc = carol.received.length;
  // both links of B go; then every user of B leaves A's and C's view, and bob sees all of theirs
  // leave, with the netsplit reason naming the two sides of a link that went (with relaying,
  // servers still reachable through another link stay until their last path is gone)
  alice.send('SQUIT b.test :partition test');
  await alice.expect(/NOTICE alice :SQUIT b\.test/);
  carol.send('SQUIT b.test :partition test');
  await carol.expect(/NOTICE carol :SQUIT b\.test/);
  await seen(alice, /^:bob!\S+ QUIT :[ac]\.test b\.test$/, ma);
  await seen(carol, /^:bob!\S+ QUIT :[ac]\.test b\.test$/, mc);
  await seen(bob, /^:alice!\S+ QUIT :b\.test [ac]\.test$/, mb);
  await seen(bob, /^:carol!\S+ QUIT :b\.test [ac]\.test$/, mb);
  await seen(bob, /^:dave!\S+ QUIT :b\.test [ac]\.test$/, mb);
  assert.equal(await serverCount(bob), 1);
  assert.equal(await serverCount(alice), 2);
  assert.equal(await serverCount(carol), 2);
  lap('B cut off');

  // while split: on B, bob (op) sets a topic, then +s; B founds #new (bob); later, on A's side
  // alice (op) sets another topic and founds #new too, carol (C) joins A's #new
  bob.send('TOPIC #p :topic from b');
  await bob.expect(/^:bob!\S+ TOPIC #p :topic from b$/);
  bob.send('MODE #p +s');
  await bob.expect(/^:bob!\S+ MODE #p \+s$/);
  bob.send('JOIN #new');
  await bob.expect(/ 366 bob #new /);
  await sleep(50);
  alice.send('TOPIC #p :topic from a');
  await seen(carol, /^:alice!\S+ TOPIC #p :topic from a$/, mc);
  alice.send('JOIN #new');
  await alice.expect(/ 366 alice #new /);
  await waitMembers(carol, '#new', ['alice']);
  carol.send('JOIN #new');
  await waitMembers(alice, '#new', ['alice', 'carol']);
  assert.equal(await names(bob, '#new'), '@bob');
  assert.equal(await names(alice, '#new'), '@alice carol');
  assert.equal(await topic(alice, '#p'), 'topic from a');
  assert.equal(await modes(alice, '#p'), '+nt');
  assert.equal(await modes(bob, '#p'), '+nst');
  // still split after a while: SQUIT holds
  await sleep(1500);
  assert.equal(await serverCount(bob), 1);
  lap('changes on both sides of the split');

  // CONNECT again on A and C; bob (oper on B, which dials C) CONNECTs C so B dials it now
  mb = bob.received.length;
  alice.send('CONNECT b.test');
  await alice.expect(/NOTICE alice :CONNECT b\.test/);
  carol.send('CONNECT b.test');
  await carol.expect(/NOTICE carol :CONNECT b\.test/);
  bob.send('CONNECT c.test');
  await linked(trio, 3, ns);
  lap('relinked');
  await seen(bob, /^:alice!\S+ JOIN #p$/, mb);
  await seen(bob, /^:carol!\S+ JOIN #p$/, mb);
  // everyone agrees: the later topic (A's) wins; B's +s; the union of members; #new is B's
  // (created first), so bob keeps +o and alice, who created it later on A, loses it
  await converge('#p topic after the partition', trio, (c) => topic(c, '#p'), 'topic from a', ns);
  await converge('#p modes after the partition', trio, (c) => modes(c, '#p'), '+nst', ns);
  await converge('#p members after the partition', trio, (c) => names(c, '#p'), '@alice @bob @carol', ns);
  await converge('#new members after the partition (TS rule)', trio, (c) => names(c, '#new'), 'alice @bob carol', ns);
  await converge('#net members after the partition', trio, (c) => names(c, '#net'), '@alice @bob +carol dave', ns);
  lap('convergence after the partition checked');

  // ---- restart: C killed (SIGKILL); A and B redial it; its users come back -------------------
  ma = alice.received.length;
  mb = bob.received.length;
  C.earlier += C.child!.out();
  await C.child!.stop('SIGKILL');
  const killedAt = Date.now();
  await seen(alice, /^:carol!\S+ QUIT :[ab]\.test c\.test$/, ma);
  await seen(alice, /^:dave!\S+ QUIT :[ab]\.test c\.test$/, ma);
  await seen(bob, /^:carol!\S+ QUIT :[ab]\.test c\.test$/, mb);
  lap(`A and B saw C's netsplit ${Date.now() - killedAt} ms after the kill`);
  // while C is down: a new topic on #p (C keeps the old one on disk)
  alice.send('TOPIC #p :set while c was down');
  await seen(bob, /^:alice!\S+ TOPIC #p :set while c was down$/, mb);
  await start(C);
  const restartedAt = Date.now();
  const carol2 = await user(C, 'carol');
  await linked([alice, bob, carol2], 3, ns, 20_000);
  lap(`C restarted and relinked ${Date.now() - restartedAt} ms after its start`);
  ma = alice.received.length;
  mb = bob.received.length;
  carol2.send('JOIN #p');
  await carol2.expect(/ 366 carol #p /);
  await seen(alice, /^:carol!\S+ JOIN #p$/, ma);
  // #net is +i (kept on C's disk too): alice (A) invites her back
  carol2.send('JOIN #net sekrit');
  await carol2.expect(/ 473 carol #net /);
  alice.send('INVITE carol #net');
  await carol2.expect(/^:alice!\S+ INVITE carol :?#net$/);
  carol2.send('JOIN #net sekrit');
  await carol2.expect(/ 366 carol #net /);
  await seen(alice, /^:carol!\S+ JOIN #net$/, ma);
  const quartet = [alice, bob, carol2];
  await converge('#p topic after the restart', quartet, (c) => topic(c, '#p'), 'set while c was down', ns);
  await converge('#p modes after the restart', quartet, (c) => modes(c, '#p'), '+nst', ns);
  // carol came back without her status (no services: nobody re-ops her)
  await converge('#p members after the restart', quartet, (c) => names(c, '#p'), '@alice @bob carol', ns);
  await converge('#net modes after the restart', quartet, (c) => modes(c, '#net'), '+imntk sekrit', ns);
  await converge('#net topic after the restart', quartet, (c) => topic(c, '#net'), 'the network topic', ns);
  await converge('#net members after the restart', quartet, (c) => names(c, '#net'), '@alice @bob carol', ns);
  // and the network is one again: a message from the restarted server reaches A and B
  carol2.send('PRIVMSG #p :back again');
  await seen(alice, /^:carol!\S+ PRIVMSG #p :back again$/, ma);
  await seen(bob, /^:carol!\S+ PRIVMSG #p :back again$/, mb);
  lap('convergence after the restart checked');
}

/** one transport's run; its servers and clients are gone when it ends, pass or fail */
async function run(transport: 'tls' | 'iroh', log: (s: string) => void): Promise<void> {
  const firstNode = nodes.length;
  const firstClient = clients.length;
  problems = [];
  try {
    await scenario(transport, log);
    assert.deepEqual(problems, [], `${problems.join('\n')}\n${logs(nodes.slice(firstNode))}`);
  } catch (e) {
    for (const l of [...(problems.length ? ['divergences before the failure:', ...problems] : []), 'server output:', logs(nodes.slice(firstNode))].join('\n').split('\n')) log(l);
    throw e;
  } finally {
    for (const c of clients.slice(firstClient)) c.destroy();
    await Promise.all(nodes.slice(firstNode).map(async (n) => { await n.child?.stop('SIGKILL'); }));
  }
}

describe('three server processes, full mesh', () => {
  test('over TLS: one network; a partition by SQUIT and its merge; a SIGKILLed server restarted', { timeout: 60_000 }, async (t) => {
    await run('tls', (s) => t.diagnostic(s));
  });
  test('over iroh (QUIC, relays off): one network; a partition by SQUIT and its merge; a SIGKILLed server restarted', { timeout: 60_000 }, async (t) => {
    await run('iroh', (s) => t.diagnostic(s));
  });
});
