import * as N from '../protocol/numerics.js';
import { defineCommand } from './registry.js';

/**
 * USERHOST <nick>{ <nick>} — modern.ircdocs.horse#userhost-message. At most 5 nicks (TARGMAX
 * USERHOST:5); unknown nicks are left out. `*` marks an operator, `-` away, `+` here. The real
 * address is shown only for the asker themself (clients use it for DCC); others get the cloak.
 */
export default defineCommand({
  name: 'USERHOST',
  minParams: 1,
  help: 'USERHOST <nick> [<nick> ...]\nShows user@host for up to 5 nicknames.',
  run(ctx, params) {
    const { server, user: asker } = ctx;
    const nicks = params.flatMap((p) => p.split(' ')).filter((x) => x !== '').slice(0, 5);
    const out: string[] = [];
    for (const nick of nicks) {
      const u = server.world.findUser(nick);
      if (!u) continue;
      const host = u === asker ? u.ip : u.host;
      out.push(`${u.nick}${u.isOper ? '*' : ''}=${u.away !== undefined ? '-' : '+'}${u.username}@${host}`);
    }
    ctx.numeric(N.RPL_USERHOST, out.join(' '));
  },
});
