import { clipUtf8 } from '../protocol/validate.js';
import { defineCommand } from './registry.js';

/** QUIT [:<reason>] — others see "Quit: <reason>" so a user can't fake a server message. */
export default defineCommand({
  name: 'QUIT',
  preReg: true,
  help: 'QUIT [:<reason>]\nDisconnects from the server.',
  run(ctx, [reason]) {
    const r = reason ? `Quit: ${clipUtf8(reason, ctx.server.config.awayLen)}` : 'Quit';
    ctx.session.close(`Closing link: ${ctx.user.nick === '*' ? '*' : ctx.user.nick} (${r})`, r);
  },
});
