import { randomInt } from 'node:crypto';
import { foldCase } from '../protocol/casemap.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { hasForbiddenChannelChars } from '../protocol/validate.js';
import { channelFromStore, type Channel } from './channel.js';
import { joinChannel, type RemoteJoin } from './join.js';
import { KnockOps, type KnockLimits } from './knock.js';
import { RedactOps, type RedactPorts } from './redact-ops.js';
import { applyChannelState, type ChannelStateDelta, type SyncAuthority } from './channel-sync.js';
import { ChannelLifecycle, type ChannelLifecycleLimits } from './channel-lifecycle.js';
import { HybridClock, type Stamp } from './hlc.js';
import { NickClaims } from './nick-claims.js';
import { collisionLoser, UserIds } from './ids.js';
import type { MaskSubject } from './mask-list.js';
import { MessageOps, type MessagePorts, type MessageRequest } from './message-ops.js';
import { applyChannelModes } from './channel-modes.js';
import { ServerBanOps, type ServerBanPort, type ServerBanRecord } from './server-ban-ops.js';
import type { Cloaks } from './cloak.js';
import type { EventSink, MessageEvent, ModeChange } from './events.js';
import type { AccountStore, ChannelStore } from './store.js';
import type { User } from './user.js';
import type { LockdownLevel, World } from './world.js';
import { actorSource, actorUser, toActor, type ActorLike } from './actor.js';
import { applyUserModes, grantOper } from './user-modes.js';

/** channel creation caps and expiry (#12 finding 8) come from ChannelLifecycleLimits */
export interface OpsLimits extends ChannelLifecycleLimits {
  maxListEntries: number;
  whowasLen: number;
  /** channels one user may be in (405) */
  maxChannels: number;
  /** DIDs that become server operators (admin class) when they log in (--oper-dids) */
  operDids: readonly string[];
  /** the hosts shown for guests and DID logins (state/cloak.ts, #12) */
  cloaks: Cloaks;
  /** the server-ban list (limits/server-bans.ts); without it the server-ban ops refuse */
  serverBans?: ServerBanPort;
  /** this server's peer id (keys/peer-key.ts): the prefix of its users' network-wide ids; tests may omit it */
  serverId?: string;
  /** knock-channel-rate per knock-rate-window (state/knock.ts); without it, no per-channel limit */
  knocks?: KnockLimits;
}

/** pending invites kept per user; the oldest is forgotten beyond this */
const MAX_PENDING_INVITES = 100;
/** pending DID invites kept per channel (persisted); the oldest is forgotten beyond this */
export const MAX_DID_INVITES = 500;

export interface Clock { now(): number }

/** the origin of changes when no server id is configured (unit tests) */
const LOCAL_ORIGIN = '0'.repeat(64);

/**
 * The one mutation path. Every change to users and channels — from a local command today, from a
 * federated peer later — goes through here: authorize, mutate, persist, emit. Refusals are thrown
 * as ReplyError so every caller answers with the same numeric.
 */
export class Ops {
  constructor(
    private readonly world: World,
    private readonly store: ChannelStore,
    private readonly accounts: AccountStore,
    private readonly emit: EventSink,
    private readonly limits: OpsLimits,
    private readonly clock: Clock,
    /** plugins, ids, signing and history for messages (server.ts); without them `message` refuses */
    messagePorts?: MessagePorts,
    /** history lookups and redact-window for REDACT (#16, server.ts); without them there is no `redactions` */
    redactPorts?: RedactPorts,
  ) {
    this.channels = new ChannelLifecycle(world, store, limits, clock, (channel, reason) => this.emit({ kind: 'channel-dropped', channel, reason }));
    this.ids = new UserIds(this.origin);
    this.hlc = new HybridClock(() => clock.now());
    this.nickClaims = new NickClaims(world, accounts, clock, this.hlc);
    this.messages = messagePorts && new MessageOps(world, emit, messagePorts, () => clock.now(), (ch, u) => this.isBanned(ch, u));
    this.knocks = new KnockOps(emit, (ch, u) => this.isBanned(ch, u), (u) => this.maskSubject(u), limits.knocks, () => clock.now());
    this.redactions = redactPorts && new RedactOps(world, emit, redactPorts, () => clock.now());
  }

