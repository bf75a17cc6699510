import * as N from '../protocol/numerics.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

export function sendMotd(ctx: CommandContext): void {
  const lines = ctx.server.motd();
  if (!lines) { ctx.numeric(N.ERR_NOMOTD, 'MOTD File is missing'); return; }
  ctx.numeric(N.RPL_MOTDSTART, `- ${ctx.server.config.serverName} Message of the day - `);
  for (const l of lines) ctx.numeric(N.RPL_MOTD, `- ${l}`);
  ctx.numeric(N.RPL_ENDOFMOTD, 'End of /MOTD command.');
}

/** MOTD [server] — modern.ircdocs.horse#motd-message */
export default defineCommand({
  name: 'MOTD',
  help: 'MOTD\nShows the message of the day.',
  run(ctx, [target]) {
    if (target !== undefined && target !== ctx.server.config.serverName) { ctx.numeric(N.ERR_NOSUCHSERVER, target, 'No such server'); return; }
    sendMotd(ctx);
  },
});
