import * as N from '../protocol/numerics.js';
import { clipUtf8, safeParam } from '../protocol/validate.js';
import { Outgoing } from '../session/outgoing.js';
import { defineCommand } from './registry.js';

/**
 * KILL <nick> [:<reason>] — modern.ircdocs.horse#kill-message. Operators of either class.
 * The victim gets `:<oper mask> KILL <nick> :<reason>` and `ERROR :Killed (<oper> (<reason>))`;
 * everyone sharing a channel sees `QUIT :Killed (<oper> (<reason>))`.
 */
export default defineCommand({
  name: 'KILL',
  minParams: 1,
  oper: 'kill',
  help: 'KILL <nick> [:<reason>]\nDisconnects a user from the server.',
  run(ctx, [nick, reason]) {
    const { server, user } = ctx;
    const victim = server.world.findUser(nick!);
    if (!victim) { ctx.numeric(N.ERR_NOSUCHNICK, safeParam(nick), 'No such nick/channel'); return; }
    // a user of another server (#14) is its server's to disconnect: a KILL here would only hide it from this server
    if (victim.origin !== undefined) { ctx.numeric(N.ERR_NOPRIVILEGES, `Permission Denied- ${victim.nick} is a user of another server; ask its operators`); return; }
    const why = clipUtf8(reason || 'No reason given', server.config.kickLen);
    const text = `Killed (${user.nick} (${why}))`;
    server.log.info({ session: ctx.session.id, oper: user.nick, victim: victim.nick }, 'KILL');
    server.notices.kill(user, victim, why); // +s k (#16)
    victim.link.deliver(new Outgoing({ tags: new Map(), source: user.mask, command: 'KILL', params: [victim.nick, why] }, server.fanout.meta(user)));
    // ERROR to a local victim, then QUIT to its channels through Ops.removeUser (a remote one: its server)
    victim.link.disconnect(text);
  },
});
