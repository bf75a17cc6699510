import { defineCommand } from './registry.js';
import { secretEquals } from './registration.js';

/** PASS <password> — checked when registration completes (464 + close on mismatch). */
export default defineCommand({
  name: 'PASS',
  minParams: 1,
  preReg: true,
  onlyPreReg: true,
  help: 'PASS <password>\nSends the server password (only when the server requires one), before NICK/USER.',
  run(ctx, [password]) {
    const want = ctx.server.config.serverPassword;
    ctx.session.passOk = want === undefined || secretEquals(password!, want);
  },
});
