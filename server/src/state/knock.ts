import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import type { Channel } from './channel.js';
import type { EventSink } from './events.js';
import type { MaskSubject } from './mask-list.js';
import type { User } from './user.js';

/**
 * KNOCK (#16): a user outside a channel it cannot join freely asks the channel's operators for an
 * invite. The rules every knock obeys, local (commands/knock.ts) or from a peer's user
 * (federation/apply.ts), in this order:
 *
 * - on the channel already: 714 ERR_KNOCKONCHAN;
 * - a +s/+p channel: 403, as a missing channel (#12 finding 14: a secret channel's existence is
 *   never revealed to outsiders, so nobody outside it can knock on it);
 * - banned (+b without a matching +e): 404 ERR_CANNOTSENDTOCHAN, as charybdis/solanum do: the
 *   ban keeps the user from pestering the operators too (an operator can still INVITE, which
 *   lets the user past the ban once);
 * - the channel is open to the user (not +i, or +I matches; no +k; +l not reached), or the user
 *   may join anyway (founder, pending INVITE): 713 ERR_CHANOPEN.
 * Then a `knock` event: fan-out sends 710 RPL_KNOCK to the channel's operators (session/fanout.ts).
 * The per-channel limit (`knock-channel-rate` per `knock-rate-window`, all knockers together) is
 * kept here, so that knocks from peers' users count against it as local ones do and a network
 * cannot flood a channel's operators; the per-connection limit is the command's (commands/knock.ts).
 */
/** knocks per channel per window (read when used: a REHASH may change them) */
export interface KnockLimits { knockChannelRate: number; knockRateWindow: number }

export class KnockOps {
  /** folded channel name → when its knocks in the window were delivered (at most knockChannelRate each) */
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly emit: EventSink,
    private readonly isBanned: (ch: Channel, u: User) => boolean,
    private readonly maskSubject: (u: User) => MaskSubject,
    private readonly limits: KnockLimits | undefined,
    private readonly now: () => number,
  ) {}

  /** the channel had its knock-channel-rate knocks in the current window (712 … (channel)) */
  channelFull(ch: Channel): boolean {
    if (!this.limits) return false;
    const since = this.now() - this.limits.knockRateWindow;
    const times = this.recent.get(ch.folded)?.filter((t) => t > since) ?? [];
    if (times.length === 0) this.recent.delete(ch.folded); else this.recent.set(ch.folded, times);
    return times.length >= this.limits.knockChannelRate;
  }

  /** Throws the ReplyError a knock by `u` on `ch` gets, or returns when it would be delivered. */
  check(u: User, ch: Channel): void {
    if (ch.members.has(u)) throw new ReplyError(N.ERR_KNOCKONCHAN, [ch.name], 'You are already on that channel');
    if (ch.hidden) throw new ReplyError(N.ERR_NOSUCHCHANNEL, [ch.name], 'No such channel');
    const invited = u.invitedTo?.has(ch) === true || (u.account !== undefined && ch.didInvites.has(u.account));
    if (!invited && this.isBanned(ch, u)) throw new ReplyError(N.ERR_CANNOTSENDTOCHAN, [ch.name], 'Cannot knock on channel (+b)');
    if (invited || ch.isFounder(u) || !this.closedTo(ch, u)) throw new ReplyError(N.ERR_CHANOPEN, [ch.name], 'Channel is open');
  }

  /**
   * Deliver a knock: the rules (check()), then the channel's window (712 … (channel) when full);
   * `reason` is the knocker's optional text, already clipped. Server operators are not held by the
   * window (as by every flood limit), but their knocks count in it.
   */
  knock(u: User, ch: Channel, reason?: string): void {
    this.check(u, ch);
    if (!u.isOper && this.channelFull(ch)) throw new ReplyError(N.ERR_TOOMANYKNOCK, [ch.name], 'Too many KNOCKs (channel)');
    if (this.limits) this.recent.set(ch.folded, [...(this.recent.get(ch.folded) ?? []), this.now()]);
    this.emit(reason === undefined ? { kind: 'knock', user: u, channel: ch } : { kind: 'knock', user: u, channel: ch, reason });
  }

  /** +i (unless an invite exception matches), +k, or +l reached: JOIN would refuse `u` (state/join.ts) */
  private closedTo(ch: Channel, u: User): boolean {
    if (ch.modes.i && !ch.lists.I.matches(this.maskSubject(u))) return true;
    if (ch.modes.k !== undefined) return true;
    return ch.modes.l !== undefined && ch.members.size >= ch.modes.l;
  }
}
