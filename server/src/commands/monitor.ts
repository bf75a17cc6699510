import * as N from '../protocol/numerics.js';
import { isValidNick, safeParam } from '../protocol/validate.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/**
 * Bytes of one line before its CR LF (RFC 1459's 512). The monitor spec: "In commands and
 * numerics where multiple targets may occur, the length of the target list is limited only by
 * the buffer size of 512 chars, as defined in RFC1459."
 */
const LINE_BYTES = 510;

/**
 * `items` joined with commas into as few lists as there are lines, each at most `room` bytes
 * (an item longer than that alone on its line: never cut).
 */
function packTargets(items: readonly string[], room: number): string[] {
  const out: string[] = [];
  let cur = '';
  let bytes = 0;
  for (const it of items) {
    const b = Buffer.byteLength(it);
    if (cur !== '' && bytes + 1 + b > room) { out.push(cur); cur = ''; bytes = 0; }
    cur = cur === '' ? it : `${cur},${it}`;
    bytes += (bytes === 0 ? 0 : 1) + b;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** `<code> <nick> :<targets>` lines (730, 731, 732) holding `items`, as few as fit in 512 bytes */
function targetLines(ctx: CommandContext, code: string, items: readonly string[]): void {
  // `:<server> <code> <nick> :` — the ':' counted even where the list needs none
  const room = LINE_BYTES - Buffer.byteLength(`:${ctx.server.config.serverName} ${code} ${ctx.user.nick} :`);
  for (const list of packTargets(items, room)) ctx.numeric(code, list);
}

/** `734 <nick> <limit> <targets> :Monitor list is full.`, the targets over as many lines as they need */
function listFull(ctx: CommandContext, limit: number, targets: readonly string[]): void {
  const text = 'Monitor list is full.';
  const room = LINE_BYTES - Buffer.byteLength(`:${ctx.server.config.serverName} ${N.ERR_MONLISTFULL} ${ctx.user.nick} ${limit}  :${text}`);
  for (const list of packTargets(targets, room)) ctx.numeric(N.ERR_MONLISTFULL, String(limit), list, text);
}

/**
 * MONITOR + <targets> | - <targets> | C | L | S — IRCv3 monitor (ircv3.net/specs/extensions/monitor);
 * the lists and the notifications are session/monitor.ts. Targets are comma-separated nicks,
 * matched with CASEMAPPING (rfc1459); a target that is not a valid nick (a mask, too long) is
 * skipped ("'target' MUST be a valid nick as determined by the IRC daemon"; the spec forbids
 * hostmasks). `+` answers with 730 (online, as nick!user@host) and 731 (offline, as written)
 * for every target in it, and 734 for the targets that did not fit in `monitor-limit` (not added);
 * `-` and `C` answer nothing, as the spec says. An unknown subcommand gets
 * `FAIL MONITOR INVALID_PARAMS`, as CHATHISTORY's and UBAN's do.
 *
 * Flood control: MONITOR counts against fakelag like any command, after one free use per
 * connection (limits/fakelag.ts DEFAULT_FAKELAG_BUDGETS, Ergo's `MONITOR: 1`); one line can
 * carry about 250 targets.
 */
export default defineCommand({
  name: 'MONITOR',
  minParams: 1,
  help: 'MONITOR + <nick>[,<nick>...] | - <nick>[,<nick>...] | C | L | S\n'
    + 'Watches nicknames: 730 tells you when one comes online, 731 when it goes offline.\n'
    + '+ adds nicks (and answers whether they are online), - removes them, C clears your list,\n'
    + 'L lists it (732, 733) and S shows which are online. At most MONITOR (005) nicks: 734 beyond.',
  run(ctx, params) {
    const { server, user } = ctx;
    const monitor = server.monitor;
    const sub = params[0]!;
    switch (sub.toUpperCase()) {
      case '+': case '-': {
        const targets = params[1];
        if (targets === undefined || targets === '') { ctx.numeric(N.ERR_NEEDMOREPARAMS, 'MONITOR', 'Not enough parameters'); return; }
        const list = targets.split(',');
        if (sub === '-') { monitor.remove(user, list); return; }
        const limit = server.config.monitorLimit;
        const nickLen = server.config.nickLen;
        const r = monitor.add(user, list, limit, (t) => isValidNick(t, nickLen));
        if (r.online.length) targetLines(ctx, N.RPL_MONONLINE, r.online.map((u) => u.mask));
        if (r.offline.length) targetLines(ctx, N.RPL_MONOFFLINE, r.offline);
        if (r.full.length) listFull(ctx, limit, r.full);
        return;
      }
      case 'C': monitor.clear(user); return;
      case 'L': {
        const list = monitor.list(user);
        if (list.length) targetLines(ctx, N.RPL_MONLIST, list);
        ctx.numeric(N.RPL_ENDOFMONLIST, 'End of MONITOR list');
        return;
      }
      case 'S': {
        const s = monitor.status(user);
        if (s.online.length) targetLines(ctx, N.RPL_MONONLINE, s.online.map((u) => u.mask));
        if (s.offline.length) targetLines(ctx, N.RPL_MONOFFLINE, s.offline);
        return;
      }
      default:
        ctx.fail('MONITOR', 'INVALID_PARAMS', safeParam(sub), 'Unknown subcommand; use +, -, C, L or S');
    }
  },
});
