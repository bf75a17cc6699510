import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as N from '../../../src/protocol/numerics.js';
import type { User } from '../../../src/state/user.js';
import { createOpsHarness, type EventKind, type HarnessOptions, type ModeResult, type OpsHarness } from './ops-harness.js';

// #13: the Ops permission matrix — every op × actor × relevant channel/user mode, with the exact
// outcome: allowed (the events emitted, in order, and the state change) or refused (the exact
// numeric and parameters, no event, and nothing changed in the world or the database). Ops is
// reached only through ops-harness.ts. Actors: local users in every role, and users a peer
// introduced (remote users, at the end). Servers and operators/API keys as actors (state/actor.ts)
// come with the actor parameter: the harness is the place to add them.

const DID = {
  founder: 'did:plc:founderfounderfounder0',
  didop: 'did:plc:didopdidopdidopdidop00',
  account: 'did:plc:accountaccountaccount0',
  visitor: 'did:plc:visitorvisitorvisitor0',
  other: 'did:plc:otherotherotherother000',
};

/** Who acts, relative to #c. */
type Role = 'founder' | 'chanop' | 'didop' | 'voiced' | 'member' | 'account' | 'opermember' | 'outsider' | 'oper';
const ROLES: readonly Role[] = ['founder', 'chanop', 'didop', 'voiced', 'member', 'account', 'opermember', 'outsider', 'oper'];
const ROLE_TEXT: Record<Role, string> = {
  founder: 'founder (DID, +o)',
  chanop: 'chanop (guest, +o)',
  didop: 'DID op (+o)',
  voiced: 'voiced member',
  member: 'plain member (guest)',
  account: 'plain member (logged in)',
  opermember: 'server operator, plain member',
  outsider: 'non-member',
  oper: 'server operator, non-member',
};
const isMember = (r: Role): boolean => r !== 'outsider' && r !== 'oper';
const isChanOp = (r: Role): boolean => r === 'founder' || r === 'chanop' || r === 'didop';

/**
 * #c with one user per role: Founder created it logged in (founder, +o); Chanop (guest) and Didop
 * (logged in: a DID op) were opped by the founder, Voiced voiced; Member (guest), Account (logged
 * in) and OperMember (server operator) are plain members; Outsider and Oper (server operator) are
 * not on it. Default modes +nt.
 */
interface Scene {
  h: OpsHarness;
  u: Record<Role, User>;
}

function scene(opts?: HarnessOptions): Scene {
  const h = createOpsHarness(opts);
  const u: Record<Role, User> = {
    founder: h.user('Founder', { account: DID.founder }),
    chanop: h.user('Chanop'),
    didop: h.user('Didop', { account: DID.didop }),
    voiced: h.user('Voiced'),
    member: h.user('Member'),
    account: h.user('Account', { account: DID.account }),
    opermember: h.user('OperMember', { oper: 'admin' }),
    outsider: h.user('Outsider'),
    oper: h.user('Oper', { oper: 'admin' }),
  };
  for (const r of ROLES) if (isMember(r)) h.join(u[r], '#c');
  ok(h.mode(u.founder, '#c', '+oov', 'Chanop', 'Didop', 'Voiced'));
  h.clearEvents();
  return { h, u };
}

/** a setup mode change that must apply cleanly */
function ok(r: ModeResult): void {
  assert.deepEqual(r.errors, [], 'setup mode change refused');
  assert.ok(r.applied.length > 0, 'setup mode change applied nothing');
}

interface Case {
  name: string;
  opts?: HarnessOptions;
  /** prepares the scene (its events are dropped) */
  setup?: (s: Scene) => void;
  /** the op under test (through the harness) */
  run: (s: Scene) => unknown;
  /** refused: the op throws this numeric (and these params, when given); no event, nothing changes */
  refused?: string;
  params?: (s: Scene) => string[];
  /** the refusal's text */
  text?: RegExp;
  /** allowed: exactly these events, in order */
  events?: EventKind[];
  /** per-change refusals of a MODE line (changeChannelModes onError), by numeric */
  modeErrors?: string[];
  /** world and database exactly as before (no-ops, per-change refusals) */
  unchanged?: boolean;
  check?: (s: Scene, result: unknown) => void;
  /** a known bug: the case states the expected behaviour and fails today */
  todo?: string;
}

function cases(title: string, list: Case[]): void {
  describe(title, () => {
    for (const c of list) {
      test(c.name, c.todo !== undefined ? { todo: c.todo } : {}, () => runCase(c));
    }
  });
}

function runCase(c: Case): void {
  const s = scene(c.opts);
  try {
    c.setup?.(s);
    s.h.clearEvents();
    const before = c.refused !== undefined || c.unchanged ? s.h.snapshot() : undefined;
    let result: unknown;
    const refusal = s.h.refusal(() => { result = c.run(s); });
    if (c.refused !== undefined) {
      assert.ok(refusal, `expected ${c.refused}, but the op was allowed`);
      assert.equal(refusal.code, c.refused, `refused with ${refusal.code} ${refusal.params.join(' ')}`);
      if (c.params) assert.deepEqual(refusal.params, c.params(s));
      if (c.text) assert.match(refusal.text, c.text);
      assert.deepEqual(s.h.eventKinds(), [], 'a refused op emits nothing');
      assert.deepEqual(s.h.snapshot(), before, 'a refused op changes nothing');
      return;
    }
    assert.equal(refusal, undefined, `expected allowed, refused with ${refusal?.code} ${refusal?.params.join(' ')}`);
    if (c.modeErrors) assert.deepEqual((result as ModeResult).errors.map((e) => e.code), c.modeErrors);
    else if (result !== null && typeof result === 'object' && 'errors' in result) assert.deepEqual((result as ModeResult).errors, [], 'no per-change refusal');
    assert.deepEqual(s.h.eventKinds(), c.events ?? [], 'events');
    if (before) assert.deepEqual(s.h.snapshot(), before, 'nothing changed');
    c.check?.(s, result);
  } finally {
    s.h.close();
  }
}

const nick = (s: Scene, r: Role): string => s.u[r].nick;
const applied = (res: unknown): string => {
  const r = res as ModeResult;
  let out = '';
  let dir = '';
  for (const c of r.applied) {
    const d = c.adding ? '+' : '-';
    if (d !== dir) { out += d; dir = d; }
    out += c.mode;
  }
  return [out, ...r.applied.flatMap((c) => (c.param !== undefined ? [c.param] : []))].join(' ');
};

// ---- KICK ------------------------------------------------------------------------------------

const KICK_TARGETS = ['member', 'voiced', 'chanop', 'founder', 'outsider'] as const satisfies readonly Role[];

cases('kick: actor × target', ROLES.flatMap((by) => KICK_TARGETS.map((target): Case => {
  const name = `${ROLE_TEXT[by]} kicks ${ROLE_TEXT[target]}`;
  const run = (s: Scene) => s.h.kick(s.u[by], '#c', s.u[target]);
  if (!isMember(by)) return { name: `${name} → 442`, run, refused: N.ERR_NOTONCHANNEL, params: () => ['#c'] };
  if (!isChanOp(by)) return { name: `${name} → 482`, run, refused: N.ERR_CHANOPRIVSNEEDED, params: () => ['#c'] };
  if (!isMember(target)) return { name: `${name} → 441`, run, refused: N.ERR_USERNOTINCHANNEL, params: (s) => [nick(s, target), '#c'] };
  if (target === 'founder' && by !== 'founder') return { name: `${name} → 484`, run, refused: N.ERR_ISCHANSERVICE, params: (s) => [nick(s, target), '#c'] };
  return {
    name: `${name} → allowed`, run, events: ['kick'],
    check: (s) => {
      assert.equal(s.h.memberModes('#c', s.u[target]), undefined);
      assert.equal(s.u[target].channels.size, 0);
      const ev = s.h.events[0];
      assert.ok(ev?.kind === 'kick');
      assert.equal(ev.source, s.u[by].mask);
      assert.equal(ev.target, s.u[target]);
    },
  };
})));

cases('kick: more', [
  {
    name: 'the founder may kick a DID op (its DID op grant stays)', run: (s) => s.h.kick(s.u.founder, '#c', s.u.didop), events: ['kick'],
    check: (s) => assert.ok(s.h.channel('#c').didOps.has(DID.didop)),
  },
  {
    name: 'a DID op may kick another chanop', run: (s) => s.h.kick(s.u.didop, '#c', s.u.chanop), events: ['kick'],
  },
  {
    name: 'the founder, de-opped by itself, may no longer kick → 482',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '-o', 'Founder')),
    run: (s) => s.h.kick(s.u.founder, '#c', s.u.member), refused: N.ERR_CHANOPRIVSNEEDED,
  },
  {
    name: 'kicking the last other member leaves the kicker alone on the channel',
    setup: (s) => { for (const r of ['chanop', 'didop', 'voiced', 'member', 'account', 'opermember'] as const) s.h.part(s.u[r], '#c'); s.h.join(s.u.member, '#c'); },
    run: (s) => s.h.kick(s.u.founder, '#c', s.u.member), events: ['kick'],
    check: (s) => assert.deepEqual([...s.h.channel('#c').members.keys()], [s.u.founder]),
  },
]);

// ---- TOPIC -----------------------------------------------------------------------------------

cases('topic: actor × +t', ROLES.flatMap((by) => [true, false].map((t): Case => {
  const name = `${ROLE_TEXT[by]} sets the topic on a ${t ? '+t' : '-t'} channel`;
  const setup = t ? undefined : (s: Scene) => ok(s.h.mode(s.u.founder, '#c', '-t'));
  const run = (s: Scene) => s.h.topic(s.u[by], '#c', 'hello world');
  if (!isMember(by)) return { name: `${name} → 442`, setup, run, refused: N.ERR_NOTONCHANNEL, params: () => ['#c'] };
  if (t && !isChanOp(by)) return { name: `${name} → 482`, setup, run, refused: N.ERR_CHANOPRIVSNEEDED, params: () => ['#c'] };
  return {
    name: `${name} → allowed`, setup, run, events: ['topic'],
    check: (s) => {
      const topic = s.h.channel('#c').topic;
      assert.deepEqual(topic, { text: 'hello world', setBy: s.u[by].mask, setAt: s.h.clock.now() });
      assert.deepEqual(s.h.persistedChannel('#c')?.topic, topic, 'persisted (encrypted at rest, read back)');
    },
  };
})));

