import * as N from '../protocol/numerics.js';
import { foldCase } from '../protocol/casemap.js';
import { CompiledMask } from '../protocol/mask-match.js';
import { isChannelName, safeParam } from '../protocol/validate.js';
import type { Channel } from '../state/channel.js';
import type { User } from '../state/user.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/** Only server operators and the user themself may see a user's real address. */
export function canSeeRealIp(asker: User, target: User): boolean {
  return asker === target || asker.isOper;
}

/** An IP as a middle parameter: `::1` would start with ':' (Ergo prefixes '0' the same way). */
export function ipParam(ip: string): string {
  return ip.startsWith(':') ? `0${ip}` : ip;
}

/**
 * Whether `asker` may learn that `target` exists through a WHO listing: +i users are listed only
 * to people sharing a channel with them (and to themself and opers).
 */
function visibleInMaskWho(asker: User, target: User, world: CommandContext['server']['world']): boolean {
  if (asker === target || asker.isOper || !target.modes.has('i')) return true;
  return world.sharesChannel(asker, target);
}

/** `H|G`, `*` for opers, channel prefix(es), `B` for bots (IRCv3 bot-mode, BOT=B). */
export function whoFlags(u: User, ch: Channel | undefined, multiPrefix: boolean): string {
  let f = u.away !== undefined ? 'G' : 'H';
  if (u.isOper) f += '*';
  if (ch) f += ch.members.get(u)?.prefix(multiPrefix) ?? '';
  if (u.isBot) f += 'B';
  return f;
}

/** WHOX field letters in the order the spec fixes for RPL_WHOSPCRPL. */
const WHOX_ORDER = 'tcuihsnfdlaor';

interface WhoQuery {
  /** requested WHOX fields, or undefined for a classic 352 reply */
  fields?: Set<string>;
  token: string;
  opersOnly: boolean;
}

function parseOptions(opt: string | undefined): WhoQuery {
  if (opt === undefined) return { token: '0', opersOnly: false };
  const pct = opt.indexOf('%');
  const flags = pct === -1 ? opt : opt.slice(0, pct);
  const q: WhoQuery = { token: '0', opersOnly: flags.includes('o') };
  if (pct !== -1) {
    const [fields = '', token] = opt.slice(pct + 1).split(',', 2);
    q.fields = new Set([...fields].filter((c) => WHOX_ORDER.includes(c)));
    // spec: the token is at most 3 digits
    if (token !== undefined && /^\d{1,3}$/.test(token)) q.token = token;
  }
  return q;
}

function reply(ctx: CommandContext, q: WhoQuery, u: User, ch: Channel | undefined): void {
  const { server, user: asker } = ctx;
  const multi = ctx.session.hasCap('multi-prefix');
  const flags = whoFlags(u, ch, multi);
  const serverName = server.config.serverName;
  if (!q.fields) {
    ctx.numeric(N.RPL_WHOREPLY, ch?.name ?? '*', u.username, u.host, serverName, u.nick, flags, `0 ${u.realname}`);
    return;
  }
  const out: string[] = [];
  for (const f of WHOX_ORDER) {
    if (!q.fields.has(f)) continue;
    switch (f) {
      case 't': out.push(q.token); break;
      case 'c': out.push(ch?.name ?? '*'); break;
      case 'u': out.push(u.username); break;
      case 'i': out.push(canSeeRealIp(asker, u) ? ipParam(u.ip) : '255.255.255.255'); break;
      case 'h': out.push(u.host); break;
      case 's': out.push(serverName); break;
      case 'n': out.push(u.nick); break;
      case 'f': out.push(flags); break;
      case 'd': out.push('0'); break;
      case 'l': out.push(String(Math.max(0, Math.floor((server.clock.now() - u.lastSpokeAt) / 1000)))); break;
      case 'a': out.push(u.account ?? '0'); break;
      case 'o': out.push(ch?.isOp(u) ? '999' : 'n/a'); break; // no op levels: Solanum's placeholders
      case 'r': out.push(u.realname); break;
    }
  }
  // realname (always last when present) may be empty or contain spaces: it is the trailing param
  if (!q.fields.has('r')) {
    ctx.numeric(N.RPL_WHOSPCRPL, ...out);
  } else {
    const realname = out.pop()!;
    ctx.numeric(N.RPL_WHOSPCRPL, ...out, realname);
  }
}

/**
 * WHO <mask|#channel> [o][%<fields>[,<token>]] — modern.ircdocs.horse#who-message, IRCv3 WHOX.
 * A mask without wildcards that is a nick answers that one user; any other mask lists the users
 * it matches that are visible to the asker (not +i, or sharing a channel).
 * Never shows a real address except to opers and the user themself (WHOX `i`).
 */
export default defineCommand({
  name: 'WHO',
  help: 'WHO <mask|#channel> [o][%<fields>[,<token>]]\nLists users matching a mask or on a channel. "o" lists only operators; %fields requests WHOX replies (fields tcuihsnfdlaor).',
  run(ctx, [rawMask, opt]) {
    const { server, user: asker } = ctx;
    const world = server.world;
    const q = parseOptions(opt);
    const mask = rawMask === undefined || rawMask === '' || rawMask === '0' ? '*' : rawMask;
    const wanted = (u: User): boolean => !q.opersOnly || u.isOper;

    if (isChannelName(mask)) {
      const ch = world.findChannel(mask);
      if (ch) {
        const isMember = ch.members.has(asker);
        const all = isMember || asker.isOper;
        if (all || !ch.hidden) {
          for (const u of ch.members.keys()) {
            if (!all && u.modes.has('i')) continue;
            if (wanted(u)) reply(ctx, q, u, ch);
          }
        }
      }
    } else if (!/[*?]/.test(mask) && world.findUser(mask)?.registered) {
      // modern.ircdocs.horse#who-message: "An exact nickname, in which case a single user is
      // returned" — +i or not, shared channel or not (the nick is known: WHOIS shows it too)
      const u = world.findUser(mask)!;
      if (wanted(u)) reply(ctx, q, u, undefined);
    } else {
      // "A mask pattern, in which case all visible users whose nickname matches are listed …
      // Visible users are users who either aren't invisible (user mode +i) or have a common
      // channel with the requesting client" (modern.ircdocs.horse#who-message)
      // compiled once per WHO; each candidate field is folded once (CompiledMask tests folded text)
      const m = new CompiledMask(mask);
      for (const u of world.users.values()) {
        if (!u.registered || !wanted(u) || !visibleInMaskWho(asker, u, world)) continue;
        const hit = m.test(u.nickFolded) || m.test(foldCase(u.username)) || m.test(foldCase(u.host))
          || m.test(foldCase(u.realname)) || m.test(foldCase(u.mask))
          // matching on the real address would let anyone probe for it
          || (canSeeRealIp(asker, u) && m.test(foldCase(u.ip)));
        if (hit) reply(ctx, q, u, undefined);
      }
    }
    ctx.numeric(N.RPL_ENDOFWHO, safeParam(rawMask === undefined || rawMask === '' ? '*' : rawMask), 'End of WHO list');
  },
});
