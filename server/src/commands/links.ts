import * as N from '../protocol/numerics.js';
import { maskMatch } from '../protocol/validate.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/** this server, then the servers linked with it, by name (LINKS and MAP) */
function network(ctx: CommandContext): { name: string; users: number; hops: number; id: string; via: string }[] {
  const { world, config, peerId } = ctx.server;
  const others = [...world.servers.values()].sort((a, b) => a.hops - b.hops || a.name.localeCompare(b.name));
  return [
    { name: config.serverName, users: world.registeredCount - world.remoteCount, hops: 0, id: peerId, via: config.serverName },
    ...others.map((s) => ({ name: s.name, users: s.users, hops: s.hops, id: s.id, via: s.via })),
  ];
}

/**
 * LINKS [[<remote>] <mask>] — modern.ircdocs.horse#links-message: 364 per server of the network
 * whose name matches the mask (`<server> <linked through> :<hops> <info>`), then 365.
 */
export const links = defineCommand({
  name: 'LINKS',
  help: 'LINKS [<mask>]\nLists the servers of the network (those whose name matches the mask).',
  run(ctx, params) {
    const mask = params.at(-1) ?? '*';
    for (const s of network(ctx)) {
      if (!maskMatch(mask, s.name)) continue;
      ctx.numeric(N.RPL_LINKS, s.name, s.via, `${s.hops} ${ctx.server.config.networkName} ${s.hops === 0 ? 'freeq' : 'freeq peer'}`);
    }
    ctx.numeric(N.RPL_ENDOFLINKS, mask, 'End of /LINKS list');
  },
});

/** MAP — the network as a tree (InspIRCd/UnrealIRCd style 006 lines, then 007) with users per server. */
export const map = defineCommand({
  name: 'MAP',
  help: 'MAP\nShows the servers of the network, how they are linked and how many users each has.',
  run(ctx) {
    const all = network(ctx);
    const total = Math.max(1, ctx.server.world.registeredCount);
    all.forEach((s, i) => {
      const prefix = s.hops === 0 ? '' : `${'  '.repeat(s.hops - 1)}${i === all.length - 1 ? '`-' : '|-'}`;
      ctx.numeric(N.RPL_MAP, `${prefix}${s.name} [${s.id.slice(0, 16)}] ${s.users} users (${((100 * s.users) / total).toFixed(1)}%)${s.hops > 1 ? ` via ${s.via}` : ''}`);
    });
    ctx.numeric(N.RPL_MAPEND, 'End of /MAP');
  },
});