cases('topic: more', [
  {
    name: 'an empty topic clears it (persisted)',
    setup: (s) => s.h.topic(s.u.founder, '#c', 'old'),
    run: (s) => s.h.topic(s.u.chanop, '#c', ''), events: ['topic'],
    check: (s) => {
      assert.equal(s.h.channel('#c').topic, undefined);
      assert.equal(s.h.persistedChannel('#c')?.topic, undefined);
    },
  },
  {
    name: 'a voiced member on a +t channel → 482 (voice is not enough)',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+m')),
    run: (s) => s.h.topic(s.u.voiced, '#c', 'x'), refused: N.ERR_CHANOPRIVSNEEDED,
  },
]);

// ---- INVITE ----------------------------------------------------------------------------------

cases('invite: actor × +i (target: a guest not on the channel)', ROLES.flatMap((by) => [false, true].map((i): Case => {
  const name = `${ROLE_TEXT[by]} invites a guest to a ${i ? '+i' : '-i'} channel`;
  const setup = (s: Scene) => { s.h.user('Guest1'); if (i) ok(s.h.mode(s.u.founder, '#c', '+i')); };
  const target = (s: Scene) => s.h.world.findUser('Guest1')!;
  const run = (s: Scene) => s.h.invite(s.u[by], target(s), '#c');
  if (!isMember(by)) return { name: `${name} → 442`, setup, run, refused: N.ERR_NOTONCHANNEL, params: () => ['#c'] };
  if (i && !isChanOp(by)) return { name: `${name} → 482`, setup, run, refused: N.ERR_CHANOPRIVSNEEDED, params: () => ['#c'] };
  return {
    name: `${name} → allowed`, setup, run, events: ['invite'],
    check: (s) => {
      assert.ok(target(s).invitedTo?.has(s.h.channel('#c')));
      assert.deepEqual(s.h.persistedChannel('#c')?.didInvites ?? [], [], 'a guest is invited by nick only');
    },
  };
})));

cases('invite: more', [
  {
    name: 'a chanop invites someone already on the channel → 443',
    run: (s) => s.h.invite(s.u.chanop, s.u.member, '#c'), refused: N.ERR_USERONCHANNEL, params: (s) => [nick(s, 'member'), '#c'],
  },
  {
    name: 'a plain member invites someone already on a -i channel → 443',
    run: (s) => s.h.invite(s.u.member, s.u.voiced, '#c'), refused: N.ERR_USERONCHANNEL, params: (s) => [nick(s, 'voiced'), '#c'],
  },
  {
    name: 'a plain member invites someone already on a +i channel → 482 (checked before 443)',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+i')),
    run: (s) => s.h.invite(s.u.member, s.u.voiced, '#c'), refused: N.ERR_CHANOPRIVSNEEDED,
  },
  {
    name: 'inviting a logged-in user also records a persisted DID invite (granted by the inviter\'s DID)',
    setup: (s) => { s.h.user('Visitor', { account: DID.visitor }); },
    run: (s) => s.h.invite(s.u.founder, s.h.world.findUser('Visitor')!, '#c'), events: ['invite'],
    check: (s) => {
      const stamp = s.h.channel('#c').didInvites.get(DID.visitor)?.stamp;
      assert.match(stamp?.hlc ?? '', /^\d{13}\.\d{6}$/, 'the grant is stamped (#13)');
      const grant = { did: DID.visitor, by: DID.founder, at: s.h.clock.now(), stamp };
      assert.deepEqual([...s.h.channel('#c').didInvites].map(([did, g]) => ({ did, ...g })), [grant]);
      assert.deepEqual(s.h.persistedChannel('#c')?.didInvites, [grant]);
    },
  },
  {
    name: 'a DID invite by a guest chanop records the inviter\'s mask',
    setup: (s) => { s.h.user('Visitor', { account: DID.visitor }); },
    run: (s) => s.h.invite(s.u.chanop, s.h.world.findUser('Visitor')!, '#c'), events: ['invite'],
    check: (s) => assert.equal(s.h.persistedChannel('#c')?.didInvites[0]?.by, s.u.chanop.mask),
  },
  {
    name: 'inviting twice keeps one pending invite', setup: (s) => { const g = s.h.user('Guest1'); s.h.invite(s.u.founder, g, '#c'); },
    run: (s) => s.h.invite(s.u.chanop, s.h.world.findUser('Guest1')!, '#c'), events: ['invite'],
    check: (s) => assert.equal(s.h.world.findUser('Guest1')!.invitedTo?.size, 1),
  },
]);

// ---- MODE (channel) --------------------------------------------------------------------------

interface ModeSpec {
  text: string;
  setup?: (s: Scene) => void;
  args: (s: Scene) => [string, ...string[]];
  /** the applied changes as `+o nick` */
  echo: (s: Scene) => string;
  check: (s: Scene) => void;
}

const MODES: ModeSpec[] = [
  {
    text: '+o on a plain member', args: () => ['+o', 'Member'], echo: () => '+o Member',
    check: (s) => { assert.equal(s.h.memberModes('#c', s.u.member), 'o'); assert.equal(s.h.channel('#c').didOps.size, 1, 'a guest gets no DID op'); },
  },
  {
    text: '-o on a chanop', args: () => ['-o', 'Chanop'], echo: () => '-o Chanop',
    check: (s) => assert.equal(s.h.memberModes('#c', s.u.chanop), ''),
  },
  {
    text: '+v on a plain member', args: () => ['+v', 'Member'], echo: () => '+v Member',
    check: (s) => assert.equal(s.h.memberModes('#c', s.u.member), 'v'),
  },
  {
    text: '-v on a voiced member', args: () => ['-v', 'Voiced'], echo: () => '-v Voiced',
    check: (s) => assert.equal(s.h.memberModes('#c', s.u.voiced), ''),
  },
  {
    text: '+b', args: () => ['+b', '*!*@bad.example'], echo: () => '+b *!*@bad.example',
    check: (s) => assert.deepEqual(s.h.persistedChannel('#c')?.lists.b.map((e) => e.mask), ['*!*@bad.example']),
  },
  {
    text: '-b', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', 'x!*@*')), args: () => ['-b', 'x!*@*'], echo: () => '-b x!*@*',
    check: (s) => assert.deepEqual(s.h.persistedChannel('#c')?.lists.b, []),
  },
  {
    text: '+e', args: () => ['+e', '*!*@good.example'], echo: () => '+e *!*@good.example',
    check: (s) => assert.deepEqual(s.h.persistedChannel('#c')?.lists.e.map((e) => e.mask), ['*!*@good.example']),
  },
  {
    text: '-e', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+e', 'y!*@*')), args: () => ['-e', 'y!*@*'], echo: () => '-e y!*@*',
    check: (s) => assert.equal(s.h.channel('#c').lists.e.length, 0),
  },
  {
    text: '+I', args: () => ['+I', '*!*@friends.example'], echo: () => '+I *!*@friends.example',
    check: (s) => assert.deepEqual(s.h.persistedChannel('#c')?.lists.I.map((e) => e.mask), ['*!*@friends.example']),
  },
  {
    text: '+k', args: () => ['+k', 'sekrit'], echo: () => '+k sekrit',
    check: (s) => { assert.equal(s.h.channel('#c').modes.k, 'sekrit'); assert.equal(s.h.persistedChannel('#c')?.key, 'sekrit'); },
  },
  {
    text: '-k', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+k', 'sekrit')), args: () => ['-k'], echo: () => '-k *',
    check: (s) => { assert.equal(s.h.channel('#c').modes.k, undefined); assert.equal(s.h.persistedChannel('#c')?.key, undefined); },
  },
  {
    text: '+l', args: () => ['+l', '10'], echo: () => '+l 10',
    check: (s) => { assert.equal(s.h.channel('#c').modes.l, 10); assert.equal(s.h.persistedChannel('#c')?.limit, 10); },
  },
  {
    text: '-l', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+l', '10')), args: () => ['-l'], echo: () => '-l',
    check: (s) => assert.equal(s.h.persistedChannel('#c')?.limit, undefined),
  },
  ...(['+i', '+m', '+s', '+p', '-n', '-t'] as const).map((m): ModeSpec => ({
    text: m, args: () => [m], echo: () => m,
    check: (s) => {
      const f = m[1] as 'i' | 'm' | 's' | 'p' | 'n' | 't';
      assert.equal(s.h.channel('#c').modes[f], m[0] === '+');
      assert.equal(s.h.persistedChannel('#c')?.modes.includes(f), m[0] === '+');
    },
  })),
  {
    text: '-i', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+i')), args: () => ['-i'], echo: () => '-i',
    check: (s) => assert.equal(s.h.persistedChannel('#c')?.modes, 'nt'),
  },
];

cases('mode: actor × channel mode change', ROLES.flatMap((by) => MODES.map((m): Case => {
  const name = `${ROLE_TEXT[by]} sets ${m.text}`;
  const run = (s: Scene) => s.h.mode(s.u[by], '#c', ...m.args(s));
  if (!isChanOp(by)) return { name: `${name} → 482`, setup: m.setup, run, refused: N.ERR_CHANOPRIVSNEEDED, params: () => ['#c'] };
  return {
    name: `${name} → allowed`, setup: m.setup, run, events: ['channel-mode'],
    check: (s, res) => {
      assert.equal(applied(res), m.echo(s));
      const ev = s.h.events[0];
      assert.ok(ev?.kind === 'channel-mode');
      assert.equal(ev.source, s.u[by].mask);
      m.check(s);
    },
  };
})));

