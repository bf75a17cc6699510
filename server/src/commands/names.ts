import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import { sendNames } from './channel-replies.js';
import { defineCommand } from './registry.js';

/**
 * NAMES [<channel>{,<channel>}] — modern.ircdocs.horse#names-message
 * sendNames hides +i users from non-members. An unknown channel gets just 366 with the name as
 * typed, as the spec asks; so does a +s/+p channel the user is not on (#12 finding 14: its 366
 * carried the channel's own spelling, which told a differently-cased query that it exists). NAMES without a parameter lists nothing and answers
 * `366 <nick> * :End of /NAMES list` (allowed by modern.ircdocs.horse; Ergo and Solanum do the
 * same): a full dump of every channel is costly and useless to clients.
 * We advertise TARGMAX NAMES:1 but accept up to MAXTARGETS names as a courtesy.
 */
export default defineCommand({
  name: 'NAMES',
  help: 'NAMES [<#channel>[,<#channel>...]]\nLists the visible members of channels.',
  run(ctx, [chans]) {
    const { server, user } = ctx;
    const list = (chans ?? '').split(',').filter(Boolean).slice(0, server.config.maxTargets);
    if (list.length === 0) { ctx.numeric(N.RPL_ENDOFNAMES, '*', 'End of /NAMES list'); return; }
    for (const name of list) {
      const ch = server.world.visibleChannel(name, user);
      if (ch) sendNames(ctx, ch);
      else ctx.numeric(N.RPL_ENDOFNAMES, safeParam(name), 'End of /NAMES list');
    }
  },
});
