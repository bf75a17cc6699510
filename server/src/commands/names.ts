import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import { sendNames } from './channel-replies.js';
import { defineCommand } from './registry.js';

/**
 * NAMES [<channel>{,<channel>}] — modern.ircdocs.horse#names-message
 * sendNames hides +s/+p channels (only 366) and +i users from non-members. An unknown channel
 * gets just 366, as the spec asks. NAMES without a parameter lists nothing and answers
 * `366 <nick> * :End of /NAMES list` (allowed by modern.ircdocs.horse; Ergo and Solanum do the
 * same): a full dump of every channel is costly and useless to clients.
 * We advertise TARGMAX NAMES:1 but accept up to MAXTARGETS names as a courtesy.
 */
export default defineCommand({
  name: 'NAMES',
  help: 'NAMES [<#channel>[,<#channel>...]]\nLists the visible members of channels.',
  run(ctx, [chans]) {
    const { server } = ctx;
    const list = (chans ?? '').split(',').filter(Boolean).slice(0, server.config.maxTargets);
    if (list.length === 0) { ctx.numeric(N.RPL_ENDOFNAMES, '*', 'End of /NAMES list'); return; }
    for (const name of list) {
      const ch = server.world.findChannel(name);
      if (ch) sendNames(ctx, ch);
      else ctx.numeric(N.RPL_ENDOFNAMES, safeParam(name), 'End of /NAMES list');
    }
  },
});
