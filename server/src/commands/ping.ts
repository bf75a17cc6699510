import * as N from '../protocol/numerics.js';
import { defineCommand } from './registry.js';

/** PING <token> — modern.ircdocs.horse#ping-message */
export default defineCommand({
  name: 'PING',
  preReg: true,
  help: 'PING <token>\nThe server answers PONG <server> <token>.',
  run(ctx, [token]) {
    if (token === undefined || token === '') { ctx.numeric(N.ERR_NOORIGIN, 'No origin specified'); return; }
    const srv = ctx.server.config.serverName;
    ctx.send({ tags: new Map(), source: srv, command: 'PONG', params: [srv, token] });
  },
});
