import * as N from '../protocol/numerics.js';
import { defineCommand } from './registry.js';

/** Keep 303 comfortably inside 512 bytes however many nicks are asked about. */
const MAX_REPLY_BYTES = 400;

/**
 * ISON <nick>{ <nick>} — modern.ircdocs.horse#ison-message. Nicks may come as separate
 * parameters or space-separated in one trailing parameter; online ones are returned as
 * registered (their own case).
 */
export default defineCommand({
  name: 'ISON',
  minParams: 1,
  help: 'ISON <nick> [<nick> ...]\nShows which of the given nicknames are online.',
  run(ctx, params) {
    const { world } = ctx.server;
    const online: string[] = [];
    const seen = new Set<string>();
    let len = 0;
    for (const nick of params.flatMap((p) => p.split(' '))) {
      if (!nick) continue;
      const u = world.findUser(nick);
      if (!u || seen.has(u.nickFolded)) continue;
      if (len + u.nick.length + 1 > MAX_REPLY_BYTES) break;
      seen.add(u.nickFolded);
      online.push(u.nick);
      len += u.nick.length + 1;
    }
    ctx.numeric(N.RPL_ISON, online.join(' '));
  },
});
