import { defineCommand } from './registry.js';
import { relay, TEXT_RATE } from './messaging.js';

/** PRIVMSG <target>{,<target>} :<text> — modern.ircdocs.horse#privmsg-message */
export default defineCommand({
  name: 'PRIVMSG',
  help: 'PRIVMSG <target>[,<target>...] :<text>\nSends a message to channels (#chan, or @#chan / +#chan for ops / voiced only) or nicks.',
  rate: TEXT_RATE,
  run(ctx, [targets, text]) { return relay(ctx, 'PRIVMSG', targets ?? '', text); },
});
