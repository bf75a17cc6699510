import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { isChannelName, safeParam } from '../protocol/validate.js';
import type { Channel, ListMode } from '../state/channel.js';
import { parseChannelModes, parseUserModes, userModeString } from '../state/modes.js';
import { changeSnomask } from '../session/server-notices.js';
import type { ModeChange } from '../state/events.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/** list mode → [entry numeric, end numeric, end text] (modern.ircdocs.horse) */
const LIST_REPLIES: Record<ListMode, [string, string, string]> = {
  b: [N.RPL_BANLIST, N.RPL_ENDOFBANLIST, 'End of channel ban list'],
  e: [N.RPL_EXCEPTLIST, N.RPL_ENDOFEXCEPTLIST, 'End of channel exception list'],
  I: [N.RPL_INVITELIST, N.RPL_ENDOFINVITELIST, 'End of channel invite list'],
};

const PARAM_MODE_NAMES: Record<string, string> = { o: 'op', v: 'voice', k: 'key', l: 'limit', b: 'ban', e: 'ban exception', I: 'invite exception' };

/** A refusal from ops, with echoed user input made safe for a middle parameter. */
function replyError(ctx: CommandContext, e: ReplyError): void {
  ctx.numeric(e.code, ...e.params.map((p) => safeParam(p)), e.text);
}

/**
 * MODE <target> [<modestring> [<mode arguments>...]] — modern.ircdocs.horse#mode-message
 *
 * Decisions where the spec is loose:
 * - a change by a non-member or non-op is 482 (ops decides; federation obeys the same rule);
 *   list queries (`MODE #c b`) never need op.
 * - a parameter mode without its parameter (`+k`, `+o`, `-v`, `+l`) answers 696 and the rest
 *   of the line still applies.
 * - 324 shows the key to members only (`*` for everyone else); the limit is public.
 * - a +s/+p channel is answered to a non-member exactly as a missing one: `403 <name as typed>`,
 *   for a query, a change or a list (#12 finding 14). b/e/I lists of other channels are public.
 * - +s and +p may coexist (as on Ergo, InspIRCd, Charybdis).
 * - identity (ops.changeChannelModes): +o/-o on a logged-in user also grants/revokes a DID op
 *   (persisted; +o again on every join); -o on the channel founder by anyone but the founder is
 *   refused with 484 ERR_ISCHANSERVICE; `+b did:…` bans an identity exactly (also +e/+I).
 */
export default defineCommand({
  name: 'MODE',
  minParams: 1,
  help: 'MODE <nick|#channel> [<+|-modes> [<params>...]]\nShows or changes user modes (iwB, -o; operators: +s [<snomask>] for server notices, e.g. MODE me +s +cq) or channel modes (beIklovimnpst).',
  run(ctx, [target, modestr, ...params]) {
    if (isChannelName(target!)) channelMode(ctx, target!, modestr, params);
    else userMode(ctx, target!, modestr, params);
  },
});

function userMode(ctx: CommandContext, target: string, modestr: string | undefined, params: string[]): void {
  const { server, user } = ctx;
  const who = server.world.findUser(target);
  if (!who) throw new ReplyError(N.ERR_NOSUCHNICK, [safeParam(target)], 'No such nick/channel');
  if (who !== user) {
    throw new ReplyError(N.ERR_USERSDONTMATCH, [], modestr === undefined ? "Can't view modes for other users" : "Can't change mode for other users");
  }
  if (modestr === undefined) {
    ctx.numeric(N.RPL_UMODEIS, userModeString(user.modes));
    const mask = server.notices.maskOf(user);
    if (mask !== undefined) ctx.numeric(N.RPL_SNOMASKIS, `+${mask}`, 'Server notice mask');
    return;
  }
  const parsed = parseUserModes(modestr, params);
  // the known letters still apply; the change echoes as `:nick MODE nick +...` via fan-out
  const { changes, snomask, unknown } = snomaskChanges(ctx, parsed.changes);
  server.ops.setUserModes(user, changes);
  if (snomask !== undefined) {
    const on = user.modes.has('s');
    server.notices.setMask(user, on ? snomask : '');
    if (on) ctx.numeric(N.RPL_SNOMASKIS, `+${snomask}`, 'Server notice mask');
  }
  if (parsed.unknown || unknown) ctx.numeric(N.ERR_UMODEUNKNOWNFLAG, 'Unknown MODE flag');
}

/**
 * User mode +s with its server notice mask (#16, session/server-notices.ts): `+s` alone is every
 * letter (`+s *`), `+s +cq` / `+s cq` adds letters, `+s -q` removes them (an empty mask is -s),
 * `-s` ends them. Operators only: anyone else gets 481 and nothing changes (Ops refuses it too).
 * Ops sees the letter alone (the echo is `MODE nick +s`); 008 RPL_SNOMASKIS tells the mask.
 */
function snomaskChanges(ctx: CommandContext, parsed: ModeChange[]): { changes: ModeChange[]; snomask?: string; unknown: boolean } {
  const { server, user } = ctx;
  const changes: ModeChange[] = [];
  let snomask: string | undefined;
  let unknown = false;
  for (const c of parsed) {
    if (c.mode !== 's') { changes.push(c); continue; }
    if (!c.adding) { snomask = ''; changes.push({ adding: false, mode: 's' }); continue; }
    if (!user.isOper) { ctx.numeric(N.ERR_NOPRIVILEGES, 'Permission Denied- Only operators may set user mode s'); continue; }
    const r = changeSnomask(snomask ?? server.notices.maskOf(user) ?? '', c.param ?? '*');
    if (r.unknown.length > 0) unknown = true;
    snomask = r.mask;
    changes.push({ adding: r.mask !== '', mode: 's' });
  }
  return { changes, ...(snomask !== undefined ? { snomask } : {}), unknown };
}

function channelMode(ctx: CommandContext, name: string, modestr: string | undefined, params: string[]): void {
  const { server, user } = ctx;
  const ch = server.world.visibleChannel(name, user);
  if (!ch) throw new ReplyError(N.ERR_NOSUCHCHANNEL, [safeParam(name)], 'No such channel');
  const isMember = ch.members.has(user);
  if (modestr === undefined) {
    ctx.numeric(N.RPL_CHANNELMODEIS, ch.name, ...ch.modeString(isMember).split(' '));
    ctx.numeric(N.RPL_CREATIONTIME, ch.name, String(Math.floor(ch.createdAt / 1000)));
    return;
  }
  const parsed = parseChannelModes(modestr, params, server.config.maxModes);
  for (const c of parsed.unknown) ctx.numeric(N.ERR_UNKNOWNMODE, c, 'is unknown mode char to me');
  for (const c of parsed.missingParam) {
    ctx.numeric(N.ERR_INVALIDMODEPARAM, ch.name, c, '*', `You must specify a parameter for the ${PARAM_MODE_NAMES[c] ?? c} mode`);
  }
  if (parsed.changes.length > 0) {
    try {
      server.ops.changeChannelModes(user, ch, parsed.changes, (e) => replyError(ctx, e));
    } catch (e) {
      if (!(e instanceof ReplyError)) throw e;
      replyError(ctx, e);
    }
  }
  for (const m of parsed.listQueries) sendList(ctx, ch, m as ListMode);
}

function sendList(ctx: CommandContext, ch: Channel, mode: ListMode): void {
  const [item, end, text] = LIST_REPLIES[mode];
  for (const e of ch.lists[mode].entries) ctx.numeric(item, ch.name, e.mask, e.setBy, String(Math.floor(e.setAt / 1000)));
  ctx.numeric(end, ch.name, text);
}