  /** REDACT: who may redact what, and the `redact` event (state/redact-ops.ts), for the command and peers alike */
  readonly redactions?: RedactOps;

  /** KNOCK: who may knock where, and the `knock` event (state/knock.ts) */
  readonly knocks: KnockOps;

  private readonly messages?: MessageOps;
  /** nick ownership's bindings and their claim stamps */
  private readonly nickClaims: NickClaims;
  /** network-wide ids of this server's users (state/ids.ts) */
  private readonly ids: UserIds;
  /** the server's hybrid logical clock: the stamps of durable changes, and the event bus's (server.ts) */
  readonly hlc: HybridClock;

  /** this server's peer id: the origin of its changes */
  get origin(): string { return this.limits.serverId ?? LOCAL_ORIGIN; }

  /** set while a peer's change is applied (withStamp): its stamp is the origin's */
  private remoteStamp: Stamp | undefined;

  /** the stamp of a change made here now, or of the peer's change being applied */
  private stamp(): Stamp {
    return this.remoteStamp ?? { hlc: this.hlc.now(), origin: this.origin };
  }

  /**
   * Apply a peer's change (#14, federation/peers.ts) with the origin's stamp, so that every
   * server records the same stamp for the same change and last-writer-wins merges agree.
   */
  withStamp<T>(stamp: Stamp, fn: () => T): T {
    const prev = this.remoteStamp;
    this.remoteStamp = stamp;
    try {
      return fn();
    } finally {
      this.remoteStamp = prev;
    }
  }

  /** A peer's channel registers (state/channel-sync.ts applyChannelState); returns the registers refused. */
  mergeChannelState(ch: Channel, delta: ChannelStateDelta, auth: SyncAuthority): string[] {
    return applyChannelState(ch, delta, auth, this.store, (ev) => this.emit(ev), this.origin);
  }

  /**
   * PRIVMSG / NOTICE / TAGMSG from `from` to one target (state/message-ops.ts): authorized,
   * offered to plugins, signed, offered to history, and sent as a `message` event. Returns the
   * event, or undefined when a plugin suppressed it; refusals are ReplyErrors.
   */
  message(from: User, req: MessageRequest): MessageEvent | undefined {
    if (!this.messages) throw new Error('Ops: no message ports configured');
    return this.messages.send(from, req);
  }

  /** creation caps and expiry of empty channels (#12 finding 8) */
  private readonly channels: ChannelLifecycle;

  /** random source of Guest nick numbers (10000–99999); the generator still probes for a free nick */
  guestNumber: () => number = () => randomInt(10000, 100000);

  /** cloaks of this server (the session sets a guest's host with them before registration) */
  get cloaks(): Cloaks { return this.limits.cloaks; }

  /**
   * Load persisted channels and nick ownership at startup (no events: nobody is connected).
   * Returns the names of persisted channels that were not loaded because they hold a character
   * channel names may no longer contain (#12 finding 15); their rows are left for the operator.
   */
  restore(): string[] {
    const skipped: string[] = [];
    this.nickClaims.restore();
    for (const p of this.store.loadAll()) {
      if (hasForbiddenChannelChars(p.name)) { skipped.push(p.name); continue; }
      const ch = channelFromStore(p);
      if (this.channels.restored(ch, p)) this.world.channels.set(ch.folded, ch);
    }
    this.channels.restoredAll();
    return skipped;
  }

  /** Drop empty channels whose `channel-expiry` / `founded-channel-expiry` ran out (the server's periodic sweep calls this). */
  expireChannels(now = this.clock.now()): number {
    return this.channels.expire(now);
  }

  // ---- users -------------------------------------------------------------------------------

  /** A local connection's user (not registered yet): it gets its network-wide id here. */
  addUser(u: User): void {
    if (u.uid === '') u.uid = this.ids.next();
    this.world.users.set(u.id, u);
  }

