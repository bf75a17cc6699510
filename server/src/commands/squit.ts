import * as N from '../protocol/numerics.js';
import { clipUtf8, safeParam } from '../protocol/validate.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

const notice = (ctx: CommandContext, text: string): void => ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'NOTICE', params: [ctx.user.nick, text] });

/**
 * SQUIT <server> [:<comment>] — modern.ircdocs.horse#squit-message, for federation links (#14):
 * the link closes (its users leave in a netsplit) and the peer is neither dialled nor accepted
 * until CONNECT. <server> is the peer's server name or peer id. Admin operators only.
 */
export const squit = defineCommand({
  name: 'SQUIT',
  minParams: 1,
  oper: 'routing',
  help: 'SQUIT <server> [:<comment>]\nCloses the federation link to a server and keeps it closed until CONNECT.',
  run(ctx, [server, comment]) {
    const fed = ctx.server.federation;
    const reason = clipUtf8(comment || `SQUIT by ${ctx.user.nick}`, 200);
    if (!fed || !fed.squit(server!, reason)) { ctx.numeric(N.ERR_NOSUCHSERVER, safeParam(server), 'No such server'); return; }
    ctx.server.log.info({ session: ctx.session.id, oper: ctx.user.nick, server, reason }, 'SQUIT');
    notice(ctx, `SQUIT ${server}: link closed; it stays closed until CONNECT ${server}`);
  },
});

/**
 * CONNECT <server> — modern.ircdocs.horse#connect-message: allows a peer again after SQUIT and,
 * if this server dials it (s2s-peers), dials it now. Admin operators only.
 */
export const connect = defineCommand({
  name: 'CONNECT',
  minParams: 1,
  oper: 'routing',
  help: 'CONNECT <server>\nAllows a federation peer again after SQUIT and dials it now if this server dials it (s2s-peers).',
  run(ctx, [server]) {
    const fed = ctx.server.federation;
    if (!fed || !fed.connect(server!)) { ctx.numeric(N.ERR_NOSUCHSERVER, safeParam(server), 'No such server'); return; }
    ctx.server.log.info({ session: ctx.session.id, oper: ctx.user.nick, server }, 'CONNECT');
    notice(ctx, `CONNECT ${server}: allowed again`);
  },
});
