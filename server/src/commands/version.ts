import * as N from '../protocol/numerics.js';
import { isupportLines } from '../protocol/isupport.js';
import { maskMatch, safeParam } from '../protocol/validate.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/**
 * The optional `<target>` of VERSION / TIME / ADMIN / INFO (modern.ircdocs.horse#version-message):
 * a server name or mask matching us, or the nick of a user (all users are on this server).
 * Anything else gets 402 ERR_NOSUCHSERVER and false.
 */
export function targetIsUs(ctx: CommandContext, target: string | undefined): boolean {
  if (target === undefined || target === '') return true;
  const { config, world } = ctx.server;
  if (maskMatch(target, config.serverName) || world.findUser(target)) return true;
  ctx.numeric(N.ERR_NOSUCHSERVER, safeParam(target), 'No such server');
  return false;
}

/** VERSION [<target>] — 351 RPL_VERSION, then RPL_ISUPPORT again (modern servers do). */
export default defineCommand({
  name: 'VERSION',
  help: 'VERSION [<server>]\nShows the server software version and the features it supports (RPL_ISUPPORT).',
  run(ctx, [target]) {
    if (!targetIsUs(ctx, target)) return;
    const { server } = ctx;
    ctx.numeric(N.RPL_VERSION, server.version, server.config.serverName, 'freeq IRC server');
    for (const line of isupportLines(server.isupport)) ctx.numeric(N.RPL_ISUPPORT, ...line, 'are supported by this server');
  },
});
