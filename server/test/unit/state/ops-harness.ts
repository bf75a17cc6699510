// A real Ops for table-driven tests (ops-matrix.test.ts): real World, the real SQLite channel and
// account repositories on a temporary database file, real cloaks, a manual clock, and every emitted
// event collected. Test cases call Ops ONLY through the functions below (one per op), so when the
// Ops signatures change (actors, #13) only this file needs adapting.
import type { ActorLike } from '../../../src/state/actor.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplyError } from '../../../src/protocol/reply-error.js';
import type { Channel } from '../../../src/state/channel.js';
import { Cloaks, DEFAULT_DID_CLOAK, DEFAULT_GUEST_CLOAK } from '../../../src/state/cloak.js';
import type { MessageEvent, ModeChange, RelayCommand, StateEvent } from '../../../src/state/events.js';
import type { MessagePorts, MessageRecord } from '../../../src/state/message-ops.js';
import { foldCase } from '../../../src/protocol/casemap.js';
import { parseChannelModes, parseUserModes } from '../../../src/state/modes.js';
import { Ops, type OpsLimits } from '../../../src/state/ops.js';
import type { PersistedAccount, PersistedChannel } from '../../../src/state/store.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { World } from '../../../src/state/world.js';
import { openDb, type Db } from '../../../src/storage/db.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { SqliteAccountStore } from '../../../src/storage/repos/accounts.js';
import { SqliteChannelStore } from '../../../src/storage/repos/channels.js';

export type EventKind = StateEvent['kind'];

/** How a test user comes into the world (the order a session uses: host, nick, SASL, registration, OPER). */
export interface UserSpec {
  /** log in as this DID (SASL) before registration completes */
  account?: string;
  handle?: string;
  /** real address (default 192.0.2.<id>); bans may match it */
  ip?: string;
  /** default: the nick, lower-cased */
  username?: string;
  /** displayed host; default: the guest cloak of `ip` (the DID cloak after a login) */
  host?: string;
  /** server operator class, granted after registration */
  oper?: 'admin' | 'moderator';
  /** default true; false leaves the user between NICK and registration completion */
  registered?: boolean;
}

/** A user a peer introduces (#13: origin server, network-wide id; no real address). */
export interface RemoteUserSpec {
  /** the peer's id (default PEER0001) */
  origin?: string;
  account?: string;
  username?: string;
  host?: string;
  /** registration time, for the nick-collision rule (default: now) */
  signonAt?: number;
  oper?: boolean;
}

/** What a plugin's onMessage answers (the harness's message port). */
export type PluginVerdict = ReturnType<MessagePorts['onMessage']>;

/** A refusal thrown by an op, or a per-change refusal reported through changeChannelModes' onError. */
export interface Refusal { code: string; params: string[]; text: string }

export interface ModeResult { applied: ModeChange[]; errors: Refusal[] }

/** Everything observable (world and database), as plain data: equal snapshots = nothing changed. */
export interface Snapshot {
  users: unknown[];
  channels: unknown[];
  nicks: string[];
  nickOwners: Array<[string, string]>;
  accountNicks: Array<[string, string]>;
  counts: { registered: number; opers: number; invisible: number; whowas: number };
  persisted: { channels: PersistedChannel[]; accounts: PersistedAccount[] };
  /** messages offered to history */
  recorded: number;
}

export interface HarnessOptions {
  limits?: Partial<OpsLimits>;
  /** start time of the manual clock (ms) */
  now?: number;
}

const link: Recipient = { tagMask: 0, hasCap: () => false, deliver: () => {}, disconnect: () => {} };

export const DEFAULT_LIMITS: Omit<OpsLimits, 'cloaks'> = {
  maxListEntries: 10, whowasLen: 10, maxChannels: 5, operDids: [],
  maxChannelsTotal: 100, maxChannelsPerAccount: 10, channelExpiry: 0, foundedChannelExpiry: 0,
};

const sortBy = <T>(xs: T[], key: (x: T) => string): T[] => xs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

export class OpsHarness {
  readonly world = new World();
  readonly clock: { t: number; now(): number };
  /** every event Ops emitted, in order (cleared by `clearEvents`) */
  readonly events: StateEvent[] = [];
  readonly cloaks = new Cloaks(randomBytes(32), { guestCloak: DEFAULT_GUEST_CLOAK, didCloak: DEFAULT_DID_CLOAK });
  private readonly dir: string;
  private readonly db: Db;
  private readonly channelStore: SqliteChannelStore;
  private readonly accountStore: SqliteAccountStore;
  private readonly ops: Ops;
  private nextId = 0;
  private guestNumbers = 10000;
  /** what history was offered (the message port `record`) */
  readonly recorded: MessageRecord[] = [];
  /** the plugins' verdict on every PRIVMSG/NOTICE (default: allow) */
  plugin: (text: string) => PluginVerdict = () => ({ action: 'allow' });

