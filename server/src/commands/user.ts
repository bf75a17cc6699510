import * as N from '../protocol/numerics.js';
import { clipUtf8 } from '../protocol/validate.js';
import { defineCommand } from './registry.js';
import { tryCompleteRegistration } from './registration.js';

/** USER <username> <mode> <unused> :<realname> — modern.ircdocs.horse#user-message */
export default defineCommand({
  name: 'USER',
  minParams: 4,
  preReg: true,
  onlyPreReg: true,
  help: 'USER <username> 0 * :<realname>\nSends your username and real name during registration.',
  run(ctx, [username, , , realname]) {
    // An empty parameter is a missing one (#16: an empty realname registered). modern.ircdocs.horse
    // #user-message, of <username>: "If it is empty, the server SHOULD reject the command with
    // ERR_NEEDMOREPARAMS (even if an empty parameter is provided)"; irctest testEmptyRealname
    // applies the same to `USER username * * :` (ircdocs/modern-irc#85)
    if (realname === '') { ctx.numeric(N.ERR_NEEDMOREPARAMS, 'USER', 'Not enough parameters'); return; }
    const cfg = ctx.server.config;
    // keep what is safe in a hostmask; never reject a client over its ident
    const clean = username!.replace(/[^\x21-\x7e]|[@!*?,]/g, '').slice(0, cfg.userLen);
    ctx.server.ops.setIdent(ctx.user, clean || 'user', clipUtf8(realname!, cfg.realnameLen));
    tryCompleteRegistration(ctx);
  },
});
