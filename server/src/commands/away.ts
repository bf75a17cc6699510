import * as N from '../protocol/numerics.js';
import { clipUtf8 } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/**
 * AWAY [:<text>] — modern.ircdocs.horse#away-message. The text is clipped to AWAYLEN bytes;
 * ops.setAway emits the event that fanout turns into away-notify lines.
 */
export default defineCommand({
  name: 'AWAY',
  help: 'AWAY [:<message>]\nMarks you as away with a message; AWAY alone marks you as back.',
  run(ctx, [text]) {
    const { server, user } = ctx;
    if (text === undefined || text === '') {
      server.ops.setAway(user, undefined);
      ctx.numeric(N.RPL_UNAWAY, 'You are no longer marked as being away');
      return;
    }
    server.ops.setAway(user, clipUtf8(text, server.config.awayLen));
    ctx.numeric(N.RPL_NOWAWAY, 'You have been marked as being away');
  },
});
