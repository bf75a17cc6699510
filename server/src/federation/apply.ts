import { ReplyError } from '../protocol/reply-error.js';
import { clipUtf8 } from '../protocol/validate.js';
import { MAX_HLC_DRIFT_MS } from '../state/hlc.js';
import { deltaStamps } from '../state/channel-sync.js';
import { serverIdPrefix } from '../state/ids.js';
import { joinLines } from '../state/message-ops.js';
import type { Actor } from '../state/actor.js';
import type { Ops } from '../state/ops.js';
import { remoteUser } from '../state/remote-user.js';
import type { Recipient, User } from '../state/user.js';
import type { World } from '../state/world.js';
import type { WireActor, WireEvent, WireUser } from '../state/wire.js';

/** a peer's knock reason is cut as a local one is (KICKLEN's largest value; the line itself to 512 bytes in fan-out) */
const KNOCK_REASON_MAX = 390;

/** How far a peer is trusted (federation.md; `[s2s.peers.<id>] trust`). */
export type Trust = 'full' | 'relay' | 'readonly';

/**
 * What each trust level may originate (#14 phase 3; federation.md). `relay`: its users talk,
 * come and go and set topics where not +t. `full`: everything its users may do here. `readonly`:
 * nothing. Never from any peer: this server's own policy and lifecycle (lockdown, server bans,
 * notices to our users, channel drops) and the durable-state sync, which the CRDT merge brings.
 */
const RELAY_KINDS: ReadonlySet<WireEvent['kind']> = new Set(['register', 'quit', 'nick', 'join', 'part', 'message', 'topic', 'away', 'setname', 'knock', 'redact']);
const FULL_KINDS: ReadonlySet<WireEvent['kind']> = new Set([...RELAY_KINDS, 'kick', 'channel-mode', 'invite', 'account', 'chghost', 'handle', 'channel-state', 'nick-owner']);

export type Applied = { ok: true } | { ok: false; reason: string };

/** a remote user's ids: far above any local connection number (state/user.ts `id`) */
const REMOTE_ID_BASE = 2 ** 40;

/**
 * Applies a peer's events to this server through Ops (#14 "One authorization path"): the same
 * functions, with the same permission checks, as local commands, the remote user as the actor.
 * Before Ops is asked, each event must pass the checks only federation has:
 *  - the peer's trust allows the kind (and for `relay`, a topic only where the channel is not +t);
 *  - every user it names belongs to the envelope's origin: a uid this server knows as that
 *    origin's (introduced by its `register`), never a local user or another server's, so a peer
 *    cannot speak as someone else;
 *  - a `register` carries a uid with the origin's prefix (state/ids.ts), and an account (DID)
 *    only from a `full` peer: a DID brings founder and DID-op rights here, so a `relay` peer's
 *    users come in as guests.
 * A refused event changes nothing (Ops refuses before it mutates) and the reason is returned for
 * the log line. Remote users' links deliver nothing: their own server delivers to them.
 */
export class RemoteApplier {
  private readonly users = new Map<string, User>();
  private nextId = REMOTE_ID_BASE;

  /** users introduced, per origin (s2s-max-users-per-origin) */
  private readonly perOrigin = new Map<string, number>();

  constructor(
    private readonly ops: Ops,
    private readonly world: World,
    private readonly now: () => number,
    private readonly maxUsersPerOrigin = Infinity,
  ) {}

  /**
   * Netsplit: every user `origin` introduced leaves this server's view (QUIT with `reason`), as
   * when its link closes. Returns how many left.
   */
  dropOrigin(origin: string, reason: string): number {
    let n = 0;
    for (const u of [...this.users.values()]) {
      if (u.origin !== origin) continue;
      this.forget(u);
      this.ops.removeUser(u, reason);
      n++;
    }
    return n;
  }

  private forget(u: User): void {
    if (!this.users.delete(u.uid)) return;
    const left = (this.perOrigin.get(u.origin!) ?? 1) - 1;
    if (left > 0) this.perOrigin.set(u.origin!, left);
    else this.perOrigin.delete(u.origin!);
  }

  /** the remote user with this uid, if introduced */
  user(uid: string): User | undefined {
    return this.users.get(uid);
  }

  apply(origin: string, trust: Trust, ev: WireEvent): Applied {
    const allowed = trust === 'full' ? FULL_KINDS : trust === 'relay' ? RELAY_KINDS : undefined;
    if (!allowed || !allowed.has(ev.kind)) return refused(`${ev.kind} is not accepted from a ${trust} peer`);
    try {
      return this.applyAllowed(origin, trust, ev);
    } catch (e) {
      if (e instanceof ReplyError) return refused(`${e.code} ${e.params.join(' ')} ${e.text}`.trim());
      throw e;
    }
  }

