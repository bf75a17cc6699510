import * as N from '../protocol/numerics.js';
import { defineCommand } from './registry.js';
import { targetIsUs } from './version.js';

/** INFO [<target>] — RPL_INFO lines, then RPL_ENDOFINFO. */
export default defineCommand({
  name: 'INFO',
  help: 'INFO [<server>]\nShows information about the server software.',
  run(ctx, [target]) {
    if (!targetIsUs(ctx, target)) return;
    const { config, version, startedAt } = ctx.server;
    const lines = [
      `${version}: the freeq IRC server`,
      `Server ${config.serverName} on network ${config.networkName}`,
      `Running since ${new Date(startedAt).toUTCString()}`,
      'Released under the MIT license',
    ];
    for (const l of lines) ctx.numeric(N.RPL_INFO, l);
    ctx.numeric(N.RPL_ENDOFINFO, 'End of INFO list');
  },
});