  /**
   * A registered user a peer introduces (`origin` and `uid` set by the link). On a nick held
   * here the collision rule decides (state/ids.ts collisionLoser): a local loser is renamed to
   * Guest<digits> with a notice; a remote loser comes in under Guest<digits> (its own server
   * applies the same rule). Nick ownership is not bound for remote users. Returns the loser, if any.
   */
  addRemoteUser(u: User): User | undefined {
    if (u.origin === undefined || u.uid === '') throw new Error('Ops.addRemoteUser: a remote user needs its origin and uid');
    const loser = this.collide(u, u.nickFolded);
    if (loser === u) this.renameQuietly(u, this.freeGuestNick());
    this.world.users.set(u.id, u);
    this.world.nicks.set(u.nickFolded, u);
    u.registered = true;
    this.world.registeredCount++;
    this.world.remoteCount++;
    const server = this.world.servers.get(u.origin);
    if (server) server.users++;
    if (u.modes.has('i')) this.world.invisibleCount++;
    if (u.isOper) this.world.operCount++;
    this.world.maxRegistered = Math.max(this.world.maxRegistered, this.world.registeredCount);
    this.emit({ kind: 'register', user: u });
    return loser;
  }

  /** a server is reachable (#14): it is a server of the network (LINKS, MAP, LUSERS); hops and path updated */
  serverLinked(id: string, name: string, hops: number, via: string): void {
    const s = this.world.servers.get(id);
    if (s) { s.hops = hops; s.via = via; return; }
    this.world.servers.set(id, { id, name, linkedAt: this.clock.now(), users: 0, hops, via });
  }

  /** a server is no longer reachable (after its users left: federation/apply.ts dropOrigin) */
  serverSplit(id: string): void {
    this.world.servers.delete(id);
  }

  /**
   * `incoming` (a remote user) claims `folded`: if someone else holds it, the collision rule
   * picks the loser; a holder that loses is renamed now (NICK event, notice). Returns the loser.
   */
  private collide(incoming: User, folded: string): User | undefined {
    const holder = this.world.nicks.get(folded);
    if (!holder || holder === incoming) return undefined;
    const loser = collisionLoser(holder, incoming, this.world.nickOwners.get(folded));
    if (loser === holder) this.emit({ kind: 'server-notice', target: holder, text: this.renameAway(holder) });
    return loser;
  }

  /** a nick for a user nobody sees yet (a remote user being introduced): no WHOWAS, no event */
  private renameQuietly(u: User, nick: string): void {
    u.nick = nick;
    u.nickFolded = foldCase(nick);
    u.masksChanged();
  }

  /**
   * Set or change a nick. Caller validated syntax; we check uniqueness (433) and ownership: after
   * registration a nick owned by another DID is refused with 433; before registration it is
   * allowed and settled when registration completes (SASL usually finishes after NICK). A
   * registered, logged-in user changing nick rebinds its DID to the new nick.
   */
  setNick(u: User, nick: string): void {
    const folded = foldCase(nick);
    const holder = this.world.nicks.get(folded);
    // a remote user's nick change was accepted by its server: a collision is settled by the rule
    if (holder && holder !== u && !u.local) {
      if (this.collide(u, folded) === u) nick = this.freeGuestNick();
      this.changeNick(u, nick);
      return;
    }
    if (holder && holder !== u) throw new ReplyError(N.ERR_NICKNAMEINUSE, [nick], 'Nickname is already in use');
    const owner = this.world.nickOwners.get(folded);
    if (u.registered && owner !== undefined && owner !== u.account) {
      throw new ReplyError(N.ERR_NICKNAMEINUSE, [nick], 'Nickname is registered to another identity');
    }
    if (u.nick === nick) return;
    this.changeNick(u, nick);
    if (u.registered && u.account !== undefined) this.bindNick(u.account, nick);
  }

  /** The nick change itself (caller checked that `nick` is free): index, WHOWAS, NICK event. */
  private changeNick(u: User, nick: string): void {
    const folded = foldCase(nick);
    if (u.nick === nick) return;
    const oldMask = u.mask;
    if (u.nickFolded && this.world.nicks.get(u.nickFolded) === u) this.world.nicks.delete(u.nickFolded);
    if (u.registered) this.remember(u);
    u.nick = nick;
    u.nickFolded = folded;
    u.masksChanged();
    this.world.nicks.set(folded, u);
    if (u.registered) {
      const audience = this.world.neighbours(u);
      this.emit({ kind: 'nick', user: u, oldMask, audience });
    }
  }

