import { SlidingWindow } from '../limits/rate.js';
import * as N from '../protocol/numerics.js';
import { isValidNick, safeParam } from '../protocol/validate.js';
import type { User } from '../state/user.js';
import { defineCommand } from './registry.js';
import { tryCompleteRegistration } from './registration.js';

/** C3: `nick-change-rate` NICK changes per minute after registration (UnrealIRCd's 3/60 s). */
const NICK_WINDOW_MS = 60_000;
const nickRates = new WeakMap<User, SlidingWindow>();

/** NICK <nickname> — modern.ircdocs.horse#nick-message */
export default defineCommand({
  name: 'NICK',
  preReg: true,
  help: 'NICK <nickname>\nSets or changes your nickname.',
  run(ctx, [nick]) {
    if (nick === undefined || nick === '') { ctx.numeric(N.ERR_NONICKNAMEGIVEN, 'No nickname given'); return; }
    if (!isValidNick(nick, ctx.server.config.nickLen)) { ctx.numeric(N.ERR_ERRONEUSNICKNAME, nick, 'Erroneous nickname'); return; }
    const { user, server } = ctx;
    // operators are exempt, as from the JOIN/INVITE/AWAY churn limits
    if (user.registered && nick !== user.nick && !user.isOper) {
      let w = nickRates.get(user);
      if (!w) { w = new SlidingWindow(server.config.nickChangeRate, NICK_WINDOW_MS); nickRates.set(user, w); }
      // every attempt counts (a taken nick too): the point is the churn
      if (!w.take(server.clock.now())) {
        server.metrics.limitHit('nick-rate');
        ctx.numeric(N.ERR_NICKCHANGETOOFAST, safeParam(nick), 'Nick change too fast');
        return;
      }
    }
    server.ops.setNick(user, nick); // 433 thrown when taken
    tryCompleteRegistration(ctx);
  },
});