cases('mode: founder and DID ops', [
  {
    name: 'a chanop de-ops the founder → 484, nothing changes', run: (s) => s.h.mode(s.u.chanop, '#c', '-o', 'Founder'),
    modeErrors: [N.ERR_ISCHANSERVICE], unchanged: true,
  },
  {
    name: 'a DID op de-ops the founder → 484, nothing changes', run: (s) => s.h.mode(s.u.didop, '#c', '-o', 'Founder'),
    modeErrors: [N.ERR_ISCHANSERVICE], unchanged: true,
  },
  {
    name: 'the founder de-ops itself → allowed', run: (s) => s.h.mode(s.u.founder, '#c', '-o', 'Founder'), events: ['channel-mode'],
    check: (s) => { assert.equal(s.h.memberModes('#c', s.u.founder), ''); assert.equal(s.h.channel('#c').founder, DID.founder, 'still the founder'); },
  },
  {
    name: 'a chanop may devoice the founder', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+v', 'Founder')),
    run: (s) => s.h.mode(s.u.chanop, '#c', '-v', 'Founder'), events: ['channel-mode'],
    check: (s) => assert.equal(s.h.memberModes('#c', s.u.founder), 'o'),
  },
  {
    name: '+o on a logged-in member grants a persisted DID op (by the setter\'s DID)',
    run: (s) => s.h.mode(s.u.founder, '#c', '+o', 'Account'), events: ['did-op', 'channel-mode'],
    check: (s) => {
      assert.equal(s.h.channel('#c').didOps.get(DID.account)?.by, DID.founder);
      assert.deepEqual(s.h.persistedChannel('#c')?.didOps.map((o) => [o.did, o.by]), [[DID.didop, DID.founder], [DID.account, DID.founder]]);
    },
  },
  {
    name: '+o on a logged-in member by a guest chanop records the chanop\'s mask',
    run: (s) => s.h.mode(s.u.chanop, '#c', '+o', 'Account'), events: ['did-op', 'channel-mode'],
    check: (s) => assert.equal(s.h.persistedChannel('#c')?.didOps.find((o) => o.did === DID.account)?.by, s.u.chanop.mask),
  },
  {
    name: '-o on a DID op revokes the persisted DID op',
    run: (s) => s.h.mode(s.u.chanop, '#c', '-o', 'Didop'), events: ['did-op', 'channel-mode'],
    check: (s) => { assert.equal(s.h.channel('#c').didOps.size, 0); assert.deepEqual(s.h.persistedChannel('#c')?.didOps, []); },
  },
  {
    name: '+o on the founder grants no DID op (the founder needs none)',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '-o', 'Founder')),
    run: (s) => s.h.mode(s.u.chanop, '#c', '+o', 'Founder'), events: ['channel-mode'],
    check: (s) => assert.equal(s.h.channel('#c').didOps.has(DID.founder), false),
  },
  {
    name: '+o on a DID op already +o → no-op, no event', run: (s) => s.h.mode(s.u.founder, '#c', '+o', 'Didop'), unchanged: true,
    check: (_s, res) => assert.deepEqual((res as ModeResult).applied, []),
  },
  {
    name: 'a DID op that parts and rejoins is opped again (server MODE after the JOIN)',
    setup: (s) => s.h.part(s.u.didop, '#c'),
    run: (s) => s.h.join(s.u.didop, '#c'), events: ['join', 'channel-mode'],
    check: (s) => {
      assert.equal(s.h.memberModes('#c', s.u.didop), 'o');
      const ev = s.h.events[1];
      assert.ok(ev?.kind === 'channel-mode');
      assert.equal(ev.source, undefined, 'the server sets it');
    },
  },
  {
    name: '+o on a member opped before logging in, now logged in: the DID op grant is an event (no MODE: +o did not change)',
    setup: (s) => { ok(s.h.mode(s.u.founder, '#c', '+o', 'Member')); s.h.login(s.u.member, DID.other); },
    run: (s) => s.h.mode(s.u.founder, '#c', '+o', 'Member'),
    events: ['did-op'],
    check: (s) => assert.equal(s.h.channel('#c').didOps.get(DID.other)?.by, DID.founder),
  },
]);

