import * as N from '../protocol/numerics.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/** Names joined into NOTICE lines of at most ~350 bytes (a long list never makes one over-long line). */
export function listLines(head: string, names: readonly string[]): string[] {
  const out: string[] = [];
  let line = head;
  for (const n of names) {
    const sep = line === head ? ' ' : ', ';
    if (line !== head && line.length + sep.length + n.length > 350) { out.push(line); line = `${head} ${n}`; continue; }
    line += sep + n;
  }
  out.push(line);
  return out;
}

function notice(ctx: CommandContext, text: string): void {
  ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'NOTICE', params: [ctx.user.nick, text] });
}

/**
 * REHASH — modern.ircdocs.horse#rehash-message: "force the local server to re-read and process its
 * configuration file. This may include other data, such as modules or TLS certificates." Admin
 * operators only (capability `rehash`, as Ergo's server-admin). The reply is `382 <config file>
 * :Rehashing` (RPL_REHASHING), then NOTICEs: what is now in effect, what needs a restart to take
 * effect (its old value stays in effect: config/reload.ts), the TLS certificate and anything
 * else found. A configuration with errors changes nothing: each problem is a NOTICE, then
 * `FAIL REHASH INVALID_CONFIG`. The same happens on SIGHUP (main.ts), reported in the log.
 */
export default defineCommand({
  name: 'REHASH',
  oper: 'rehash',
  help: 'REHASH\nRe-reads the configuration file (and the MOTD file and the TLS certificate). Says which changes are now in effect and which need a restart.',
  run(ctx) {
    // first: what the reload itself sends (RPL_ISUPPORT changes, server notices) comes after it
    ctx.numeric(N.RPL_REHASHING, ctx.server.configFile ?? '*', 'Rehashing');
    const r = ctx.server.rehash(ctx.user.nick);
    if (r.problems.length > 0) {
      for (const p of r.problems) notice(ctx, `*** REHASH: ${p}`);
      ctx.fail('REHASH', 'INVALID_CONFIG', `The configuration has ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}; nothing was changed`);
      return;
    }
    if (r.applied.length > 0) for (const l of listLines('*** REHASH: now in effect:', r.applied)) notice(ctx, l);
    if (r.restart.length > 0) for (const l of listLines('*** REHASH: changed but needs a restart (the old value stays in effect):', r.restart)) notice(ctx, l);
    for (const n of r.notes) notice(ctx, `*** REHASH: ${n}`);
    if (r.applied.length === 0 && r.restart.length === 0) notice(ctx, '*** REHASH: no option changed');
  },
});