  /**
   * Registration completes: first the nick is settled against nick ownership (a guest on an owned
   * nick becomes Guest<digits>; a logged-in owner reclaims its nick from whoever holds it, or
   * binds its current one). Returns server notices for the user (sent after the welcome burst).
   * The caller then sends the welcome and calls `applyAccountPrivileges`.
   */
  completeRegistration(u: User): string[] {
    const notices: string[] = [];
    const text = this.settleNick(u);
    if (text) notices.push(text);
    u.registered = true;
    this.world.registeredCount++;
    if (u.modes.has('i')) this.world.invisibleCount++;
    this.world.maxRegistered = Math.max(this.world.maxRegistered, this.world.registeredCount);
    this.world.maxLocal = Math.max(this.world.maxLocal, this.world.registeredCount - this.world.remoteCount);
    this.emit({ kind: 'register', user: u });
    return notices;
  }

  /** What a logged-in identity grants beyond its account: server operator for --oper-dids. */
  applyAccountPrivileges(u: User): void {
    if (!u.registered || u.account === undefined) return;
    if (this.limits.operDids.includes(u.account)) this.grantOper(u, u.account, 'admin');
  }

  /**
   * Bring a user's nick in line with nick ownership; used at login (registered users) and at
   * registration completion. Returns the notice for `u` when `u` was renamed.
   *  - guest on an owned nick → Guest<digits>
   *  - the DID owns a nick someone else (not logged in as this DID) holds → that user becomes
   *    Guest<digits> (with a notice), and `u` takes the nick
   *  - logged in, on a nick another DID owns (only possible before registration) → its own nick
   *    if free, else Guest<digits>
   *  - otherwise the DID now owns the current nick (unless another session of the same DID is
   *    using the owned nick: then the binding stays)
   */
  private settleNick(u: User): string | undefined {
    if (u.nickFolded === '') return undefined;
    const did = u.account;
    const current = this.world.nickOwners.get(u.nickFolded);
    if (did === undefined) return current !== undefined ? this.renameAway(u) : undefined;
    const owned = this.world.accountNicks.get(did);
    if (owned && owned.folded !== u.nickFolded) {
      const holder = this.world.nicks.get(owned.folded);
      if (holder && holder.account !== did) {
        this.emit({ kind: 'server-notice', target: holder, text: this.renameAway(holder) });
        this.changeNick(u, owned.nick);
        return undefined;
      }
      if (current !== undefined && current !== did) return this.renameAway(u, holder ? undefined : owned.nick);
      if (holder) return undefined;
    } else if (current !== undefined && current !== did) {
      return this.renameAway(u);
    }
    this.bindNick(did, u.nick);
    return undefined;
  }

  /**
   * A fully trusted peer's DID claimed `nick` there at `claimed` (#14, state/nick-claims.ts): here
   * too, unless this server knows a later claim of that DID (stale: nothing changes) or an
   * earlier claim of another DID to the nick (false: refused). A DID that loses the nick to the
   * earlier claim owns no nick any more. A local user holding the nick without being that DID is
   * moved off it, as at a local login. Persisted.
   */
  bindRemoteNick(did: string, nick: string, claimed: string): boolean {
    const verdict = this.nickClaims.remoteClaim(did, nick, claimed);
    if (verdict !== 'bind') return verdict === 'stale';
    const holder = this.world.nicks.get(foldCase(nick));
    if (holder && holder.local && holder.account !== did && holder.registered) this.emit({ kind: 'server-notice', target: holder, text: this.renameAway(holder) });
    this.bindNick(did, nick, claimed);
    return true;
  }

  /** Move `u` off a nick it may not keep: to `to`, or a free Guest<digits>. Returns the notice text. */
  private renameAway(u: User, to?: string): string {
    const old = u.nick;
    const nick = to ?? this.freeGuestNick();
    this.changeNick(u, nick);
    const hint = u.account === undefined ? ' Log in with SASL to use it.' : '';
    return `Nick ${old} is registered to another identity; you are now ${nick}.${hint}`;
  }

