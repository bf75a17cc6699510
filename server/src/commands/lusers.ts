import * as N from '../protocol/numerics.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/** LUSERS counts the network (#14): every server linked with this one, and its users. */
export function sendLusers(ctx: CommandContext): void {
  const w = ctx.server.world;
  const users = w.registeredCount;
  const local = users - w.remoteCount;
  const invisible = w.invisibleCount;
  const unknown = w.users.size - users;
  ctx.numeric(N.RPL_LUSERCLIENT, `There are ${users - invisible} users and ${invisible} invisible on ${w.servers.size + 1} servers`);
  ctx.numeric(N.RPL_LUSEROP, String(w.operCount), 'operator(s) online');
  ctx.numeric(N.RPL_LUSERUNKNOWN, String(unknown), 'unknown connection(s)');
  ctx.numeric(N.RPL_LUSERCHANNELS, String(w.channels.size), 'channels formed');
  let direct = 0;
  for (const s of w.servers.values()) if (s.hops === 1) direct++;
  ctx.numeric(N.RPL_LUSERME, `I have ${local} clients and ${direct} servers`);
  ctx.numeric(N.RPL_LOCALUSERS, String(local), String(w.maxLocal), `Current local users ${local}, max ${w.maxLocal}`);
  ctx.numeric(N.RPL_GLOBALUSERS, String(users), String(w.maxRegistered), `Current global users ${users}, max ${w.maxRegistered}`);
}

/** LUSERS — modern.ircdocs.horse#lusers-message */
export default defineCommand({
  name: 'LUSERS',
  help: 'LUSERS\nShows how many users, operators, channels and servers the network has.',
  run(ctx) { sendLusers(ctx); },
});
