import * as N from '../protocol/numerics.js';
import { defineCommand } from './registry.js';
import { targetIsUs } from './version.js';

/** ADMIN [<target>] — 256..259 from admin-location / admin-location2 / admin-email. */
export default defineCommand({
  name: 'ADMIN',
  help: 'ADMIN [<server>]\nShows who runs the server and how to contact them.',
  run(ctx, [target]) {
    if (!targetIsUs(ctx, target)) return;
    const c = ctx.server.config;
    ctx.numeric(N.RPL_ADMINME, c.serverName, 'Administrative info');
    ctx.numeric(N.RPL_ADMINLOC1, c.adminLocation);
    ctx.numeric(N.RPL_ADMINLOC2, c.adminLocation2);
    ctx.numeric(N.RPL_ADMINEMAIL, c.adminEmail);
  },
});