  /** `Guest<digits>` that nobody uses and no DID owns (random start, then probe upwards). */
  private freeGuestNick(): string {
    let n = this.guestNumber();
    for (;;) {
      const nick = `Guest${n}`;
      const folded = foldCase(nick);
      if (!this.world.nicks.has(folded) && !this.world.nickOwners.has(folded)) return nick;
      n++;
    }
  }

  /**
   * The DID now owns `nick` (releasing the nick it owned before); persisted. A claim made here is
   * stamped now, unless the DID already owned the nick (its claim keeps its time).
   */
  private bindNick(did: string, nick: string, claimed?: string): void {
    this.emit({ kind: 'nick-owner', did, nick, claimed: this.nickClaims.bind(did, nick, claimed) });
  }

  removeUser(u: User, reason: string): void {
    if (!this.world.users.has(u.id)) return;
    this.world.users.delete(u.id);
    if (this.world.nicks.get(u.nickFolded) === u) this.world.nicks.delete(u.nickFolded);
    if (!u.registered) return;
    this.world.registeredCount--;
    if (u.origin !== undefined) {
      this.world.remoteCount--;
      const server = this.world.servers.get(u.origin);
      if (server) server.users--;
    }
    if (u.isOper) this.world.operCount--;
    if (u.modes.has('i')) this.world.invisibleCount--;
    this.remember(u);
    const audience = this.world.neighbours(u);
    // the QUIT first, then the channels it empties are dropped (their channel-dropped events follow)
    this.emit({ kind: 'quit', user: u, reason, audience });
    for (const ch of [...u.channels]) this.leave(u, ch);
  }

  private remember(u: User): void {
    if (this.limits.whowasLen === 0) return;
    this.world.whowas.push({ nick: u.nick, username: u.username, host: u.host, realname: u.realname, at: this.clock.now(), account: u.account });
    if (this.world.whowas.length > this.limits.whowasLen) this.world.whowas.splice(0, this.world.whowas.length - this.limits.whowasLen);
  }

  /**
   * SASL success: the user's account becomes the DID. The host becomes the DID cloak (CHGHOST
   * when registered), account-notify goes out, and — for a registered user; otherwise at
   * registration completion — the nick is settled against nick ownership (reclaim / bind) and
   * --oper-dids are applied. Founders, DID ops, DID bans and DID invites key on `u.account`.
   */
  login(u: User, account: { did: string; handle?: string }): void {
    const now = this.clock.now();
    if (u.account === account.did) {
      if (account.handle !== undefined && account.handle !== u.handle) {
        u.handle = account.handle;
        this.accounts.save({ did: account.did, handle: account.handle, lastLoginAt: now });
      }
      return;
    }
    u.account = account.did;
    u.handle = account.handle;
    // no verified handle (#12): clear a stored one too, so APITOKEN owners show the DID
    this.accounts.save({ did: account.did, handle: account.handle ?? null, lastLoginAt: now });
    if (u.registered) this.emit({ kind: 'account', user: u });
    this.setHost(u, u.username, this.limits.cloaks.did(account.did));
    if (!u.registered) return;
    const text = this.settleNick(u);
    if (text) this.emit({ kind: 'server-notice', target: u, text });
    this.applyAccountPrivileges(u);
  }

  /** The handle shown for a logged-in user (a plugin's displayHandle at login, plugins/manager.ts onAuth). */
  setDisplayHandle(u: User, handle: string): void {
    if (u.handle === handle) return;
    u.handle = handle;
    this.emit({ kind: 'handle', user: u });
  }

  setAway(u: User, text: string | undefined): void {
    if (u.away === text) return;
    u.away = text;
    this.emit({ kind: 'away', user: u });
  }

  /** USER, before registration: the ident and realname (nobody sees the user yet: no event). */
  setIdent(u: User, username: string, realname: string): void {
    if (u.registered) return;
    u.username = username;
    u.realname = realname;
    u.masksChanged();
  }

  setRealname(u: User, realname: string): void {
    u.realname = realname;
    this.emit({ kind: 'setname', user: u });
  }

