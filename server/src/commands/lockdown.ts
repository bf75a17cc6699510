import { LOCKDOWN_LEVELS, LOCKDOWN_MEANING, type LockdownLevel } from '../state/world.js';
import { defineCommand } from './registry.js';

/**
 * LOCKDOWN [off|sasl-only|closed] — hardening.md I3, a DEFCON-style lever for an attack in
 * progress. Without a parameter it reports the level (a server NOTICE); with one it sets
 * the level through Ops.setLockdown (the admin API's path too), logs it, and the `lockdown` event
 * tells every operator with a server WALLOPS.
 * Only new connections are affected: `closed` is enforced at admission (transport/admission.ts),
 * `sasl-only` when a client completes registration (commands/registration.ts).
 * Admin-class operators only (capability `lockdown`, Ergo's `defcon`).
 */
export default defineCommand({
  name: 'LOCKDOWN',
  oper: 'lockdown',
  help: 'LOCKDOWN [off|sasl-only|closed]\nShows or sets the lockdown level for new connections: off; sasl-only (clients must log in with SASL); closed (only limit-exempt addresses may connect). Existing connections are not affected.',
  run(ctx, [arg]) {
    const { server, user } = ctx;
    const cfg = server.config;
    const notice = (text: string) => ctx.send({ tags: new Map(), source: cfg.serverName, command: 'NOTICE', params: [user.nick, text] });
    if (arg === undefined || arg === '') {
      const level = server.world.lockdown;
      notice(`Lockdown level is ${level}: ${LOCKDOWN_MEANING[level]}`);
      return;
    }
    const level = arg.toLowerCase() as LockdownLevel;
    if (!LOCKDOWN_LEVELS.includes(level)) {
      ctx.fail('LOCKDOWN', 'INVALID_PARAMS', 'Level must be off, sasl-only or closed');
      return;
    }
    const previous = server.ops.setLockdown(user, level);
    server.log.warn({ oper: user.nick, account: user.account, from: previous, to: level }, 'lockdown level changed');
  },
});
