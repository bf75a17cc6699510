import * as N from '../protocol/numerics.js';
import { isValidNick, safeParam } from '../protocol/validate.js';
import { defineCommand } from './registry.js';
import { tryCompleteRegistration } from './registration.js';

/** C3: `nick-change-rate` NICK changes per minute after registration (UnrealIRCd's 3/60 s). */
const NICK_WINDOW_MS = 60_000;

/** NICK <nickname> — modern.ircdocs.horse#nick-message */
export default defineCommand({
  name: 'NICK',
  preReg: true,
  // every attempt counts (a taken nick too): the point is the churn; operators are exempt, as from
  // the JOIN/INVITE/AWAY churn limits
  rate: { metric: 'nick-rate', limit: (c) => c.nickChangeRate, windowMs: () => NICK_WINDOW_MS },
  help: 'NICK <nickname>\nSets or changes your nickname.',
  run(ctx, [nick]) {
    if (nick === undefined || nick === '') { ctx.numeric(N.ERR_NONICKNAMEGIVEN, 'No nickname given'); return; }
    if (!isValidNick(nick, ctx.server.config.nickLen)) { ctx.numeric(N.ERR_ERRONEUSNICKNAME, safeParam(nick), 'Erroneous nickname'); return; }
    const { user, server } = ctx;
    if (user.registered && nick !== user.nick && !ctx.rate().take()) {
      ctx.numeric(N.ERR_NICKCHANGETOOFAST, safeParam(nick), 'Nick change too fast');
      return;
    }
    server.ops.setNick(user, nick); // 433 thrown when taken
    tryCompleteRegistration(ctx);
  },
});