  constructor(opts: HarnessOptions = {}) {
    const clock = { t: opts.now ?? 1_700_000_000_000, now(): number { return clock.t; } };
    this.clock = clock;
    this.dir = mkdtempSync(join(tmpdir(), 'freeq-ops-'));
    this.db = openDb(join(this.dir, 'freeq.db'));
    this.channelStore = new SqliteChannelStore(this.db, new FieldCipher(randomBytes(32)));
    this.accountStore = new SqliteAccountStore(this.db, (err) => { throw err; });
    this.ops = new Ops(this.world, this.channelStore, this.accountStore, (ev) => this.events.push(ev), {
      ...DEFAULT_LIMITS, cloaks: this.cloaks, ...opts.limits,
    }, clock, this.messagePorts());
    // deterministic Guest<digits> (the generator still probes for a free nick)
    this.ops.guestNumber = () => this.guestNumbers++;
    this.ops.restore();
  }

  private messagePorts(): MessagePorts {
    let msgids = 0;
    return {
      onMessage: (m) => this.plugin(m.text),
      newMsgid: () => `msg${++msgids}`,
      channelVenue: (name) => `chan:${foldCase(name)}`,
      dmVenue: (a, b) => `dm:${[a, b].sort().join(',')}`,
      sign: (m) => m.tags,
      record: (m) => { this.recorded.push(m); return true; },
      visibility: () => 0,
    };
  }

