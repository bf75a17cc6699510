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
 * The rate limits are the command's (per connection and per channel: commands/knock.ts).
 */
export class KnockOps {
  constructor(
    private readonly emit: EventSink,
    private readonly isBanned: (ch: Channel, u: User) => boolean,
    private readonly maskSubject: (u: User) => MaskSubject,
  ) {}

  /** Throws the ReplyError a knock by `u` on `ch` gets, or returns when it would be delivered. */
  check(u: User, ch: Channel): void {
    if (ch.members.has(u)) throw new ReplyError(N.ERR_KNOCKONCHAN, [ch.name], 'You are already on that channel');
    if (ch.hidden) throw new ReplyError(N.ERR_NOSUCHCHANNEL, [ch.name], 'No such channel');
    const invited = u.invitedTo?.has(ch) === true || (u.account !== undefined && ch.didInvites.has(u.account));
    if (!invited && this.isBanned(ch, u)) throw new ReplyError(N.ERR_CANNOTSENDTOCHAN, [ch.name], 'Cannot knock on channel (+b)');
    if (invited || ch.isFounder(u) || !this.closedTo(ch, u)) throw new ReplyError(N.ERR_CHANOPEN, [ch.name], 'Channel is open');
  }

  /** Deliver a knock (after check()): `reason` is the knocker's optional text, already clipped. */
  knock(u: User, ch: Channel, reason?: string): void {
    this.check(u, ch);
    this.emit(reason === undefined ? { kind: 'knock', user: u, channel: ch } : { kind: 'knock', user: u, channel: ch, reason });
  }

  /** +i (unless an invite exception matches), +k, or +l reached: JOIN would refuse `u` (state/join.ts) */
  private closedTo(ch: Channel, u: User): boolean {
    if (ch.modes.i && !ch.lists.I.matches(this.maskSubject(u))) return true;
    if (ch.modes.k !== undefined) return true;
    return ch.modes.l !== undefined && ch.members.size >= ch.modes.l;
  }
}
