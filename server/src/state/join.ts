import { foldCase } from '../protocol/casemap.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { Channel, Membership, PREFIX_MODES } from './channel.js';
import type { ChannelLifecycle } from './channel-lifecycle.js';
import type { StateEvent } from './events.js';
import type { Stamp } from './hlc.js';
import type { MaskSubject } from './mask-list.js';
import type { User } from './user.js';
import type { World } from './world.js';

/** a peer's user joining (federation/apply.ts): see joinChannel */
export interface RemoteJoin {
  /** the member's prefix modes on its own server */
  status: string;
  /** when its server created the channel */
  channelTs: number;
  /** a burst's membership from before the link came up (a fully trusted peer's only) */
  netjoin?: boolean;
}

/** what a join needs from Ops (state/ops.ts builds it) */
export interface JoinContext {
  world: World;
  maxChannels: number;
  now: number;
  channels: ChannelLifecycle;
  maskSubject(u: User): MaskSubject;
  isBanned(ch: Channel, u: User, subject?: MaskSubject): boolean;
  stamp(): Stamp;
  removeDidInvite(ch: Channel, did: string): void;
  emit(ev: StateEvent): void;
}

/**
 * JOIN: create the channel if needed (creator gets +o; a logged-in creator becomes the
 * permanent founder), else check +b/+i/+k/+l — the founder bypasses them all; an INVITE (by
 * nick, or a persisted DID invite, consumed here) bypasses +b/+i/+k/+l once. The founder and
 * DID ops get +o on every join (a server MODE after the JOIN). An empty channel without founder
 * or DID ops is re-founded by its first joiner; one with either is not (no takeover after a
 * restart). Returns false if the user was already on the channel.
 *
 * A remote user's join (#14, federation/apply.ts) brings its status from its own server
 * (`remote.status`, e.g. `o`) and that server's creation time of the channel: the same checks
 * apply, but the status is the origin's, not this server's founding rule (both servers then
 * agree who is op). It is kept only when the origin's channel is as old as ours or older (the
 * TS rule of IRC networks): ops a server gave on a channel it created during a netsplit do not
 * carry over to the older channel. The channel's creation time becomes the older of the two.
 * A `netjoin` (a fully trusted peer's burst after a link comes up) is a membership its server
 * granted before the split: as on IRC networks, +b/+i/+k/+l set meanwhile do not undo it.
 */export function joinChannel(c: JoinContext, u: User, name: string, key: string | undefined, remote?: RemoteJoin): boolean {
  const folded = foldCase(name);
  let ch = c.world.channels.get(folded);
  if (ch?.members.has(u)) return false;
  if (u.channels.size >= c.maxChannels) throw new ReplyError(N.ERR_TOOMANYCHANNELS, [ch?.name ?? name], 'You have joined too many channels');
  const now = c.now;
  const did = u.account;
  let creating = false;
  if (!ch) {
    c.channels.checkCreate(u, name); // 405 over a creation cap (#12 finding 8)
    ch = new Channel(name, folded, now);
    ch.founder = did;
    if (did !== undefined) ch.stamps.founder = c.stamp();
    creating = true;
  } else if (!ch.isFounder(u) && !remote?.netjoin) {
    const hasInvite = u.invitedTo?.has(ch) === true || (did !== undefined && ch.didInvites.has(did));
    const subject = c.maskSubject(u);
    const invited = hasInvite || ch.lists.I.matches(subject);
    if (c.isBanned(ch, u, subject) && !hasInvite) throw new ReplyError(N.ERR_BANNEDFROMCHAN, [ch.name], 'Cannot join channel (+b)');
    if (ch.modes.i && !invited) throw new ReplyError(N.ERR_INVITEONLYCHAN, [ch.name], 'Cannot join channel (+i)');
    if (ch.modes.k !== undefined && ch.modes.k !== key && !hasInvite) throw new ReplyError(N.ERR_BADCHANNELKEY, [ch.name], 'Cannot join channel (+k)');
    if (ch.modes.l !== undefined && ch.members.size >= ch.modes.l && !hasInvite) throw new ReplyError(N.ERR_CHANNELISFULL, [ch.name], 'Cannot join channel (+l)');
  }
  // An empty (persisted) channel is re-founded by whoever joins first, as on any ircd — unless
  // it has a founder or DID ops, whose +o must not go to a guest who happens to come first.
  const founding = !remote && (creating || (ch.members.size === 0 && ch.founder === undefined && ch.didOps.size === 0));
  const autoOp = !remote && !founding && (ch.isFounder(u) || (did !== undefined && ch.didOps.has(did)));
  if (creating) c.channels.created(u, ch);
  else if (ch.members.size === 0) c.channels.occupied(ch);
  const mem = new Membership(now);
  if (founding || autoOp) mem.add('o');
  let remoteModes: string[] = [];
  const lost: { adding: false; mode: string; param: string }[] = [];
  if (remote) {
    const ts = Math.min(remote.channelTs, now);
    if (creating || ts <= ch.createdAt) remoteModes = [...remote.status].filter((m) => PREFIX_MODES.includes(m) && mem.add(m));
    if (ts < ch.createdAt) {
      // the channel is older than this server knew: the status its local members got here since
      // (a channel re-created during a netsplit) is dropped, except the founder's and DID ops'
      if (!creating) {
        for (const [m, ms] of ch.members) {
          // every member's but those of the joiner's own server (their status is the older
          // channel's), the founder's and DID ops': each server applies the same rule, so a
          // status is dropped everywhere, without a MODE having to travel
          if ((u.origin !== undefined && m.origin === u.origin) || ch.isFounder(m) || (m.account !== undefined && ch.didOps.has(m.account))) continue;
          for (const mode of [...ms.modes]) if (ms.remove(mode)) lost.push({ adding: false, mode, param: m.nick });
        }
      }
      ch.createdAt = ts;
    }
  }
  ch.members.set(u, mem);
  u.addChannel(ch);
  u.invitedTo?.delete(ch);
  if (did !== undefined && ch.didInvites.delete(did)) c.removeDidInvite(ch, did);
  c.emit({ kind: 'join', user: u, channel: ch });
  if ((founding && !creating) || autoOp) c.emit({ kind: 'channel-mode', channel: ch, changes: [{ adding: true, mode: 'o', param: u.nick }] });
  if (lost.length) c.emit({ kind: 'channel-mode', channel: ch, changes: lost });
  if (remoteModes.length) c.emit({ kind: 'channel-mode', channel: ch, changes: remoteModes.map((mode) => ({ adding: true, mode, param: u.nick })) });
  return true;
}