  private applyAllowed(origin: string, trust: Trust, ev: WireEvent): Applied {
    if (ev.kind === 'register') return this.register(origin, trust, ev.user, ev.netjoin === true);
    switch (ev.kind) {
      case 'quit': {
        const u = this.own(origin, ev.user);
        this.forget(u);
        this.ops.removeUser(u, ev.reason);
        return OK;
      }
      case 'nick': this.ops.setNick(this.own(origin, ev.user), ev.user.nick); return OK;
      // a member already (a burst after a duplicate link): nothing changes
      case 'join': {
        const u = this.own(origin, ev.user);
        // The member's status. A full peer's claim (its status there, its channel's age: Ops.join's
        // TS rule, which may take status from members here) is believed in its burst (a netjoin)
        // and, on a live join, only for a channel it made in the last minute that is older than
        // ours (two servers creating it at once). Otherwise, and always for a relay peer, this
        // server's own rules give the status (founding, founder, DID ops), as for a local JOIN:
        // a live join never takes over an older channel.
        // A channel this join creates here takes the origin's creation time (every server then
        // has the same one; a relay peer's is held to the last minute).
        const ch = this.world.findChannel(ev.channel);
        const recent = ev.ts >= this.now() - MAX_HLC_DRIFT_MS;
        const concurrent = ch !== undefined && ev.ts <= ch.createdAt && recent;
        if (trust === 'full' && (ev.netjoin === true || concurrent || !ch)) {
          this.ops.join(u, ev.channel, ev.key, { status: ev.status, channelTs: ev.ts, netjoin: ev.netjoin === true });
        } else if (!ch) {
          this.ops.join(u, ev.channel, ev.key, { status: '', channelTs: recent ? ev.ts : this.now() - MAX_HLC_DRIFT_MS });
        } else {
          this.ops.join(u, ev.channel, ev.key);
        }
        return OK;
      }
      case 'part': this.ops.part(this.own(origin, ev.user), this.channel(ev.channel), ev.reason); return OK;
      case 'away': this.ops.setAway(this.own(origin, ev.user), ev.away); return OK;
      case 'setname': this.ops.setRealname(this.own(origin, ev.user), ev.realname); return OK;
      case 'topic': {
        const ch = this.channel(ev.channel);
        if (trust === 'relay' && ch.modes.t) return refused('topic on a +t channel from a relay peer');
        this.ops.setTopic(this.actor(origin, trust, ev.by), ch, ev.topic?.text ?? '');
        return OK;
      }
      case 'message': {
        const from = this.own(origin, ev.from);
        // its time goes into history: never one far ahead (it would stay "latest" there for good)
        if (ev.at > this.now() + MAX_HLC_DRIFT_MS) return refused('message time too far in the future');
        const text = ev.lines ? joinLines(ev.lines) : ev.text;
        const sent = this.ops.message(from, {
          command: ev.command, target: ev.target, text, lines: ev.lines,
          clientTags: ev.tags ? new Map(Object.entries(ev.tags)) : undefined, fromOrigin: { msgid: ev.msgid, at: ev.at },
        });
        return sent ? OK : refused('suppressed by a plugin');
      }
      case 'redact': {
        // #16: the same rules as a local REDACT (state/redact-ops.ts), the remote user as redactor:
        // its own message within redact-window, or as an operator of the channel here; never as a
        // server operator (a peer's operators have no rights here). Its time decides the window:
        // never one far ahead (nor, RedactOps, one far behind our clock).
        if (!this.ops.redactions) return refused('redaction is not available here');
        if (ev.at > this.now() + MAX_HLC_DRIFT_MS) return refused('redaction time too far in the future');
        this.ops.redactions.redact(this.own(origin, ev.user), { target: ev.target, msgid: ev.msgid, reason: ev.reason, did: ev.did, fromOrigin: { msgid: ev.id, at: ev.at } });
        return OK;
      }
      case 'kick': this.ops.kick(this.actor(origin, trust, ev.by), this.channel(ev.channel), this.named(ev.target), ev.reason); return OK;
      case 'channel-mode': {
        // the origin's own automatic +o on a join (no actor) is what our Ops did applying that join
        if (!ev.by) return OK;
        const errors: string[] = [];
        this.ops.changeChannelModes(this.actor(origin, trust, ev.by), this.channel(ev.channel), ev.changes, (e) => errors.push(`${e.code} ${e.text}`));
        return errors.length ? refused(`some changes refused: ${errors.join('; ')}`) : OK;
      }
      case 'invite': this.ops.invite(this.own(origin, ev.source), this.named(ev.target), this.channel(ev.channel)); return OK;
      // the knock rules and the per-channel window (state/knock.ts) here too; the per-connection limit was its own server's
      case 'knock': this.ops.knocks.knock(this.own(origin, ev.user), this.channel(ev.channel), ev.reason === undefined ? undefined : clipUtf8(ev.reason, KNOCK_REASON_MAX)); return OK;
      // a DID's nick (full peers only: their DIDs are believed); the earlier claim keeps it (state/nick-claims.ts)
      case 'nick-owner':
        if (Number(ev.claimed.slice(0, 13)) > this.now() + MAX_HLC_DRIFT_MS) return refused('nick claim stamp too far in the future');
        return this.ops.bindRemoteNick(ev.did, ev.nick, ev.claimed) ? OK : refused(`nick ${ev.nick} is owned by another DID here (an earlier claim)`);
      case 'channel-state': {
        const ch = this.channel(ev.channel);
        for (const st of deltaStamps(ev)) {
          if (Number(st.hlc.slice(0, 13)) > this.now() + MAX_HLC_DRIFT_MS) return refused('channel-state stamp too far in the future');
        }
        // authorized as the origin's users on the channel could change it now
        let member = false;
        let op = false;
        for (const [u, m] of ch.members) {
          if (u.origin !== origin) continue;
          member = true;
          if (m.has('o')) { op = true; break; }
        }
        const refusedRegs = this.ops.mergeChannelState(ch, ev, { op, member });
        return refusedRegs.length ? refused(`channel-state of ${ch.name}: ${refusedRegs.join(', ')} refused (no channel operator of the origin on the channel)`) : OK;
      }
      default: return refused(`${ev.kind} from a peer is not applied yet`);
    }
  }