  close(): void {
    this.accountStore.flush();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- setup and reads -----------------------------------------------------------------------

  /** A connected user, brought in through Ops as a session would (events of the setup are kept). */
  user(nick: string, spec: UserSpec = {}): User {
    const id = ++this.nextId;
    const ip = spec.ip ?? `192.0.2.${id}`;
    const u = new User(id, ip, false, link, this.clock.now(), this.cloaks.guest(ip));
    this.ops.addUser(u);
    this.ops.setHost(u, spec.username ?? nick.toLowerCase(), spec.host ?? u.host);
    this.ops.setNick(u, nick);
    if (spec.account !== undefined) this.ops.login(u, { did: spec.account, handle: spec.handle });
    if (spec.host !== undefined) this.ops.setHost(u, u.username, spec.host);
    if (spec.registered !== false) this.register(u);
    if (spec.oper !== undefined) this.ops.grantOper(u, `oper-${nick}`, spec.oper);
    return u;
  }

  /** A registered user introduced by a peer (Ops.addRemoteUser); returns it and the collision loser, if any. */
  remoteUser(nick: string, spec: RemoteUserSpec = {}): { user: User; loser: User | undefined } {
    const id = ++this.nextId;
    const origin = spec.origin ?? 'PEER0001';
    // what a peer link builds from the introduction, before handing the user to Ops
    const u = new User(id, '', false, link, spec.signonAt ?? this.clock.now(), spec.host ?? 'remote.example');
    u.origin = origin;
    u.uid = `${origin}${String(id).padStart(6, '0')}`;
    u.nick = nick;
    u.nickFolded = foldCase(nick);
    u.username = spec.username ?? nick.toLowerCase();
    u.account = spec.account;
    if (spec.oper) u.modes.add('o');
    const loser = this.ops.addRemoteUser(u);
    return { user: u, loser };
  }

  channel(name: string): Channel {
    const ch = this.world.findChannel(name);
    if (!ch) throw new Error(`test setup: no channel ${name}`);
    return ch;
  }

  hasChannel(name: string): boolean {
    return this.world.findChannel(name) !== undefined;
  }

  /** the membership prefixes of `u` on `name` ('' plain member), or undefined when not a member */
  memberModes(name: string, u: User): string | undefined {
    return this.world.findChannel(name)?.members.get(u)?.modes;
  }

  eventKinds(): EventKind[] {
    return this.events.map((e) => e.kind);
  }

  clearEvents(): void {
    this.events.length = 0;
  }

  persistedChannel(name: string): PersistedChannel | undefined {
    const folded = this.world.findChannel(name)?.folded ?? name.toLowerCase();
    return this.channelStore.loadAll().find((p) => p.name.toLowerCase() === folded);
  }

  persistedAccount(did: string): PersistedAccount | undefined {
    return this.accountStore.loadAll().find((a) => a.did === did);
  }

  snapshot(): Snapshot {
    const w = this.world;
    const users = sortBy([...w.users.values()], (u) => String(u.id).padStart(6, '0')).map((u) => ({
      id: u.id, uid: u.uid, origin: u.origin, nick: u.nick, username: u.username, host: u.host, realname: u.realname, registered: u.registered,
      modes: [...u.modes].sort().join(''), operClass: u.operClass, account: u.account, handle: u.handle, away: u.away,
      channels: [...u.channels].map((c) => c.name).sort(), invitedTo: [...(u.invitedTo ?? [])].map((c) => c.name),
    }));
    const channels = sortBy([...w.channels.values()], (c) => c.folded).map((c) => ({
      name: c.name, createdAt: c.createdAt, topic: c.topic, modes: { ...c.modes }, founder: c.founder, emptySince: c.emptySince,
      lists: { b: [...c.lists.b.entries], e: [...c.lists.e.entries], I: [...c.lists.I.entries] },
      didOps: [...c.didOps], didInvites: [...c.didInvites],
      members: sortBy([...c.members].map(([u, m]) => [u.nick, m.modes] as const), (x) => x[0]),
    }));
    return {
      users, channels,
      nicks: [...w.nicks].map(([f, u]) => `${f}=${u.id}`).sort(),
      nickOwners: [...w.nickOwners].sort(),
      accountNicks: [...w.accountNicks].map(([d, n]) => [d, n.nick] as [string, string]).sort(),
      counts: { registered: w.registeredCount, opers: w.operCount, invisible: w.invisibleCount, whowas: w.whowas.length },
      persisted: {
        channels: sortBy(this.channelStore.loadAll(), (p) => p.name.toLowerCase()),
        accounts: sortBy(this.accountStore.loadAll(), (a) => a.did),
      },
      recorded: this.recorded.length,
    };
  }

  /** Run `fn`; the ReplyError it throws as a Refusal, undefined when it did not throw one. */
  refusal(fn: () => unknown): Refusal | undefined {
    try {
      fn();
      return undefined;
    } catch (e) {
      if (e instanceof ReplyError) return { code: e.code, params: e.params, text: e.text };
      throw e;
    }
  }

  // ---- the ops (one function per op; the only place that calls Ops) -------------------------------

  register(u: User): string[] {
    const notices = this.ops.completeRegistration(u);
    this.ops.applyAccountPrivileges(u);
    return notices;
  }

  join(u: User, name: string, key?: string): boolean {
    return this.ops.join(u, name, key);
  }

  part(u: User, name: string, reason?: string): void {
    this.ops.part(u, this.channel(name), reason);
  }

  kick(by: ActorLike, name: string, target: User, reason = 'bye'): void {
    this.ops.kick(by, this.channel(name), target, reason);
  }

  topic(by: ActorLike, name: string, text: string): void {
    this.ops.setTopic(by, this.channel(name), text);
  }

  invite(by: User, target: User, name: string): void {
    this.ops.invite(by, target, this.channel(name));
  }

  /** `MODE #c +o-v nick1 nick2`: parsed as the MODE command does, applied by Ops; per-change refusals collected. */
  mode(by: ActorLike, name: string, modestr: string, ...params: string[]): ModeResult {
    const parsed = parseChannelModes(modestr, params, 100);
    if (parsed.unknown.length || parsed.missingParam.length || parsed.listQueries.length) {
      throw new Error(`test setup: ${modestr} ${params.join(' ')} is not a plain mode change`);
    }
    const errors: Refusal[] = [];
    const applied = this.ops.changeChannelModes(by, this.channel(name), parsed.changes, (e) => errors.push({ code: e.code, params: e.params, text: e.text }));
    return { applied, errors };
  }

  nick(u: User, nick: string): void {
    this.ops.setNick(u, nick);
  }

  userMode(u: User, modestr: string): ModeChange[] {
    return this.ops.setUserModes(u, parseUserModes(modestr).changes);
  }

  login(u: User, did: string, handle?: string): void {
    this.ops.login(u, { did, handle });
  }

  oper(u: User, name: string, cls: 'admin' | 'moderator'): void {
    this.ops.grantOper(u, name, cls);
  }

  away(u: User, text: string | undefined): void {
    this.ops.setAway(u, text);
  }

  setname(u: User, realname: string): void {
    this.ops.setRealname(u, realname);
  }

  chghost(u: User, username: string, host: string): void {
    this.ops.setHost(u, username, host);
  }

  quit(u: User, reason = 'Quit'): void {
    this.ops.removeUser(u, reason);
  }

  /** the ban part of the send check (commands/messaging.ts cannotSend): +b matches and +e does not */
  isBanned(name: string, u: User): boolean {
    return this.ops.isBanned(this.channel(name), u);
  }

  /** PRIVMSG / NOTICE / TAGMSG to one target (Ops.message); undefined when a plugin suppressed it */
  message(from: User, target: string, text: string | undefined, command: RelayCommand = 'PRIVMSG'): MessageEvent | undefined {
    return this.ops.message(from, { command, target, text: command === 'TAGMSG' ? undefined : text });
  }

  expireChannels(now?: number): number {
    return this.ops.expireChannels(now);
  }
}

export function createOpsHarness(opts?: HarnessOptions): OpsHarness {
  return new OpsHarness(opts);
}
