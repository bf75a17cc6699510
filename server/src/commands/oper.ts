import * as N from '../protocol/numerics.js';
import type { OperClass, User } from '../state/user.js';
import { defineCommand } from './registry.js';
import { secretEquals } from './registration.js';

/**
 * When each user last had an OPER password checked (hardening.md D2: one attempt per
 * `oper-attempt-interval`, default 10 s, per connection). Keyed by the User object, which lives
 * exactly as long as its connection; a WeakMap so nothing needs cleaning up.
 */
const lastAttempt = new WeakMap<User, number>();

/**
 * OPER <name> <password> — modern.ircdocs.horse#oper-message.
 *
 * Accepted credentials: a named `[[oper]]` block from the config file (its class and optional
 * vhost), or `--oper-password` with ANY name (class admin; freeq parity). Every configured secret
 * is compared, each in constant time (secretEquals), so timing tells neither which names exist
 * nor which check failed. Neither the password nor the name is ever logged (I2).
 */
export default defineCommand({
  name: 'OPER',
  minParams: 2,
  help: 'OPER <name> <password>\nBecomes an IRC operator (user mode +o). One attempt per connection every 10 seconds by default.',
  run(ctx, [name, password]) {
    const { server, user } = ctx;
    const cfg = server.config;
    if (cfg.opers.length === 0 && cfg.operPassword === undefined) {
      ctx.numeric(N.ERR_NOOPERHOST, 'No O-lines for your host');
      return;
    }
    const now = server.clock.now();
    const last = lastAttempt.get(user);
    if (last !== undefined && now - last < cfg.operAttemptInterval) {
      // D2: refused without looking at the password, so guessing costs a full interval per try
      server.log.warn({ session: ctx.session.id, nick: user.nick }, 'OPER attempt throttled');
      server.metrics.limitHit('oper-rate');
      ctx.numeric(N.ERR_PASSWDMISMATCH, 'Password incorrect');
      return;
    }
    lastAttempt.set(user, now);

    let granted: { cls: OperClass; vhost?: string } | undefined;
    for (const block of cfg.opers) {
      // no short-circuit: the compare runs for every block whatever the name
      const ok = secretEquals(password!, block.password);
      if (ok && block.name === name && !granted) granted = { cls: block.class, vhost: block.vhost };
    }
    if (cfg.operPassword !== undefined) {
      const ok = secretEquals(password!, cfg.operPassword);
      if (ok && !granted) granted = { cls: 'admin' };
    }
    if (!granted) {
      server.log.warn({ session: ctx.session.id, nick: user.nick }, 'failed OPER attempt');
      ctx.numeric(N.ERR_PASSWDMISMATCH, 'Password incorrect');
      return;
    }
    ctx.numeric(N.RPL_YOUREOPER, 'You are now an IRC operator');
    server.ops.grantOper(user, name!, granted.cls);
    if (granted.vhost) server.ops.setHost(user, user.username, granted.vhost);
    server.log.info({ session: ctx.session.id, nick: user.nick, class: granted.cls }, 'OPER granted');
  },
});
