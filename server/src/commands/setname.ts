import { defineCommand } from './registry.js';

/**
 * SETNAME :<realname> — IRCv3 setname. Usable with or without the cap (the spec requires it);
 * the confirming SETNAME goes to the sender and to neighbours that negotiated `setname`
 * (fanout), so a client without the cap gets no reply on success. Too long or empty → FAIL.
 */
export default defineCommand({
  name: 'SETNAME',
  minParams: 1,
  help: 'SETNAME :<realname>\nChanges your real name.',
  run(ctx, [realname]) {
    const { server, user } = ctx;
    if (!realname || Buffer.byteLength(realname) > server.config.realnameLen) {
      ctx.fail('SETNAME', 'INVALID_REALNAME', 'Realname is not valid');
      return;
    }
    server.ops.setRealname(user, realname);
  },
});
