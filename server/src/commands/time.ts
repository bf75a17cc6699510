import * as N from '../protocol/numerics.js';
import { defineCommand } from './registry.js';
import { targetIsUs } from './version.js';

/** TIME [<server>] — `391 <nick> <server> <unix ts> :<human-readable UTC time>` (modern.ircdocs.horse#rpltime-391). */
export default defineCommand({
  name: 'TIME',
  help: 'TIME [<server>]\nShows the server\'s current time (UNIX timestamp and UTC).',
  run(ctx, [target]) {
    if (!targetIsUs(ctx, target)) return;
    const now = ctx.server.clock.now();
    ctx.numeric(N.RPL_TIME, ctx.server.config.serverName, String(Math.floor(now / 1000)), new Date(now).toUTCString());
  },
});
