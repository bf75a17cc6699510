import { Outgoing } from '../session/outgoing.js';
import { defineCommand } from './registry.js';

type Level = 'off' | 'sasl-only' | 'closed';
const LEVELS: readonly Level[] = ['off', 'sasl-only', 'closed'];

const DESCRIBE: Record<Level, string> = {
  off: 'new connections are admitted normally',
  'sasl-only': 'new clients must log in with SASL to register',
  closed: 'new connections are refused except from limit-exempt addresses',
};

/**
 * LOCKDOWN [off|sasl-only|closed] — hardening.md I3, a DEFCON-style lever for an attack in
 * progress. Without a parameter it reports the level (a server NOTICE); with one it sets
 * ServerContext.runtime.lockdown, logs it and tells every operator with a server WALLOPS.
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
      const level = server.runtime.lockdown;
      notice(`Lockdown level is ${level}: ${DESCRIBE[level]}`);
      return;
    }
    const level = arg.toLowerCase() as Level;
    if (!LEVELS.includes(level)) {
      ctx.fail('LOCKDOWN', 'INVALID_PARAMS', 'Level must be off, sasl-only or closed');
      return;
    }
    const previous = server.runtime.lockdown;
    server.runtime.lockdown = level;
    server.log.warn({ oper: user.nick, account: user.account, from: previous, to: level }, 'lockdown level changed');
    const text = `LOCKDOWN: ${user.nick} set the lockdown level to ${level} (was ${previous}): ${DESCRIBE[level]}`;
    const out = new Outgoing({ tags: new Map(), source: cfg.serverName, command: 'WALLOPS', params: [text] }, server.fanout.meta());
    server.fanout.toUsers([...server.world.users.values()].filter((u) => u.registered && u.isOper), out);
  },
});
