import { foldCase } from '../protocol/casemap.js';
import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/**
 * WHOWAS <nick>[,<nick>...] [<count> [<server>]] — modern.ircdocs.horse#whowas-message.
 * History is world.whowas (filled by ops on nick change and quit), answered newest first;
 * a non-positive or missing count means every entry.
 */
export default defineCommand({
  name: 'WHOWAS',
  help: 'WHOWAS <nick> [<count>]\nShows who recently used a nickname, newest first.',
  run(ctx, [nicks, countParam]) {
    const { server } = ctx;
    const cfg = server.config;
    const list = (nicks ?? '').split(',').filter((x) => x !== '');
    if (list.length === 0) { ctx.numeric(N.ERR_NONICKNAMEGIVEN, 'No nickname given'); return; }
    const n = countParam !== undefined && /^-?\d{1,9}$/.test(countParam) ? Number(countParam) : 0;
    const max = n > 0 ? n : Infinity;
    const history = server.world.whowas;
    for (const nick of list.slice(0, cfg.maxTargets)) {
      const folded = foldCase(nick);
      let found = 0;
      for (let i = history.length - 1; i >= 0 && found < max; i--) {
        const e = history[i]!;
        if (foldCase(e.nick) !== folded) continue;
        found++;
        ctx.numeric(N.RPL_WHOWASUSER, e.nick, e.username, e.host, '*', e.realname);
        ctx.numeric(N.RPL_WHOISSERVER, e.nick, cfg.serverName, new Date(e.at).toUTCString());
      }
      if (found === 0) ctx.numeric(N.ERR_WASNOSUCHNICK, safeParam(nick), 'There was no such nickname');
      ctx.numeric(N.RPL_ENDOFWHOWAS, safeParam(nick), 'End of WHOWAS');
    }
  },
});
