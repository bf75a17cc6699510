import * as N from '../protocol/numerics.js';
import { clipUtf8 } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/**
 * AWAY [:<text>] — modern.ircdocs.horse#away-message. The text is clipped to AWAYLEN bytes;
 * ops.setAway emits the event that fanout turns into away-notify lines.
 *
 * C3: at most `away-rate` AWAY commands per `away-rate-window` per client (UnrealIRCd's 4 / 120 s),
 * against away-notify churn (each one is relayed to everyone sharing a channel). Setting and
 * clearing both count; beyond the limit the AWAY is dropped (the status is unchanged) with
 * `263 RPL_TRYAGAIN`. Operators are exempt.
 */
export default defineCommand({
  name: 'AWAY',
  rate: { metric: 'away-rate', limit: (c) => c.awayRate, windowMs: (c) => c.awayRateWindow },
  help: 'AWAY [:<message>]\nMarks you as away with a message; AWAY alone marks you as back.',
  run(ctx, [text]) {
    const { server, user } = ctx;
    if (!ctx.rate().take()) {
      ctx.numeric(N.RPL_TRYAGAIN, 'AWAY', 'Please wait a while and try again.');
      return;
    }
    if (text === undefined || text === '') {
      server.ops.setAway(user, undefined);
      ctx.numeric(N.RPL_UNAWAY, 'You are no longer marked as being away');
      return;
    }
    server.ops.setAway(user, clipUtf8(text, server.config.awayLen));
    ctx.numeric(N.RPL_NOWAWAY, 'You have been marked as being away');
  },
});