  setHost(u: User, username: string, host: string): void {
    if (u.username === username && u.host === host) return;
    const oldUsername = u.username, oldHost = u.host;
    u.username = username;
    u.host = host;
    u.masksChanged();
    if (u.registered) this.emit({ kind: 'chghost', user: u, oldUsername, oldHost });
  }

  /** Apply user mode changes a user may make on themself (+o only through grantOper; state/user-modes.ts). */
  setUserModes(u: User, changes: ModeChange[]): ModeChange[] {
    return applyUserModes(this.world, this.emit, u, changes);
  }

  grantOper(u: User, name: string, cls: 'admin' | 'moderator'): void {
    grantOper(this.world, this.emit, u, name, cls);
  }

  /** UBAN ADD (state/server-ban-ops.ts): the ban, and the registered local non-operators it covers (the caller disconnects them). */
  addServerBan(by: ActorLike, kind: ServerBanRecord['kind'], target: string, durationMs: number | undefined, reason: string, setBy: string): { ban: ServerBanRecord; covered: User[] } {
    return this.serverBans().add(toActor(by), kind, target, durationMs, reason, setBy);
  }

  /** UBAN DEL: false when there is no such ban. */
  removeServerBan(by: ActorLike, kind: ServerBanRecord['kind'], target: string): boolean {
    return this.serverBans().remove(toActor(by), kind, target);
  }

  private serverBans(): ServerBanOps {
    if (!this.limits.serverBans) throw new Error('Ops: no server-ban list configured');
    return (this.banOps ??= new ServerBanOps(this.world, this.limits.serverBans, this.emit));
  }

  private banOps?: ServerBanOps;

  /**
   * LOCKDOWN (IRC, operators with the `lockdown` capability) and PUT /api/v1/admin/lockdown (an
   * API key): one path for both (#13). Returns the previous level; a `lockdown` event tells the
   * operators. Callers check the actor's right and log with their own details.
   */
  setLockdown(by: ActorLike, to: LockdownLevel): LockdownLevel {
    const from = this.world.lockdown;
    this.world.lockdown = to;
    this.emit({ kind: 'lockdown', actor: toActor(by), from, to });
    return from;
  }

  // ---- channels ----------------------------------------------------------------------------

  /**
   * What ban/except/invex entries are matched against: the DID exactly (survives nick and host
   * changes), `$a:<account>`, and globs on the displayed host and on the real IP. The folded
   * texts are kept on the user until its nick, username or host changes (User.foldedMasks); each
   * list's masks are compiled once per change (MaskList, #12 finding 13).
   */
  maskSubject(u: User): MaskSubject {
    return { account: u.account, texts: u.foldedMasks };
  }

  isBanned(ch: Channel, u: User, subject?: MaskSubject): boolean {
    if (ch.lists.b.length === 0) return false;
    const s = subject ?? this.maskSubject(u);
    return ch.lists.b.matches(s) && !ch.lists.e.matches(s);
  }

  /** JOIN (state/join.ts): the checks, the founding rule, and for a peer's user the TS rule. Returns false if already on the channel. */
  join(u: User, name: string, key: string | undefined, remote?: RemoteJoin): boolean {
    return joinChannel({
      world: this.world, maxChannels: this.limits.maxChannels, now: this.clock.now(), channels: this.channels,
      maskSubject: (x) => this.maskSubject(x), isBanned: (c, x, subj) => this.isBanned(c, x, subj), stamp: () => this.stamp(),
      removeDidInvite: (c, did) => this.store.removeDidInvite(c, did), emit: (ev) => this.emit(ev),
    }, u, name, key, remote);
  }

  part(u: User, ch: Channel, reason?: string): void {
    if (!ch.members.has(u)) throw new ReplyError(N.ERR_NOTONCHANNEL, [ch.name], "You're not on that channel");
    this.emit({ kind: 'part', user: u, channel: ch, reason });
    this.leave(u, ch);
  }

