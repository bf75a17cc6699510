import * as N from '../protocol/numerics.js';
import { isValidNick } from '../protocol/validate.js';
import { defineCommand } from './registry.js';
import { tryCompleteRegistration } from './registration.js';

/** NICK <nickname> — modern.ircdocs.horse#nick-message */
export default defineCommand({
  name: 'NICK',
  preReg: true,
  help: 'NICK <nickname>\nSets or changes your nickname.',
  run(ctx, [nick]) {
    if (nick === undefined || nick === '') { ctx.numeric(N.ERR_NONICKNAMEGIVEN, 'No nickname given'); return; }
    if (!isValidNick(nick, ctx.server.config.nickLen)) { ctx.numeric(N.ERR_ERRONEUSNICKNAME, nick, 'Erroneous nickname'); return; }
    ctx.server.ops.setNick(ctx.user, nick); // 433 thrown when taken
    tryCompleteRegistration(ctx);
  },
});
