import * as N from '../protocol/numerics.js';
import { MAX_BODY_BYTES } from '../protocol/limits.js';
import { relayedBytes } from '../protocol/serialize.js';
import { Outgoing } from '../session/outgoing.js';
import { defineCommand } from './registry.js';

/**
 * WALLOPS :<text> — operators only; delivered as `:<oper mask> WALLOPS :<text>` to every user
 * with user mode +w and to every operator (the sender included), one Outgoing for all.
 */
export default defineCommand({
  name: 'WALLOPS',
  minParams: 1,
  oper: 'wallops',
  help: 'WALLOPS :<text>\nSends a message to every operator and every user with user mode +w.',
  run(ctx, [text]) {
    const { server, user } = ctx;
    if (!text) { ctx.numeric(N.ERR_NEEDMOREPARAMS, 'WALLOPS', 'Not enough parameters'); return; }
    // B2: the relayed line must fit in 512 bytes; reject rather than truncate
    if (relayedBytes(user.mask, 'WALLOPS', [text]) > MAX_BODY_BYTES) {
      ctx.numeric(N.ERR_INPUTTOOLONG, 'Line too long to be relayed without truncation');
      return;
    }
    const out = new Outgoing({ tags: new Map(), source: user.mask, command: 'WALLOPS', params: [text] }, server.fanout.meta(user));
    const recipients = [...server.world.users.values()].filter((u) => u.registered && (u.isOper || u.modes.has('w')));
    server.fanout.toUsers(recipients, out);
  },
});
