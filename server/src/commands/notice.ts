import { defineCommand } from './registry.js';
import { relay, TEXT_RATE } from './messaging.js';

/** NOTICE <target>{,<target>} :<text> — never answered with an error. */
export default defineCommand({
  name: 'NOTICE',
  help: 'NOTICE <target>[,<target>...] :<text>\nLike PRIVMSG, but never triggers automatic replies.',
  rate: TEXT_RATE,
  run(ctx, [targets, text]) { return relay(ctx, 'NOTICE', targets ?? '', text); },
});