  /** KICK: a user must be on the channel with +o (the founder only by the founder); a server or an operator (API) may kick anyone. */
  kick(actor: ActorLike, ch: Channel, target: User, reason: string): void {
    const a = toActor(actor);
    const by = actorUser(a);
    if (by && !ch.members.has(by)) throw new ReplyError(N.ERR_NOTONCHANNEL, [ch.name], "You're not on that channel");
    if (by && !ch.isOp(by)) throw new ReplyError(N.ERR_CHANOPRIVSNEEDED, [ch.name], "You're not channel operator");
    if (!ch.members.has(target)) throw new ReplyError(N.ERR_USERNOTINCHANNEL, [target.nick, ch.name], "They aren't on that channel");
    if (by && ch.isFounder(target) && !ch.isFounder(by)) throw new ReplyError(N.ERR_ISCHANSERVICE, [target.nick, ch.name], 'Cannot kick or deop the channel founder') /* 484 (Solanum): a bare 482 would tell an op they are not one */;
    this.emit({ kind: 'kick', source: actorSource(a), actor: a, channel: ch, target, reason });
    this.leave(target, ch);
  }

  /**
   * Remove membership. When the channel is left empty: dropped at once if it holds nothing worth
   * keeping, else dropped after `channel-expiry` (with a founder: `founded-channel-expiry`, 0 = kept
   * for good) unless someone joins (#12 finding 8).
   */
  private leave(u: User, ch: Channel): void {
    ch.members.delete(u);
    u.removeChannel(ch);
    if (ch.members.size === 0) this.channels.emptied(ch);
  }

  /** TOPIC: a user must be on the channel (with +o when +t); a server or an operator (API) may always set it. */
  setTopic(actor: ActorLike, ch: Channel, text: string): void {
    const a = toActor(actor);
    const by = actorUser(a);
    if (by && !ch.members.has(by)) throw new ReplyError(N.ERR_NOTONCHANNEL, [ch.name], "You're not on that channel");
    if (by && ch.modes.t && !ch.isOp(by)) throw new ReplyError(N.ERR_CHANOPRIVSNEEDED, [ch.name], "You're not channel operator");
    const source = actorSource(a);
    ch.topic = text === '' ? undefined : { text, setBy: source, setAt: this.clock.now() };
    ch.stamps.topic = this.stamp();
    this.store.saveChannel(ch);
    this.emit({ kind: 'topic', source, actor: a, channel: ch });
  }

  invite(by: User, target: User, ch: Channel): void {
    if (!ch.members.has(by)) throw new ReplyError(N.ERR_NOTONCHANNEL, [ch.name], "You're not on that channel");
    if (ch.modes.i && !ch.isOp(by)) throw new ReplyError(N.ERR_CHANOPRIVSNEEDED, [ch.name], "You're not channel operator");
    if (ch.members.has(target)) throw new ReplyError(N.ERR_USERONCHANNEL, [target.nick, ch.name], 'is already on channel');
    const invites = (target.invitedTo ??= new Set());
    invites.delete(ch); // re-insert as newest
    invites.add(ch);
    if (invites.size > MAX_PENDING_INVITES) invites.delete(invites.values().next().value!);
    // a logged-in target is also invited by identity: persisted, it survives reconnects and restarts
    const did = target.account;
    if (did !== undefined) {
      const grant = { by: by.account ?? by.mask, at: this.clock.now(), stamp: this.stamp() };
      ch.didInvites.delete(did); // re-insert as newest
      ch.didInvites.set(did, grant);
      this.store.addDidInvite(ch, did, grant);
      if (ch.didInvites.size > MAX_DID_INVITES) {
        const oldest = ch.didInvites.keys().next().value!;
        ch.didInvites.delete(oldest);
        this.store.removeDidInvite(ch, oldest);
      }
    }
    this.emit({ kind: 'invite', source: by, target, channel: ch });
  }

  /**
   * Apply parsed channel mode changes (state/channel-modes.ts). Requires channel operator status.
   * Returns the changes that took effect (no-ops dropped); refusals for single changes are
   * reported via `onError` so the rest of the line still applies, as on every ircd.
   */
  changeChannelModes(by: ActorLike, ch: Channel, changes: ModeChange[], onError: (e: ReplyError) => void): ModeChange[] {
    return applyChannelModes({
      world: this.world, store: this.store, emit: this.emit, maxListEntries: this.limits.maxListEntries,
      now: this.clock.now(), stamp: () => this.stamp(),
    }, toActor(by), ch, changes, onError);
  }
}