cases('mode: parameters and lists', [
  { name: '+o on an unknown nick → 401', run: (s) => s.h.mode(s.u.founder, '#c', '+o', 'Nobody'), modeErrors: [N.ERR_NOSUCHNICK], unchanged: true },
  { name: '+o on a non-member → 441', run: (s) => s.h.mode(s.u.founder, '#c', '+o', 'Outsider'), modeErrors: [N.ERR_USERNOTINCHANNEL], unchanged: true },
  { name: '+v on a non-member server operator → 441', run: (s) => s.h.mode(s.u.chanop, '#c', '+v', 'Oper'), modeErrors: [N.ERR_USERNOTINCHANNEL], unchanged: true },
  {
    name: '+o on a user still registering → 401', setup: (s) => { s.h.user('Pending', { registered: false }); },
    run: (s) => s.h.mode(s.u.founder, '#c', '+o', 'Pending'), modeErrors: [N.ERR_NOSUCHNICK], unchanged: true,
  },
  {
    name: 'one refused change does not stop the rest of the line: +o Nobody -t', run: (s) => s.h.mode(s.u.founder, '#c', '+o-t', 'Nobody'),
    modeErrors: [N.ERR_NOSUCHNICK], events: ['channel-mode'], check: (s, res) => { assert.equal(applied(res), '-t'); assert.equal(s.h.channel('#c').modes.t, false); },
  },
  { name: '+k with a space → 525', run: (s) => s.h.mode(s.u.founder, '#c', '+k', 'a b'), modeErrors: [N.ERR_INVALIDKEY], unchanged: true },
  { name: '+k with a comma → 525', run: (s) => s.h.mode(s.u.founder, '#c', '+k', 'a,b'), modeErrors: [N.ERR_INVALIDKEY], unchanged: true },
  { name: '+k starting with a colon → 525', run: (s) => s.h.mode(s.u.founder, '#c', '+k', ':ab'), modeErrors: [N.ERR_INVALIDKEY], unchanged: true },
  { name: '+k of 33 characters → 525', run: (s) => s.h.mode(s.u.founder, '#c', '+k', 'k'.repeat(33)), modeErrors: [N.ERR_INVALIDKEY], unchanged: true },
  {
    name: '+k replacing a key', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+k', 'one')),
    run: (s) => s.h.mode(s.u.founder, '#c', '+k', 'two'), events: ['channel-mode'], check: (s) => assert.equal(s.h.persistedChannel('#c')?.key, 'two'),
  },
  { name: '+k with the same key → no-op', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+k', 'one')), run: (s) => s.h.mode(s.u.founder, '#c', '+k', 'one'), unchanged: true },
  { name: '-k without a key → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '-k'), unchanged: true },
  { name: '+l 0 → 696', run: (s) => s.h.mode(s.u.founder, '#c', '+l', '0'), modeErrors: [N.ERR_INVALIDMODEPARAM], unchanged: true },
  { name: '+l abc → 696', run: (s) => s.h.mode(s.u.founder, '#c', '+l', 'abc'), modeErrors: [N.ERR_INVALIDMODEPARAM], unchanged: true },
  { name: '+l -5 → 696', run: (s) => s.h.mode(s.u.founder, '#c', '+l', '-5'), modeErrors: [N.ERR_INVALIDMODEPARAM], unchanged: true },
  { name: '+l of ten digits → 696', run: (s) => s.h.mode(s.u.founder, '#c', '+l', '1234567890'), modeErrors: [N.ERR_INVALIDMODEPARAM], unchanged: true },
  { name: '+l with the same limit → no-op', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+l', '5')), run: (s) => s.h.mode(s.u.founder, '#c', '+l', '5'), unchanged: true },
  { name: '-l without a limit → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '-l'), unchanged: true },
  { name: '+t on a +t channel → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '+t'), unchanged: true },
  { name: '+n on a +n channel → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '+n'), unchanged: true },
  { name: '-m on a -m channel → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '-m'), unchanged: true },
  { name: '+v on a voiced member → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '+v', 'Voiced'), unchanged: true },
  { name: '-o on a plain member → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '-o', 'Member'), unchanged: true },
  {
    name: '+b with a space in the mask → 696', run: (s) => s.h.mode(s.u.founder, '#c', '+b', 'a b!*@*'), modeErrors: [N.ERR_INVALIDMODEPARAM], unchanged: true,
  },
  {
    name: '+b of a mask already there (other case) → no-op', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', 'Bad[1]!*@*')),
    run: (s) => s.h.mode(s.u.founder, '#c', '+b', 'bad{1}!*@*'), unchanged: true,
  },
  { name: '-b of a mask not there → no-op', run: (s) => s.h.mode(s.u.founder, '#c', '-b', 'x!*@*'), unchanged: true },
  {
    name: '-b echoes the mask as stored', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', 'Bad!*@*')),
    run: (s) => s.h.mode(s.u.founder, '#c', '-b', 'bad!*@*'), events: ['channel-mode'], check: (_s, res) => assert.equal(applied(res), '-b Bad!*@*'),
  },
  {
    name: '+b of a bare nick is stored as nick!*@*', run: (s) => s.h.mode(s.u.founder, '#c', '+b', 'troll'), events: ['channel-mode'],
    check: (s, res) => { assert.equal(applied(res), '+b troll!*@*'); assert.equal(s.h.channel('#c').lists.b.entries[0]?.setBy, s.u.founder.mask); },
  },
  {
    name: '+b of a DID is stored as is', run: (s) => s.h.mode(s.u.founder, '#c', '+b', DID.other), events: ['channel-mode'],
    check: (_s, res) => assert.equal(applied(res), `+b ${DID.other}`),
  },
  {
    name: '+b on a full list (max-list-entries) → 478',
    setup: (s) => { for (let i = 0; i < 10; i++) ok(s.h.mode(s.u.founder, '#c', '+b', `ban${i}!*@*`)); },
    run: (s) => s.h.mode(s.u.founder, '#c', '+b', 'one-more!*@*'), modeErrors: [N.ERR_BANLISTFULL], unchanged: true,
  },
  {
    name: '+e on a full +e list → 478 (each list has its own cap)',
    setup: (s) => { for (let i = 0; i < 10; i++) ok(s.h.mode(s.u.founder, '#c', '+e', `ex${i}!*@*`)); },
    run: (s) => s.h.mode(s.u.founder, '#c', '+e', 'one-more!*@*'), modeErrors: [N.ERR_BANLISTFULL], unchanged: true,
  },
  {
    name: '+b on a full +I list is still allowed',
    setup: (s) => { for (let i = 0; i < 10; i++) ok(s.h.mode(s.u.founder, '#c', '+I', `inv${i}!*@*`)); },
    run: (s) => s.h.mode(s.u.founder, '#c', '+b', 'x!*@*'), events: ['channel-mode'],
  },
  {
    name: 'a line of several changes is one event with the applied ones in order',
    run: (s) => s.h.mode(s.u.founder, '#c', '+imk-t+v', 'key', 'Member'), events: ['channel-mode'],
    check: (_s, res) => assert.equal(applied(res), '+imk-t+v key Member'),
  },
]);

// ---- JOIN ------------------------------------------------------------------------------------

/** Who joins #c (not on it yet). */
type Joiner = 'guest' | 'account' | 'founder' | 'didop' | 'oper' | 'invitedNick' | 'invitedDid' | 'invex' | 'exempt';
const JOINER_TEXT: Record<Joiner, string> = {
  guest: 'a guest',
  account: 'a logged-in user',
  founder: 'the founder (rejoining)',
  didop: 'a DID op (rejoining)',
  oper: 'a server operator',
  invitedNick: 'a guest invited by nick',
  invitedDid: 'a logged-in user with a persisted DID invite (reconnected)',
  invex: 'a guest matching +I',
  exempt: 'a guest matching +e',
};
type Cond = 'open' | 'i' | 'k' | 'l' | 'b' | 'biklAll';
const COND_TEXT: Record<Cond, string> = {
  open: 'an open channel', i: '+i', k: '+k (no key given)', l: '+l (full)', b: '+b *!*@*', biklAll: '+b *!*@* +i +k +l (full)',
};

/** the joiner, set up: invites issued, founder / DID op parted */
function joiner(s: Scene, j: Joiner): User {
  const { h, u } = s;
  switch (j) {
    case 'guest': return h.user('Guest1');
    case 'account': return h.user('Visitor', { account: DID.visitor });
    case 'founder': h.part(u.founder, '#c'); return u.founder;
    case 'didop': h.part(u.didop, '#c'); return u.didop;
    case 'oper': return u.oper;
    case 'invitedNick': { const g = h.user('Guest1'); h.invite(u.chanop, g, '#c'); return g; }
    case 'invitedDid': {
      const before = h.user('Visitor', { account: DID.visitor });
      h.invite(u.chanop, before, '#c');
      h.quit(before);
      const again = h.user('Visitor', { account: DID.visitor });
      assert.equal(again.invitedTo, undefined, 'the new connection has no invite by nick');
      return again;
    }
    case 'invex': return h.user('Invex');
    case 'exempt': return h.user('Exempt');
  }
}

function joinCase(j: Joiner, cond: Cond): Case {
  let who: User | undefined;
  const setup = (s: Scene) => {
    ok(s.h.mode(s.u.chanop, '#c', '+eI', 'exempt!*@*', 'invex!*@*'));
    who = joiner(s, j);
    const n = String(s.h.channel('#c').members.size);
    if (cond === 'i') ok(s.h.mode(s.u.chanop, '#c', '+i'));
    if (cond === 'k') ok(s.h.mode(s.u.chanop, '#c', '+k', 'sekrit'));
    if (cond === 'l') ok(s.h.mode(s.u.chanop, '#c', '+l', n));
    if (cond === 'b') ok(s.h.mode(s.u.chanop, '#c', '+b', '*!*@*'));
    if (cond === 'biklAll') ok(s.h.mode(s.u.chanop, '#c', '+bikl', '*!*@*', 'sekrit', n));
  };
  const run = (s: Scene) => s.h.join(who!, '#c');
  const name = `${JOINER_TEXT[j]} joins ${COND_TEXT[cond]}`;
  const hasInvite = j === 'invitedNick' || j === 'invitedDid';
  let refused: string | undefined;
  if (j !== 'founder') {
    const banned = (cond === 'b' || cond === 'biklAll') && !hasInvite && j !== 'exempt';
    const inviteOnly = (cond === 'i' || cond === 'biklAll') && !hasInvite && j !== 'invex';
    const keyed = (cond === 'k' || cond === 'biklAll') && !hasInvite;
    const full = (cond === 'l' || cond === 'biklAll') && !hasInvite;
    refused = banned ? N.ERR_BANNEDFROMCHAN : inviteOnly ? N.ERR_INVITEONLYCHAN : keyed ? N.ERR_BADCHANNELKEY : full ? N.ERR_CHANNELISFULL : undefined;
  }
  if (refused !== undefined) return { name: `${name} → ${refused}`, setup, run, refused, params: () => ['#c'] };
  const opped = j === 'founder' || j === 'didop';
  return {
    name: `${name} → allowed${opped ? ' (+o)' : ''}`, setup, run, events: opped ? ['join', 'channel-mode'] : ['join'],
    check: (s, res) => {
      assert.equal(res, true);
      assert.equal(s.h.memberModes('#c', who!), opped ? 'o' : '');
      assert.ok(who!.channels.has(s.h.channel('#c')));
      assert.equal(who!.invitedTo?.has(s.h.channel('#c')) ?? false, false, 'an invite is used once');
      if (j === 'invitedDid') assert.deepEqual(s.h.persistedChannel('#c')?.didInvites, [], 'the DID invite is consumed');
    },
  };
}

const JOINERS: readonly Joiner[] = ['guest', 'account', 'founder', 'didop', 'oper', 'invitedNick', 'invitedDid', 'invex', 'exempt'];
const CONDS: readonly Cond[] = ['open', 'i', 'k', 'l', 'b', 'biklAll'];
cases('join: joiner × channel mode', JOINERS.flatMap((j) => CONDS.map((c) => joinCase(j, c))));

cases('join: keys, limits, bans, creation', [
  {
    name: 'the right key on a +k channel → allowed', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+k', 'sekrit')),
    run: (s) => s.h.join(s.u.outsider, '#c', 'sekrit'), events: ['join'],
  },
  {
    name: 'a wrong key on a +k channel → 475', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+k', 'sekrit')),
    run: (s) => s.h.join(s.u.outsider, '#c', 'SEKRIT'), refused: N.ERR_BADCHANNELKEY, params: () => ['#c'],
  },
  { name: 'a key on a channel without +k → allowed', run: (s) => s.h.join(s.u.outsider, '#c', 'whatever'), events: ['join'] },
  {
    name: '+l one above the member count → allowed, then the next → 471',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+l', '8')),
    run: (s) => { s.h.join(s.u.outsider, '#c'); s.h.clearEvents(); return s.h.refusal(() => s.h.join(s.u.oper, '#c')); },
    check: (s, res) => { assert.deepEqual(res, { code: N.ERR_CHANNELISFULL, params: ['#c'], text: 'Cannot join channel (+l)' }); assert.equal(s.h.channel('#c').members.size, 8); },
  },
  {
    name: 'a wrong key with an invite → allowed (an invite bypasses +k)',
    setup: (s) => { ok(s.h.mode(s.u.founder, '#c', '+k', 'sekrit')); s.h.invite(s.u.founder, s.u.outsider, '#c'); },
    run: (s) => s.h.join(s.u.outsider, '#c', 'wrong'), events: ['join'],
  },
  {
    name: 'a guest matching +I on +i+b (not excepted) → 474 (+I does not lift a ban)',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+ibI', 'outsider!*@*', 'outsider!*@*')),
    run: (s) => s.h.join(s.u.outsider, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a guest matching +e on +i (no +I) → 473 (+e does not lift +i)',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+ie', 'outsider!*@*')),
    run: (s) => s.h.join(s.u.outsider, '#c'), refused: N.ERR_INVITEONLYCHAN,
  },
  {
    name: 'a ban on the displayed (cloaked) host → 474',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', `*!*@${s.u.outsider.host}`)),
    run: (s) => s.h.join(s.u.outsider, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a ban on the real IP (never shown) → 474',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', `*!*@${s.u.outsider.ip}`)),
    run: (s) => s.h.join(s.u.outsider, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a ban on the username → 474',
    setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', '*!outsider@*')),
    run: (s) => s.h.join(s.u.outsider, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a nick ban matches with rfc1459 case folding ([ vs {) → 474',
    setup: (s) => { s.h.user('Evil[1]'); ok(s.h.mode(s.u.founder, '#c', '+b', 'EVIL{1}!*@*')); },
    run: (s) => s.h.join(s.h.world.findUser('Evil[1]')!, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a DID ban refuses that identity → 474',
    setup: (s) => { s.h.user('Visitor', { account: DID.visitor }); ok(s.h.mode(s.u.founder, '#c', '+b', DID.visitor)); },
    run: (s) => s.h.join(s.h.world.findUser('Visitor')!, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a DID ban survives a nick and host change → 474',
    setup: (s) => {
      const v = s.h.user('Visitor', { account: DID.visitor });
      ok(s.h.mode(s.u.founder, '#c', '+b', DID.visitor));
      s.h.nick(v, 'Disguised');
      s.h.chghost(v, 'other', 'elsewhere.example');
    },
    run: (s) => s.h.join(s.h.world.findUser('Disguised')!, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a DID ban does not touch a guest → allowed',
    setup: (s) => { s.h.user('Visitor'); ok(s.h.mode(s.u.founder, '#c', '+b', DID.visitor)); },
    run: (s) => s.h.join(s.h.world.findUser('Visitor')!, '#c'), events: ['join'],
  },
  {
    name: 'an $a: ban refuses that account → 474',
    setup: (s) => { s.h.user('Visitor', { account: DID.visitor }); ok(s.h.mode(s.u.founder, '#c', '+b', `$a:${DID.visitor}`)); },
    run: (s) => s.h.join(s.h.world.findUser('Visitor')!, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a DID exception lifts a host ban → allowed',
    setup: (s) => { s.h.user('Visitor', { account: DID.visitor }); ok(s.h.mode(s.u.founder, '#c', '+be', '*!*@*', DID.visitor)); },
    run: (s) => s.h.join(s.h.world.findUser('Visitor')!, '#c'), events: ['join'],
  },
  {
    name: 'a DID invex lets that identity into +i → allowed',
    setup: (s) => { s.h.user('Visitor', { account: DID.visitor }); ok(s.h.mode(s.u.founder, '#c', '+iI', DID.visitor)); },
    run: (s) => s.h.join(s.h.world.findUser('Visitor')!, '#c'), events: ['join'],
  },
  {
    name: 'the founder bypasses a ban on its own DID', setup: (s) => { ok(s.h.mode(s.u.chanop, '#c', '+b', DID.founder)); s.h.part(s.u.founder, '#c'); },
    run: (s) => s.h.join(s.u.founder, '#c'), events: ['join', 'channel-mode'],
  },
  {
    name: 'a DID op is not exempt from +k → 475', setup: (s) => { ok(s.h.mode(s.u.chanop, '#c', '+k', 'sekrit')); s.h.part(s.u.didop, '#c'); },
    run: (s) => s.h.join(s.u.didop, '#c'), refused: N.ERR_BADCHANNELKEY,
  },
  {
    name: 'an invite to a channel that was dropped and re-created does not open the new one → 473',
    run: (s) => {
      const a = s.h.user('Alice');
      s.h.join(a, '#x');
      s.h.invite(a, s.u.outsider, '#x');
      s.h.part(a, '#x');
      s.h.join(a, '#x');
      ok(s.h.mode(a, '#x', '+i'));
      s.h.clearEvents();
      return s.h.refusal(() => s.h.join(s.u.outsider, '#x'));
    },
    check: (s, res) => { assert.deepEqual(res, { code: N.ERR_INVITEONLYCHAN, params: ['#x'], text: 'Cannot join channel (+i)' }); assert.deepEqual(s.h.eventKinds(), []); },
  },
  {
    name: 'joining a channel one is already on → false, no event',
    run: (s) => s.h.join(s.u.member, '#C'), unchanged: true, check: (_s, res) => assert.equal(res, false),
  },
  {
    name: 'a sixth channel over max-channels 5 → 405',
    setup: (s) => { for (const c of ['#a', '#b', '#d', '#e']) s.h.join(s.u.member, c); },
    run: (s) => s.h.join(s.u.member, '#f'), refused: N.ERR_TOOMANYCHANNELS, params: () => ['#f'],
  },
  {
    name: 'max-channels counts for server operators too → 405',
    setup: (s) => { for (const c of ['#a', '#b', '#d', '#e']) s.h.join(s.u.opermember, c); },
    run: (s) => s.h.join(s.u.opermember, '#f'), refused: N.ERR_TOOMANYCHANNELS,
  },
  {
    name: 'a guest creates a channel: +o, no founder, nothing persisted', run: (s) => s.h.join(s.u.outsider, '#New'), events: ['join'],
    check: (s, res) => {
      assert.equal(res, true);
      assert.equal(s.h.memberModes('#new', s.u.outsider), 'o');
      assert.equal(s.h.channel('#new').founder, undefined);
      assert.equal(s.h.channel('#new').name, '#New');
      assert.equal(s.h.persistedChannel('#new'), undefined, 'a default channel holds nothing to keep');
    },
  },
  {
    name: 'a logged-in user creates a channel: +o and the persisted founder',
    setup: (s) => { s.h.user('Visitor', { account: DID.visitor }); },
    run: (s) => s.h.join(s.h.world.findUser('Visitor')!, '#new'), events: ['join'],
    check: (s) => { assert.equal(s.h.channel('#new').founder, DID.visitor); assert.equal(s.h.persistedChannel('#new')?.founder, DID.visitor); },
  },
  {
    name: 'max-channels-total reached: a guest cannot create → 405', opts: { limits: { maxChannelsTotal: 1 } },
    run: (s) => s.h.join(s.u.outsider, '#new'), refused: N.ERR_TOOMANYCHANNELS, params: () => ['#new'],
  },
  {
    name: 'max-channels-total reached: a server operator still creates', opts: { limits: { maxChannelsTotal: 1 } },
    run: (s) => s.h.join(s.u.oper, '#new'), events: ['join'],
  },
  {
    name: 'max-channels-total reached: joining an existing channel is fine', opts: { limits: { maxChannelsTotal: 1 } },
    run: (s) => s.h.join(s.u.outsider, '#c'), events: ['join'],
  },
  {
    name: 'max-channels-per-account: a DID at its cap cannot found another → 405', opts: { limits: { maxChannelsPerAccount: 1 } },
    run: (s) => s.h.join(s.u.founder, '#second'), refused: N.ERR_TOOMANYCHANNELS,
  },
  {
    name: 'max-channels-per-account does not stop a guest', opts: { limits: { maxChannelsPerAccount: 1 } },
    run: (s) => s.h.join(s.u.member, '#second'), events: ['join'],
  },
  {
    name: 'an empty kept channel without founder or DID ops is re-founded by its first joiner (+o)',
    opts: { limits: { channelExpiry: 60_000 } },
    setup: (s) => { const a = s.h.user('Alice'); s.h.join(a, '#x'); s.h.topic(a, '#x', 'kept'); s.h.part(a, '#x'); },
    run: (s) => s.h.join(s.u.outsider, '#x'), events: ['join', 'channel-mode'],
    check: (s) => { assert.equal(s.h.memberModes('#x', s.u.outsider), 'o'); assert.equal(s.h.persistedChannel('#x')?.emptySince, undefined); },
  },
  {
    name: 'an empty founded channel is not re-founded by a guest (no +o)',
    setup: (s) => { const v = s.h.user('Visitor', { account: DID.visitor }); s.h.join(v, '#x'); s.h.part(v, '#x'); },
    run: (s) => s.h.join(s.u.outsider, '#x'), events: ['join'],
    check: (s) => { assert.equal(s.h.memberModes('#x', s.u.outsider), ''); assert.equal(s.h.channel('#x').founder, DID.visitor); },
  },
  {
    name: 'an empty channel with a DID op is not re-founded by a guest; the DID op gets +o back',
    opts: { limits: { channelExpiry: 60_000 } },
    setup: (s) => {
      const a = s.h.user('Alice');
      s.h.join(a, '#x');
      s.h.join(s.u.didop, '#x');
      ok(s.h.mode(a, '#x', '+o', 'Didop'));
      s.h.part(a, '#x');
      s.h.part(s.u.didop, '#x');
      s.h.join(s.u.outsider, '#x');
    },
    run: (s) => s.h.join(s.u.didop, '#x'), events: ['join', 'channel-mode'],
    check: (s) => { assert.equal(s.h.memberModes('#x', s.u.outsider), ''); assert.equal(s.h.memberModes('#x', s.u.didop), 'o'); },
  },
]);

// ---- PART ------------------------------------------------------------------------------------

cases('part: actor', ROLES.map((r): Case => (isMember(r)
  ? {
    name: `${ROLE_TEXT[r]} parts → allowed`, run: (s) => s.h.part(s.u[r], '#c', 'bye'), events: ['part'],
    check: (s) => { assert.equal(s.h.memberModes('#c', s.u[r]), undefined); assert.equal(s.u[r].channels.size, 0); },
  }
  : { name: `${ROLE_TEXT[r]} parts → 442`, run: (s) => s.h.part(s.u[r], '#c'), refused: N.ERR_NOTONCHANNEL, params: () => ['#c'] })));

cases('part: the last member', [
  {
    name: 'the last member leaves a default channel → dropped at once',
    setup: (s) => s.h.join(s.u.outsider, '#x'),
    run: (s) => s.h.part(s.u.outsider, '#x'), events: ['part', 'channel-dropped'],
    check: (s) => assert.equal(s.h.hasChannel('#x'), false),
  },
  {
    name: 'the last member leaves a channel with a topic (channel-expiry 0) → dropped, row deleted',
    setup: (s) => { s.h.join(s.u.outsider, '#x'); s.h.topic(s.u.outsider, '#x', 'hi'); },
    run: (s) => s.h.part(s.u.outsider, '#x'), events: ['part', 'channel-dropped'],
    check: (s) => { assert.equal(s.h.hasChannel('#x'), false); assert.equal(s.h.persistedChannel('#x'), undefined); },
  },
  {
    name: 'the last member leaves a channel with a topic (channel-expiry > 0) → kept, emptySince persisted',
    opts: { limits: { channelExpiry: 60_000 } },
    setup: (s) => { s.h.join(s.u.outsider, '#x'); s.h.topic(s.u.outsider, '#x', 'hi'); },
    run: (s) => s.h.part(s.u.outsider, '#x'), events: ['part'],
    check: (s) => assert.equal(s.h.persistedChannel('#x')?.emptySince, s.h.clock.now()),
  },
  {
    name: 'the founder leaves its channel last (founded-channel-expiry 0) → kept for good',
    setup: (s) => { for (const r of ROLES) if (r !== 'founder' && isMember(r)) s.h.part(s.u[r], '#c'); },
    run: (s) => s.h.part(s.u.founder, '#c'), events: ['part'],
    check: (s) => { assert.equal(s.h.channel('#c').members.size, 0); assert.equal(s.h.persistedChannel('#c')?.founder, DID.founder); },
  },
]);

// ---- NICK ------------------------------------------------------------------------------------

cases('nick', [
  {
    name: 'a free nick → allowed (NICK to the neighbours, WHOWAS kept)', run: (s) => s.h.nick(s.u.member, 'Newbie'), events: ['nick'],
    check: (s) => {
      assert.equal(s.h.world.findUser('newbie'), s.u.member);
      assert.equal(s.h.world.findUser('Member'), undefined);
      const ev = s.h.events[0];
      assert.ok(ev?.kind === 'nick');
      assert.equal(ev.audience.size, 6);
      assert.equal(s.h.world.whowas.at(-1)?.nick, 'Member');
    },
  },
  { name: 'a nick in use → 433', run: (s) => s.h.nick(s.u.member, 'voiced'), refused: N.ERR_NICKNAMEINUSE, params: () => ['voiced'] },
  {
    name: 'a nick held by a user still registering → 433', setup: (s) => { s.h.user('Pending', { registered: false }); },
    run: (s) => s.h.nick(s.u.member, 'PENDING'), refused: N.ERR_NICKNAMEINUSE,
  },
  {
    name: 'a case change of one\'s own nick → allowed', run: (s) => s.h.nick(s.u.member, 'MEMBER'), events: ['nick'],
    check: (s) => assert.equal(s.u.member.nick, 'MEMBER'),
  },
  { name: 'the same nick → no-op', run: (s) => s.h.nick(s.u.member, 'Member'), unchanged: true },
  {
    name: 'a registered guest takes a nick another DID owns → 433',
    setup: (s) => { const v = s.h.user('Owned', { account: DID.visitor }); s.h.quit(v); },
    run: (s) => s.h.nick(s.u.member, 'owned'), refused: N.ERR_NICKNAMEINUSE, params: () => ['owned'],
  },
  {
    name: 'a logged-in user takes a nick another DID owns → 433',
    setup: (s) => { const v = s.h.user('Owned', { account: DID.visitor }); s.h.quit(v); },
    run: (s) => s.h.nick(s.u.account, 'Owned'), refused: N.ERR_NICKNAMEINUSE,
  },
  {
    name: 'a second connection of the owning DID takes the owned nick → allowed',
    setup: (s) => {
      const first = s.h.user('Owned', { account: DID.visitor });
      s.h.user('Second', { account: DID.visitor }); // the binding stays with the nick the first connection uses
      s.h.quit(first);
    },
    run: (s) => s.h.nick(s.h.world.findUser('Second')!, 'Owned'), events: ['nick', 'nick-owner'],
    check: (s) => { assert.equal(s.h.world.nickOwners.get('owned'), DID.visitor); assert.equal(s.h.world.findUser('Owned')?.account, DID.visitor); },
  },
  {
    name: 'a logged-in user changing nick moves its nick ownership (persisted)', run: (s) => s.h.nick(s.u.account, 'Renamed'), events: ['nick', 'nick-owner'],
    check: (s) => {
      assert.equal(s.h.world.nickOwners.get('renamed'), DID.account);
      assert.equal(s.h.world.nickOwners.has('account'), false);
      assert.equal(s.h.persistedAccount(DID.account)?.nick, 'Renamed');
    },
  },
  {
    name: 'a guest changing nick binds nothing', run: (s) => s.h.nick(s.u.member, 'Renamed'), events: ['nick'],
    check: (s) => assert.equal(s.h.world.nickOwners.has('renamed'), false),
  },
  {
    name: 'a user still registering may take an owned nick (settled at registration) → no event',
    setup: (s) => { const v = s.h.user('Owned', { account: DID.visitor }); s.h.quit(v); s.h.user('Pending', { registered: false }); },
    run: (s) => s.h.nick(s.h.world.nicks.get('pending')!, 'Owned'), events: [],
    check: (s) => assert.equal(s.h.world.nicks.get('owned')?.nick, 'Owned'),
  },
]);

// ---- registration and login: nick ownership ------------------------------------------------------

cases('registration and login', [
  {
    name: 'a guest registering on an owned nick becomes Guest<n>',
    setup: (s) => { const v = s.h.user('Owned', { account: DID.visitor }); s.h.quit(v); s.h.user('Owned', { registered: false }); },
    run: (s) => s.h.register(s.h.world.nicks.get('owned')!), events: ['register'],
    check: (s, notices) => {
      assert.equal(s.h.world.findUser('Guest10000')?.registered, true);
      assert.match((notices as string[])[0] ?? '', /^Nick Owned is registered to another identity; you are now Guest10000\./);
    },
  },
  {
    name: 'the owner logging in (registered) under another nick while its nick is free: ownership moves to the current nick',
    setup: (s) => { const v = s.h.user('Owned', { account: DID.visitor }); s.h.quit(v); },
    run: (s) => { const o = s.h.user('Claimer'); s.h.clearEvents(); s.h.login(o, DID.visitor); return o; },
    events: ['account', 'chghost', 'nick-owner'],
    check: (s, o) => {
      assert.equal((o as User).nick, 'Claimer');
      assert.equal(s.h.world.nickOwners.get('claimer'), DID.visitor);
      assert.equal(s.h.world.nickOwners.has('owned'), false);
      assert.equal(s.h.persistedAccount(DID.visitor)?.nick, 'Claimer');
    },
  },
  {
    name: 'the owner logging in takes its nick back from the guest holding it',
    setup: (s) => {
      const v = s.h.user('Owned', { account: DID.visitor });
      s.h.quit(v);
      s.h.user('Squatter', { registered: false });
      s.h.nick(s.h.world.nicks.get('squatter')!, 'Owned');
    },
    run: (s) => { const sq = s.h.world.nicks.get('owned')!; const o = s.h.user('Claimer', { registered: false }); s.h.login(o, DID.visitor); s.h.clearEvents(); s.h.register(o); return sq; },
    events: ['server-notice', 'register'],
    check: (s, sq) => { assert.equal((sq as User).nick, 'Guest10000'); assert.equal(s.h.world.findUser('Owned')?.account, DID.visitor); },
  },
  {
    name: 'a registered guest logging in binds its current nick (persisted)',
    run: (s) => s.h.login(s.u.member, DID.other, 'member.example'), events: ['account', 'chghost', 'nick-owner'],
    check: (s) => {
      assert.equal(s.u.member.host, s.h.cloaks.did(DID.other));
      assert.equal(s.h.world.nickOwners.get('member'), DID.other);
      assert.deepEqual(s.h.persistedAccount(DID.other), {
        did: DID.other, nick: 'Member', handle: 'member.example', lastLoginAt: s.h.clock.now(),
        // the claim's stamp: this server's clock (state/nick-claims.ts)
        nickClaimed: s.h.world.accountNicks.get(DID.other)?.claimed,
      });
      assert.match(s.h.world.accountNicks.get(DID.other)!.claimed, new RegExp(`^${s.h.clock.now()}\\.\\d{6}$`));
    },
  },
  {
    name: 'logging in again as the same DID only updates the handle', run: (s) => s.h.login(s.u.account, DID.account, 'new.example'), events: [],
    check: (s) => assert.equal(s.h.persistedAccount(DID.account)?.handle, 'new.example'),
  },
  {
    name: 'an --oper-dids DID logging in becomes a server operator (admin)', opts: { limits: { operDids: [DID.other] } },
    run: (s) => s.h.login(s.u.member, DID.other), events: ['account', 'chghost', 'nick-owner', 'user-mode'],
    check: (s) => { assert.equal(s.u.member.isOper, true); assert.equal(s.u.member.operClass, 'admin'); assert.equal(s.h.world.operCount, 3); },
  },
  {
    name: 'the founder logging in on a new connection is recognised as founder (bypasses +i)',
    setup: (s) => { ok(s.h.mode(s.u.chanop, '#c', '+i')); s.h.quit(s.u.founder); },
    run: (s) => { const f = s.h.user('Founder2'); s.h.login(f, DID.founder); s.h.clearEvents(); s.h.join(f, '#c'); return f; },
    events: ['join', 'channel-mode'],
    check: (s, f) => assert.equal(s.h.memberModes('#c', f as User), 'o'),
  },
]);

// ---- user modes and operators ------------------------------------------------------------------

cases('user modes', [
  {
    name: '+i → allowed (invisible count)', run: (s) => s.h.userMode(s.u.member, '+i'), events: ['user-mode'],
    check: (s) => { assert.equal(s.u.member.modes.has('i'), true); assert.equal(s.h.world.invisibleCount, 1); },
  },
  { name: '+i when already +i → no-op', setup: (s) => { s.h.userMode(s.u.member, '+i'); }, run: (s) => s.h.userMode(s.u.member, '+i'), unchanged: true },
  { name: '+o by oneself → ignored', run: (s) => s.h.userMode(s.u.member, '+o'), unchanged: true, check: (_s, res) => assert.deepEqual(res, []) },
  {
    name: '-o by a server operator drops operator status', run: (s) => s.h.userMode(s.u.oper, '-o'), events: ['user-mode'],
    check: (s) => { assert.equal(s.u.oper.isOper, false); assert.equal(s.u.oper.operClass, undefined); assert.equal(s.h.world.operCount, 1); },
  },
  { name: '+wB → allowed', run: (s) => s.h.userMode(s.u.member, '+wB'), events: ['user-mode'], check: (s) => assert.equal(s.u.member.isBot, true) },
  {
    name: 'OPER grants +o once', run: (s) => s.h.oper(s.u.member, 'm', 'moderator'), events: ['user-mode'],
    check: (s) => { assert.equal(s.u.member.operClass, 'moderator'); assert.equal(s.h.world.operCount, 3); },
  },
  {
    name: 'OPER again changes the class without a mode event', run: (s) => s.h.oper(s.u.oper, 'x', 'moderator'), events: [],
    check: (s) => { assert.equal(s.u.oper.operClass, 'moderator'); assert.equal(s.h.world.operCount, 2); },
  },
]);

// ---- the ban part of the send check (cannotSend: +b unless +e; the whole check: 'message' below) ---

cases('isBanned (what PRIVMSG checks)', [
  { name: 'no bans → not banned', run: (s) => s.h.isBanned('#c', s.u.member), check: (_s, r) => assert.equal(r, false) },
  {
    name: 'a nick ban → banned', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', 'Member!*@*')),
    run: (s) => s.h.isBanned('#c', s.u.member), check: (_s, r) => assert.equal(r, true),
  },
  {
    name: 'a nick ban with a matching +e → not banned', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+be', 'Member!*@*', '*!member@*')),
    run: (s) => s.h.isBanned('#c', s.u.member), check: (_s, r) => assert.equal(r, false),
  },
  {
    name: 'a ban does not spare a voiced member (voice is checked by the caller)', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', 'Voiced!*@*')),
    run: (s) => s.h.isBanned('#c', s.u.voiced), check: (_s, r) => assert.equal(r, true),
  },
  {
    name: 'a ban matching a new nick after NICK → banned', setup: (s) => { ok(s.h.mode(s.u.founder, '#c', '+b', 'Troll!*@*')); s.h.nick(s.u.member, 'Troll'); },
    run: (s) => s.h.isBanned('#c', s.u.member), check: (_s, r) => assert.equal(r, true),
  },
  {
    name: 'a DID ban matches a logged-in member whatever its nick', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', DID.account)),
    run: (s) => s.h.isBanned('#c', s.u.account), check: (_s, r) => assert.equal(r, true),
  },
  {
    name: 'an IPv4 glob ban matches the real address', setup: (s) => ok(s.h.mode(s.u.founder, '#c', '+b', '*!*@192.0.2.*')),
    run: (s) => s.h.isBanned('#c', s.u.member), check: (_s, r) => assert.equal(r, true),
  },
]);

// ---- away, realname, host, quit --------------------------------------------------------------------

cases('away, setname, chghost, quit', [
  { name: 'AWAY with text → away event', run: (s) => s.h.away(s.u.member, 'brb'), events: ['away'], check: (s) => assert.equal(s.u.member.away, 'brb') },
  { name: 'AWAY with the same text → no-op', setup: (s) => s.h.away(s.u.member, 'brb'), run: (s) => s.h.away(s.u.member, 'brb'), unchanged: true },
  { name: 'AWAY without text clears it', setup: (s) => s.h.away(s.u.member, 'brb'), run: (s) => s.h.away(s.u.member, undefined), events: ['away'] },
  { name: 'SETNAME → setname event', run: (s) => s.h.setname(s.u.member, 'Real Name'), events: ['setname'], check: (s) => assert.equal(s.u.member.realname, 'Real Name') },
  { name: 'a host change → chghost event', run: (s) => s.h.chghost(s.u.member, 'm', 'vhost.example'), events: ['chghost'], check: (s) => assert.equal(s.u.member.mask, 'Member!m@vhost.example') },
  { name: 'the same host → no-op', run: (s) => s.h.chghost(s.u.member, s.u.member.username, s.u.member.host), unchanged: true },
  {
    name: 'QUIT leaves every channel (audience: the neighbours), WHOWAS kept', run: (s) => s.h.quit(s.u.member, 'gone'), events: ['quit'],
    check: (s) => {
      assert.equal(s.h.memberModes('#c', s.u.member), undefined);
      assert.equal(s.h.world.findUser('Member'), undefined);
      assert.equal(s.h.world.registeredCount, 8);
      const ev = s.h.events[0];
      assert.ok(ev?.kind === 'quit');
      assert.equal(ev.audience.size, 6);
    },
  },
  {
    name: 'QUIT of the last member of a default channel: the QUIT event, then the channel is dropped',
    setup: (s) => s.h.join(s.u.outsider, '#x'), run: (s) => s.h.quit(s.u.outsider), events: ['quit', 'channel-dropped'],
    check: (s) => assert.equal(s.h.hasChannel('#x'), false),
  },
  {
    name: 'a server operator quitting lowers the operator count', run: (s) => s.h.quit(s.u.oper), events: ['quit'],
    check: (s) => assert.equal(s.h.world.operCount, 1),
  },
  { name: 'a second QUIT of the same user → no-op', setup: (s) => s.h.quit(s.u.member), run: (s) => s.h.quit(s.u.member), unchanged: true },
]);

// ---- messages (Ops.message: +n, +m, +b/+e, hidden channels) ----------------------------------------

type MsgCond = 'default' | '-n' | 'm' | 'b' | 'b-n' | 'be' | 's';
const MSG_COND_TEXT: Record<MsgCond, string> = {
  default: '+nt', '-n': '-n', m: '+m', b: '+b *!*@*', 'b-n': '-n +b *!*@*', be: '+b *!*@* +e *!*@*', s: '+s',
};
const MSG_COND_MODES: Record<MsgCond, [string, ...string[]] | undefined> = {
  default: undefined, '-n': ['-n'], m: ['+m'], b: ['+b', '*!*@*'], 'b-n': ['-n+b', '*!*@*'], be: ['+be', '*!*@*', '*!*@*'], s: ['+s'],
};
/** voice or op: +m and bans do not stop them */
const privileged = (r: Role): boolean => isChanOp(r) || r === 'voiced';

function messageCase(by: Role, cond: MsgCond): Case {
  const name = `${ROLE_TEXT[by]} sends PRIVMSG to a ${MSG_COND_TEXT[cond]} channel`;
  const modes = MSG_COND_MODES[cond];
  const setup = modes ? (s: Scene) => ok(s.h.mode(s.u.chanop, '#c', ...modes)) : undefined;
  const run = (s: Scene) => s.h.message(s.u[by], '#c', 'hello');
  const external = cond !== '-n' && cond !== 'b-n';
  const banned = (cond === 'b' || cond === 'b-n') && !privileged(by);
  let why: string | undefined;
  if (!isMember(by) && external) why = 'no external messages';
  else if (cond === 'm' && !privileged(by)) why = '+m';
  else if (banned) why = 'you are banned';
  if (why !== undefined && cond === 's' && !isMember(by)) {
    return { name: `${name} → 403 (a hidden channel refuses as a missing one)`, setup, run, refused: N.ERR_NOSUCHCHANNEL, params: () => ['#c'] };
  }
  if (why !== undefined) {
    return {
      name: `${name} → 404 (${why})`, setup, run, refused: N.ERR_CANNOTSENDTOCHAN, params: () => ['#c'], text: new RegExp(`^Cannot send to channel \\(${why.replace('+', '\\+')}\\)$`),
    };
  }
  return {
    name: `${name} → allowed`, setup, run, events: ['message'],
    check: (s, ev) => {
      const m = ev as { kind: string; from: User; channel?: { name: string }; text?: string; msgid: string; stored: boolean };
      assert.equal(m.from, s.u[by]);
      assert.equal(m.channel?.name, '#c');
      assert.equal(m.text, 'hello');
      assert.equal(m.stored, true);
      assert.deepEqual(s.h.recorded.map((r) => [r.msgid, r.venue, r.source, r.text]), [[m.msgid, 'chan:#c', s.u[by].mask, 'hello']]);
    },
  };
}

const MSG_CONDS: readonly MsgCond[] = ['default', '-n', 'm', 'b', 'b-n', 'be', 's'];
cases('message: sender × channel mode', ROLES.flatMap((by) => MSG_CONDS.map((c) => messageCase(by, c))));

cases('message: more', [
  {
    name: 'a member banned by DID cannot send, and can after -b', setup: (s) => ok(s.h.mode(s.u.chanop, '#c', '+b', DID.account)),
    run: (s) => {
      const first = s.h.refusal(() => s.h.message(s.u.account, '#c', 'hi'));
      ok(s.h.mode(s.u.chanop, '#c', '-b', DID.account));
      s.h.clearEvents();
      s.h.message(s.u.account, '#c', 'hi');
      return first;
    },
    events: ['message'], check: (_s, r) => assert.equal((r as { code: string }).code, N.ERR_CANNOTSENDTOCHAN),
  },
  { name: 'to a channel that does not exist → 403', run: (s) => s.h.message(s.u.member, '#nowhere', 'hi'), refused: N.ERR_NOSUCHCHANNEL, params: () => ['#nowhere'] },
  { name: 'to a nick that does not exist → 401', run: (s) => s.h.message(s.u.member, 'Nobody', 'hi'), refused: N.ERR_NOSUCHNICK, params: () => ['Nobody'] },
  {
    name: 'to a user still registering → 401', setup: (s) => { s.h.user('Pending', { registered: false }); },
    run: (s) => s.h.message(s.u.member, 'Pending', 'hi'), refused: N.ERR_NOSUCHNICK,
  },
  {
    name: 'a DM between two guests → allowed, not kept in history', run: (s) => s.h.message(s.u.member, 'Outsider', 'hi'), events: ['message'],
    check: (s, ev) => { assert.equal((ev as { to?: User }).to, s.u.outsider); assert.deepEqual(s.h.recorded, []); },
  },
  {
    name: 'a DM between two accounts → allowed, kept in the DM venue', run: (s) => s.h.message(s.u.account, 'Founder', 'hi'), events: ['message'],
    check: (s) => assert.equal(s.h.recorded[0]?.venue, `dm:${[DID.account, DID.founder].sort().join(',')}`),
  },
  {
    name: 'a DM is not stopped by a ban in a shared channel', setup: (s) => ok(s.h.mode(s.u.chanop, '#c', '+bm', '*!*@*')),
    run: (s) => s.h.message(s.u.member, 'Account', 'hi'), events: ['message'],
  },
  {
    name: 'STATUSMSG @#c from a voiced member → allowed, for ops only, not kept', run: (s) => s.h.message(s.u.voiced, '@#c', 'ops!'), events: ['message'],
    check: (s, ev) => { assert.equal((ev as { minRank?: string }).minRank, 'o'); assert.deepEqual(s.h.recorded, []); },
  },
  {
    name: 'STATUSMSG +#c from a non-member → 404 (+n)', run: (s) => s.h.message(s.u.outsider, '+#c', 'hi'), refused: N.ERR_CANNOTSENDTOCHAN,
  },
  { name: 'NOTICE is checked the same (+n) → 404', run: (s) => s.h.message(s.u.outsider, '#c', 'hi', 'NOTICE'), refused: N.ERR_CANNOTSENDTOCHAN },
  {
    name: 'TAGMSG is checked the same (+m) → 404', setup: (s) => ok(s.h.mode(s.u.chanop, '#c', '+m')),
    run: (s) => s.h.message(s.u.member, '#c', undefined, 'TAGMSG'), refused: N.ERR_CANNOTSENDTOCHAN,
  },
  {
    name: 'a plugin suppresses the message → no event, nothing kept', setup: (s) => { s.h.plugin = () => ({ action: 'suppress' }); },
    run: (s) => s.h.message(s.u.member, '#c', 'spam'), unchanged: true, check: (_s, ev) => assert.equal(ev, undefined),
  },
  {
    name: 'a plugin rewrites the text → the rewritten text is sent and kept', setup: (s) => { s.h.plugin = (t) => ({ action: 'rewrite', text: t.toUpperCase() }); },
    run: (s) => s.h.message(s.u.member, '#c', 'quiet'), events: ['message'],
    check: (s, ev) => { assert.equal((ev as { text?: string }).text, 'QUIET'); assert.equal(s.h.recorded[0]?.text, 'QUIET'); },
  },
  {
    name: 'plugins are asked only after the channel checks: a message refused on +m gets its 404 and no plugin sees it',
    setup: (s) => { ok(s.h.mode(s.u.chanop, '#c', '+m')); s.h.plugin = () => { throw new Error('a plugin saw a refused message'); }; },
    run: (s) => s.h.message(s.u.member, '#c', 'hi'), refused: N.ERR_CANNOTSENDTOCHAN,
  },
  {
    name: 'a text too long to relay in 512 bytes → 417', run: (s) => s.h.message(s.u.member, '#c', 'x'.repeat(500)), refused: N.ERR_INPUTTOOLONG,
  },
]);

// ---- remote users (introduced by a peer) act through the same checks ---------------------------------

cases('remote users', [
  {
    name: 'a remote guest joins #c → allowed (a plain member)', setup: (s) => { s.h.remoteUser('Far'); },
    run: (s) => s.h.join(s.h.world.findUser('Far')!, '#c'), events: ['join'], check: (s) => assert.equal(s.h.memberModes('#c', s.h.world.findUser('Far')!), ''),
  },
  {
    name: 'a remote member kicks → 482', setup: (s) => { const f = s.h.remoteUser('Far').user; s.h.join(f, '#c'); },
    run: (s) => s.h.kick(s.h.world.findUser('Far')!, '#c', s.u.member), refused: N.ERR_CHANOPRIVSNEEDED,
  },
  {
    name: 'a remote non-member sets the topic → 442', setup: (s) => { s.h.remoteUser('Far'); },
    run: (s) => s.h.topic(s.h.world.findUser('Far')!, '#c', 'x'), refused: N.ERR_NOTONCHANNEL,
  },
  {
    name: 'a remote chanop kicks a member → allowed',
    setup: (s) => { const f = s.h.remoteUser('Far').user; s.h.join(f, '#c'); ok(s.h.mode(s.u.founder, '#c', '+o', 'Far')); },
    run: (s) => s.h.kick(s.h.world.findUser('Far')!, '#c', s.u.member), events: ['kick'],
  },
  {
    name: 'a remote chanop kicks the founder → 484',
    setup: (s) => { const f = s.h.remoteUser('Far').user; s.h.join(f, '#c'); ok(s.h.mode(s.u.founder, '#c', '+o', 'Far')); },
    run: (s) => s.h.kick(s.h.world.findUser('Far')!, '#c', s.u.founder), refused: N.ERR_ISCHANSERVICE,
  },
  {
    name: 'a remote DID op (opped while logged in) gets +o on rejoin',
    setup: (s) => {
      const f = s.h.remoteUser('Far', { account: DID.visitor }).user;
      s.h.join(f, '#c');
      ok(s.h.mode(s.u.founder, '#c', '+o', 'Far'));
      s.h.part(f, '#c');
    },
    run: (s) => s.h.join(s.h.world.findUser('Far')!, '#c'), events: ['join', 'channel-mode'],
  },
  {
    name: 'a remote user joins +i → 473', setup: (s) => { s.h.remoteUser('Far'); ok(s.h.mode(s.u.founder, '#c', '+i')); },
    run: (s) => s.h.join(s.h.world.findUser('Far')!, '#c'), refused: N.ERR_INVITEONLYCHAN,
  },
  {
    name: 'a remote user banned by host → 474', setup: (s) => { s.h.remoteUser('Far'); ok(s.h.mode(s.u.founder, '#c', '+b', '*!*@remote.example')); },
    run: (s) => s.h.join(s.h.world.findUser('Far')!, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'a remote user banned by DID → 474',
    setup: (s) => { s.h.remoteUser('Far', { account: DID.visitor }); ok(s.h.mode(s.u.founder, '#c', '+b', DID.visitor)); },
    run: (s) => s.h.join(s.h.world.findUser('Far')!, '#c'), refused: N.ERR_BANNEDFROMCHAN,
  },
  {
    name: 'an IP ban never matches a remote user (no address known)', setup: (s) => { s.h.remoteUser('Far'); ok(s.h.mode(s.u.founder, '#c', '+b', '*!*@*.*.*.*')); },
    run: (s) => s.h.join(s.h.world.findUser('Far')!, '#c'), events: ['join'],
  },
  {
    name: 'a remote server operator is not a channel operator → 482', setup: (s) => { const f = s.h.remoteUser('Far', { oper: true }).user; s.h.join(f, '#c'); },
    run: (s) => s.h.mode(s.h.world.findUser('Far')!, '#c', '+m'), refused: N.ERR_CHANOPRIVSNEEDED,
  },
  {
    name: 'a local chanop invites a remote user; the remote user then joins +i',
    setup: (s) => { s.h.remoteUser('Far'); ok(s.h.mode(s.u.founder, '#c', '+i')); s.h.invite(s.u.chanop, s.h.world.findUser('Far')!, '#c'); },
    run: (s) => s.h.join(s.h.world.findUser('Far')!, '#c'), events: ['join'],
  },
  {
    name: 'a remote member on a +m channel cannot send → 404', setup: (s) => { const f = s.h.remoteUser('Far').user; s.h.join(f, '#c'); ok(s.h.mode(s.u.founder, '#c', '+m')); },
    run: (s) => s.h.message(s.h.world.findUser('Far')!, '#c', 'hi'), refused: N.ERR_CANNOTSENDTOCHAN,
  },
  {
    name: 'a remote user introduced on a nick held here by a later local guest: the local guest is renamed (earlier registration wins)',
    setup: (s) => { s.h.clock.t += 1000; s.h.user('Dup'); },
    run: (s) => s.h.remoteUser('Dup', { signonAt: s.h.clock.now() - 500 }), events: ['nick', 'server-notice', 'register'],
    check: (s, r) => {
      const { user, loser } = r as { user: User; loser: User | undefined };
      assert.equal(s.h.world.findUser('Dup'), user);
      assert.equal(loser?.nick, 'Guest10000');
    },
  },
  {
    name: 'a remote guest introduced on a nick the local DID owner holds: the remote user comes in as Guest<n>',
    setup: (s) => { s.h.user('Dup', { account: DID.visitor }); },
    run: (s) => s.h.remoteUser('Dup', { signonAt: 0 }), events: ['register'],
    check: (s, r) => {
      const { user, loser } = r as { user: User; loser: User | undefined };
      assert.equal(loser, user);
      assert.equal(user.nick, 'Guest10000');
      assert.equal(s.h.world.findUser('Dup')?.account, DID.visitor);
    },
  },
  {
    name: 'a remote nick change onto a local nick is settled by the rule, never refused with 433',
    setup: (s) => { s.h.remoteUser('Far', { signonAt: 0 }); },
    run: (s) => s.h.nick(s.h.world.findUser('Far')!, 'Member'), events: ['nick', 'server-notice', 'nick'],
    check: (s) => { assert.equal(s.h.world.findUser('Member')?.origin, 'PEER0001'); assert.equal(s.u.member.nick, 'Guest10000'); },
  },
]);

// ---- server and operator actors (#13: a server on its own authority, an admin API key) ----------------

const SERVER_ACTOR = { kind: 'server', name: 'irc.test' } as const;
const API_ACTOR = { kind: 'operator', name: 'sha256:0123456789ab' } as const;

cases('server and operator actors', [SERVER_ACTOR, API_ACTOR].flatMap((actor): Case[] => [
  {
    name: `${actor.kind}: kicks a member without being on the channel → allowed, the KICK names it`,
    run: (s) => s.h.kick(actor, '#c', s.u.member), events: ['kick'],
    check: (s) => {
      const ev = s.h.events[0];
      assert.ok(ev?.kind === 'kick');
      assert.equal(ev.source, actor.name);
      assert.equal(s.h.channel('#c').members.has(s.u.member), false);
    },
  },
  {
    name: `${actor.kind}: kicks the founder → allowed (484 protects the founder from other users only)`,
    run: (s) => s.h.kick(actor, '#c', s.u.founder), events: ['kick'],
  },
  {
    name: `${actor.kind}: kicks someone not on the channel → 441`,
    run: (s) => s.h.kick(actor, '#c', s.u.outsider), refused: N.ERR_USERNOTINCHANNEL,
  },
  {
    name: `${actor.kind}: sets the topic of a +t channel without being on it → allowed, set by its name`,
    run: (s) => s.h.topic(actor, '#c', 'from above'), events: ['topic'],
    check: (s) => {
      assert.equal(s.h.channel('#c').topic?.setBy, actor.name);
      assert.equal(s.h.persistedChannel('#c')?.topic?.setBy, actor.name);
      assert.equal(s.h.channel('#c').stamps.topic?.origin.length, 64, 'stamped with this server as origin');
    },
  },
  {
    name: `${actor.kind}: +m+b on a channel it is not on → allowed, the ban set by its name`,
    run: (s) => s.h.mode(actor, '#c', '+mb', '*!*@bad.example'), events: ['channel-mode'],
    check: (s, res) => {
      assert.equal(applied(res), '+mb *!*@bad.example');
      assert.equal(s.h.channel('#c').lists.b.entries[0]?.setBy, actor.name);
      const ev = s.h.events[0];
      assert.ok(ev?.kind === 'channel-mode');
      assert.equal(ev.source, actor.name);
    },
  },
  {
    name: `${actor.kind}: -o on the founder → allowed (only users are held back by 484)`,
    run: (s) => s.h.mode(actor, '#c', '-o', 'Founder'), events: ['channel-mode'],
    check: (s) => assert.equal(s.h.memberModes('#c', s.u.founder), ''),
  },
  {
    name: `${actor.kind}: +o on a logged-in member grants a DID op recorded as given by the actor`,
    run: (s) => s.h.mode(actor, '#c', '+o', 'Account'), events: ['did-op', 'channel-mode'],
    check: (s) => assert.equal(s.h.channel('#c').didOps.get(DID.account)?.by, actor.name),
  },
  {
    name: `${actor.kind}: +o on a nick that does not exist → 401 for that change, nothing else`,
    run: (s) => s.h.mode(actor, '#c', '+o', 'Nobody'), modeErrors: [N.ERR_NOSUCHNICK], unchanged: true,
  },
]));
