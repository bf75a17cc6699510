import * as N from '../protocol/numerics.js';
import { CompiledMask } from '../protocol/mask-match.js';
import type { Channel } from '../state/channel.js';
import { defineCommand } from './registry.js';

interface Filter {
  /** channel names or masks (ELIST M), compiled once per LIST; a channel must match one when any is given */
  masks: CompiledMask[];
  /** negated masks (ELIST N); a channel matching any is dropped */
  notMasks: CompiledMask[];
  /** numeric conditions (ELIST U, C, T), all must hold */
  conds: Array<(ch: Channel, now: number) => boolean>;
}

const MINUTE = 60_000;

/**
 * Parse `LIST` parameters. Both parameters are comma lists and may hold any element kind:
 * `>n` / `<n` users (U), `C>n` / `C<n` created more / less than n minutes ago (C),
 * `T>n` / `T<n` topic set more / less than n minutes ago (T; channels without a topic never
 * match a T condition), `!mask` (N), anything else a name or mask (M). Elements that do not
 * parse (`>x`) are ignored. Masks cost a glob match per channel, so at most MAXTARGETS of
 * them are honoured; numeric conditions are cheap and all apply.
 */
function parseFilter(params: string[], maxMasks: number): Filter {
  const f: Filter = { masks: [], notMasks: [], conds: [] };
  for (const el of params.join(',').split(',')) {
    const m = /^([CT]?)([<>])(\d{1,9})$/.exec(el);
    if (m) {
      const [, kind, op, num] = m;
      const n = Number(num);
      const cmp = (v: number, limit: number): boolean => (op === '>' ? v > limit : v < limit);
      if (kind === '') f.conds.push((ch) => cmp(ch.members.size, n));
      else if (kind === 'C') f.conds.push((ch, now) => cmp(now - ch.createdAt, n * MINUTE));
      else f.conds.push((ch, now) => ch.topic !== undefined && cmp(now - ch.topic.setAt, n * MINUTE));
    } else if (/^[CT]?[<>]/.test(el) || el === '' || el === '!') {
      continue;
    } else if (f.masks.length + f.notMasks.length >= maxMasks) {
      continue;
    } else if (el.startsWith('!')) {
      f.notMasks.push(new CompiledMask(el.slice(1)));
    } else {
      f.masks.push(new CompiledMask(el));
    }
  }
  return f;
}

/**
 * LIST [<channel|mask>{,...}] [<elistcond>{,...}] — modern.ircdocs.horse#list-message, ELIST=CMNTU.
 * Secret and private channels are listed only to their members. 322's text is Ergo-style
 * `[+modes] topic` (mode letters only: key and limit values are not shown).
 */
export default defineCommand({
  name: 'LIST',
  help: 'LIST [<#channel|mask>[,...]] [<filter>[,...]]\nLists channels. Filters: >n <n (users), C>n C<n (created minutes ago), T>n T<n (topic age in minutes), mask, !mask.',
  run(ctx, params) {
    const { server, user } = ctx;
    const f = parseFilter(params.slice(0, 2), server.config.maxTargets);
    const now = server.clock.now();
    ctx.numeric(N.RPL_LISTSTART, 'Channel', 'Users  Name');
    for (const ch of server.world.channels.values()) {
      if (ch.hidden && !ch.members.has(user)) continue;
      // ch.folded is the name folded once (CompiledMask tests folded text)
      if (f.masks.length && !f.masks.some((m) => m.test(ch.folded))) continue;
      if (f.notMasks.some((m) => m.test(ch.folded))) continue;
      if (!f.conds.every((c) => c(ch, now))) continue;
      const flags = ch.modeString(false).split(' ')[0]!;
      const text = ch.topic ? `[${flags}] ${ch.topic.text}` : `[${flags}]`;
      ctx.numeric(N.RPL_LIST, ch.name, String(ch.members.size), text);
    }
    ctx.numeric(N.RPL_LISTEND, 'End of /LIST');
  },
});
