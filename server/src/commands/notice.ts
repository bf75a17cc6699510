import { defineCommand } from './registry.js';
import { relay } from './messaging.js';

/** NOTICE <target>{,<target>} :<text> — never answered with an error. */
export default defineCommand({
  name: 'NOTICE',
  help: 'NOTICE <target>[,<target>...] :<text>\nLike PRIVMSG, but never triggers automatic replies.',
  run(ctx, [targets, text]) { return relay(ctx, 'NOTICE', targets ?? '', text); },
});