  private register(origin: string, trust: Trust, w: WireUser & { realname: string; signonAt: number }, netjoin: boolean): Applied {
    if (!w.uid.startsWith(serverIdPrefix(origin))) return refused(`uid ${w.uid} is not of origin ${origin}`);
    const known = this.users.get(w.uid);
    // introduced already (a burst after a duplicate link): nothing changes
    if (known) return known.origin === origin ? OK : refused(`uid ${w.uid} is already introduced`);
    if ((this.perOrigin.get(origin) ?? 0) >= this.maxUsersPerOrigin) return refused(`over s2s-max-users-per-origin (${this.maxUsersPerOrigin})`);
    // its server delivers to it; disconnecting it here removes it from this server's view
    let self: User | undefined;
    const link: Recipient = { tagMask: 0, hasCap: () => false, deliver: () => {}, disconnect: (reason) => { if (self) { this.forget(self); this.ops.removeUser(self, reason); } } };
    const u = remoteUser(this.nextId++, {
      origin, uid: w.uid, nick: w.nick, username: w.username, host: w.host, realname: w.realname,
      // the registration time decides nick collisions (state/ids.ts): a relay peer's claim is not
      // believed (it could take any local user's nick by claiming the earliest time), so its
      // users count as registered now and lose a collision with anyone here
      // a full peer's earlier time is believed in its burst (users it had before the link came
      // up); a live registration happened now, whatever it claims
      signonAt: trust === 'full' && netjoin ? Math.min(w.signonAt, this.now()) : this.now(),
      // a DID brings rights here (founder, DID ops, nick ownership): only from a full peer
      ...(trust === 'full' && w.account !== undefined ? { account: w.account } : {}),
    }, link);
    self = u;
    this.ops.addRemoteUser(u);
    this.users.set(u.uid, u);
    this.perOrigin.set(origin, (this.perOrigin.get(origin) ?? 0) + 1);
    return OK;
  }

  /** a user the origin introduced; any other uid (a local user, another server's) is refused */
  private own(origin: string, w: WireUser): User {
    const u = this.users.get(w.uid);
    if (!u || u.origin !== origin) throw new ReplyError('FED', [], `user ${w.uid} is not of origin ${origin}`);
    return u;
  }

  /** a user the event names as its target: any known user (local, or remote of any origin) */
  private named(w: WireUser): User {
    // by nick (the nick index), then the uid must match: never a scan of every user per event
    const u = this.users.get(w.uid) ?? this.world.findUser(w.nick);
    if (!u || u.uid !== w.uid) throw new ReplyError('FED', [], `unknown user ${w.uid}`);
    return u;
  }

  private actor(origin: string, trust: Trust, by: WireActor | undefined): Actor {
    if (!by) throw new ReplyError('FED', [], 'no actor');
    if (by.kind === 'user') return { kind: 'user', user: this.own(origin, by.user) };
    // never a server or an operator acting on its own authority: what a peer's server does on
    // its own (auto-op on join, TS resolution) this server works out itself; its operators
    // have no rights here
    throw new ReplyError('FED', [], `a peer may not act as ${by.kind === 'server' ? 'a server' : 'an operator'} here (${trust} trust)`);
  }

  private channel(name: string) {
    const ch = this.world.findChannel(name);
    if (!ch) throw new ReplyError('FED', [], `no channel ${name}`);
    return ch;
  }
}

const OK: Applied = { ok: true };
const refused = (reason: string): Applied => ({ ok: false, reason });
