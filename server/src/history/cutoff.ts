import type { Channel } from '../state/channel.js';
import type { HistoryReadOptions } from './types.js';

/**
 * #12 history-cutoff (after Ergo's `history.restrictions.query-cutoff: join-time`): what a
 * channel member reads from before they joined.
 *
 * - `none`: everything the channel kept.
 * - `restricted` (default): not the messages said while the channel was +s, +p, +i or +k (recorded
 *   per message, StoredMessage.vis): those were for the members of that moment. What was said
 *   while the channel was open to anyone stays readable, as anyone could have joined to read it.
 * - `always`: nothing from before the join.
 *
 * The join is the membership's `joinedAt` (a rejoin starts over). The founder and DID ops are
 * never cut off: they hold the channel. Whoever is not a member (REST without a token that may
 * read the channel) never reads a message said while it was restricted, whatever this says.
 */
export type HistoryCutoff = 'none' | 'restricted' | 'always';
/** the values config/load.ts accepts for history-cutoff (it refuses others with the configuration errors) */
export const HISTORY_CUTOFFS: readonly HistoryCutoff[] = ['none', 'restricted', 'always'];

type Cut = Pick<HistoryReadOptions, 'since' | 'restrictedSince'>;

/** what no member may read: nothing said while restricted */
export const OUTSIDER: Cut = Object.freeze({ restrictedSince: Infinity });

/** The read filter for a member who joined at `joinedAt`. */
export function memberCut(cutoff: string, joinedAt: number): Cut {
  if (cutoff === 'always') return { since: joinedAt };
  if (cutoff === 'restricted') return { restrictedSince: joinedAt };
  return {};
}

/**
 * The read filter for `ch` and a reader identified by its connection's membership and/or its
 * account: founder or DID op → everything; a member → memberCut from the earliest join among
 * the account's connections (or this connection's); anyone else → OUTSIDER.
 */
export function channelCut(cutoff: string, ch: Channel, reader: { joinedAt?: number; did?: string }): Cut {
  const did = reader.did;
  if (did !== undefined && (ch.founder === did || ch.didOps.has(did))) return sinceCreation(ch, {});
  let joined = reader.joinedAt;
  if (did !== undefined) {
    for (const [u, mem] of ch.members) if (u.account === did && (joined === undefined || mem.joinedAt < joined)) joined = mem.joinedAt;
  }
  return joined === undefined ? OUTSIDER : sinceCreation(ch, memberCut(cutoff, joined));
}

/**
 * History outlives a channel that is dropped (an empty channel without a founder expires, one with
 * default modes at once) and stays under its name. A channel created later under that name is a
 * different channel: whatever the cutoff, nobody reads what was said while the OLD one was
 * restricted (its founder, its members). What the old one said in the open stays readable, as it
 * was to anyone.
 */
function sinceCreation(ch: Channel, cut: Cut): Cut {
  const r = cut.restrictedSince;
  return r !== undefined && r >= ch.createdAt ? cut : { ...cut, restrictedSince: ch.createdAt };
}
