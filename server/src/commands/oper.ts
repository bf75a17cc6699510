import * as N from '../protocol/numerics.js';
import type { OperClass } from '../state/user.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';
import { secretEquals } from './registration.js';

/**
 * A throttled attempt is dropped without its password being checked, so it gets
 * `263 RPL_TRYAGAIN` ("When a server drops a command without processing it, it MUST use this
 * reply", modern.ircdocs.horse#rpl-tryagain-263), never 464, which says a password was checked
 * and wrong (#12 finding 17).
 */
function tryAgain(ctx: CommandContext): void {
  ctx.numeric(N.RPL_TRYAGAIN, 'OPER', 'Please wait a while and try again.');
}

/**
 * OPER <name> <password> — modern.ircdocs.horse#oper-message.
 *
 * Guessing is limited three ways, each answered 263 without the password being checked: one
 * attempt per connection per `oper-attempt-interval` (hardening.md D2), and — counting failed
 * attempts only — `oper-max-failures-per-ip` per IP key and `oper-max-failures` server-wide per
 * `oper-failure-window` (#12 finding 17; `limit-exempt` addresses are outside the server-wide
 * budget). Once a budget is spent even the right password is refused, so an attacker learns
 * nothing from attempts beyond it.
 *
 * Accepted credentials: a named `[[oper]]` block from the config file (its class and optional
 * vhost), or `--oper-password` with ANY name (class admin; freeq parity). Every configured secret
 * is compared, each in constant time (secretEquals), so timing tells neither which names exist
 * nor which check failed. Neither the password nor the name is ever logged (I2).
 */
export default defineCommand({
  name: 'OPER',
  minParams: 2,
  // hardening.md D2: one password check per connection per `oper-attempt-interval` (default 10 s);
  // refused attempts are not recorded; operators too (no exemption)
  rate: { metric: 'oper-rate', limit: () => 1, windowMs: (c) => c.operAttemptInterval, opers: true },
  help: 'OPER <name> <password>\nBecomes an IRC operator (user mode +o). One attempt per connection every 10 seconds by default; after repeated failures from your address (or from everyone) OPER answers 263 until the failures age out.',
  run(ctx, [name, password]) {
    const { server, user } = ctx;
    const cfg = server.config;
    if (cfg.opers.length === 0 && cfg.operPassword === undefined) {
      ctx.numeric(N.ERR_NOOPERHOST, 'No O-lines for your host');
      return;
    }
    if (!ctx.rate().take()) {
      // D2: refused without looking at the password, so guessing costs a full interval per try
      // debug: a client repeating OPER would fill the log; each refusal counts in the metric
      server.log.debug({ session: ctx.session.id, nick: user.nick }, 'OPER attempt throttled');
      tryAgain(ctx);
      return;
    }
    const tracker = server.operFailures;
    const spent = tracker.blocked(user.ip);
    if (spent !== undefined) {
      // logged once, when the budget fills (below); each refusal only counts in the metric
      server.log.debug({ session: ctx.session.id, nick: user.nick, budget: spent }, 'OPER attempt refused: failure budget spent');
      server.metrics.limitHit(spent === 'ip' ? 'oper-ip' : 'oper-global');
      tryAgain(ctx);
      return;
    }

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
      for (const full of tracker.failed(user.ip)) {
        server.log.warn(full === 'ip' ? { ip: user.ip, max: cfg.operMaxFailuresPerIp } : { max: cfg.operMaxFailures },
          full === 'ip' ? 'OPER failures per IP reached: OPER from this address is refused until they age out' : 'OPER failures server-wide reached: every OPER is refused until they age out');
      }
      ctx.numeric(N.ERR_PASSWDMISMATCH, 'Password incorrect');
      return;
    }
    ctx.numeric(N.RPL_YOUREOPER, 'You are now an IRC operator');
    server.ops.grantOper(user, name!, granted.cls);
    if (granted.vhost) server.ops.setHost(user, user.username, granted.vhost);
    server.log.info({ session: ctx.session.id, nick: user.nick, class: granted.cls }, 'OPER granted');
  },
});
