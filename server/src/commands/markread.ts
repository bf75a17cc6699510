import { foldCase } from '../protocol/casemap.js';
import { isChannelName, safeParam } from '../protocol/validate.js';
import { Outgoing, nowIso } from '../session/outgoing.js';
import { SessionSlot } from '../session/slots.js';
import type { Channel } from '../state/channel.js';
import { parseTimestamp } from './chathistory.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

export const READ_MARKER_CAP = 'draft/read-marker';

/** guests' markers: per connection, on the session (logged-in users' are persisted per account) */
const GUEST_MARKERS = new SessionSlot<Map<string, number>>('markread.guest');

/**
 * The key a marker is stored under: a channel's folded name; for a nick, the DID it belongs to
 * when it has one (so the marker survives nick changes), else the folded nick.
 */
function markerKey(ctx: CommandContext, target: string): string {
  if (isChannelName(target)) return foldCase(target);
  const { world } = ctx.server;
  if (target.startsWith('did:')) return target;
  return world.findUser(target)?.account ?? world.nickOwners.get(foldCase(target)) ?? foldCase(target);
}

function getMarker(ctx: CommandContext, key: string): number | undefined {
  const { user, server } = ctx;
  return user.account ? server.readMarkers.get(user.account, key) : ctx.session.peekSlot(GUEST_MARKERS)?.get(key);
}

const markerParam = (t: number | undefined): string => (t === undefined ? '*' : `timestamp=${nowIso(t)}`);

/** draft/read-marker: after JOIN and before the end of NAMES, the client's marker for the channel. */
export function sendJoinMarker(ctx: CommandContext, ch: Channel): void {
  if (!ctx.session.hasCap(READ_MARKER_CAP)) return;
  ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'MARKREAD', params: [ch.name, markerParam(getMarker(ctx, ch.folded))] });
}

/**
 * MARKREAD <target> [timestamp=…] (IRCv3 draft/read-marker). Without a timestamp: the stored
 * marker (`*` if none). With one: the marker moves forward only (a future time is clamped to
 * now), is persisted per account (per connection for guests), and the stored value is sent to
 * this client and to the account's other connections that negotiated the capability.
 */
export default defineCommand({
  name: 'MARKREAD',
  help: 'MARKREAD <target> [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]\nGets or sets how far you have read in a channel or private conversation (draft/read-marker).',
  run(ctx, params) {
    const { server, user } = ctx;
    const target = params[0];
    if (!target) { ctx.fail('MARKREAD', 'NEED_MORE_PARAMS', 'Missing parameters'); return; }
    const key = markerKey(ctx, target);
    // a +s/+p channel the user is not on keeps the name as typed, like a missing one (#12 finding 14)
    const name = isChannelName(target) ? server.world.visibleChannel(target, user)?.name ?? target : target;
    const reply = (t: number | undefined) => ({ tags: new Map<string, string>(), source: server.config.serverName, command: 'MARKREAD', params: [safeParam(name), markerParam(t)] });
    if (params[1] === undefined) { ctx.send(reply(getMarker(ctx, key))); return; }
    const requested = parseTimestamp(params[1]);
    if (requested === undefined) { ctx.fail('MARKREAD', 'INVALID_PARAMS', safeParam(target), 'Invalid timestamp'); return; }
    const t = Math.min(requested, server.clock.now());
    const before = getMarker(ctx, key);
    let stored: number;
    if (user.account) {
      try {
        stored = server.readMarkers.advance(user.account, key, t);
      } catch (e) {
        server.log.error({ err: e }, 'MARKREAD store failed');
        ctx.fail('MARKREAD', 'INTERNAL_ERROR', safeParam(target), 'Could not save the read marker');
        return;
      }
    } else {
      const m = ctx.session.slot(GUEST_MARKERS, () => new Map<string, number>());
      stored = Math.max(m.get(key) ?? 0, t);
      m.set(key, stored);
    }
    ctx.send(reply(stored));
    if (!user.account || (before !== undefined && stored <= before)) return; // not advanced: nothing to tell other connections
    const out = new Outgoing(reply(stored), { time: nowIso(server.clock.now()) });
    for (const u of server.world.users.values()) {
      if (u !== user && u.registered && u.account === user.account && u.link.hasCap(READ_MARKER_CAP)) u.link.deliver(out);
    }
  },
});
