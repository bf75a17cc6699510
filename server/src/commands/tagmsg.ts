import { defineCommand } from './registry.js';
import { relay, TAG_RATE } from './messaging.js';

/** TAGMSG <target> — https://ircv3.net/specs/extensions/message-tags#the-tagmsg-tag-only-message */
export default defineCommand({
  name: 'TAGMSG',
  help: 'TAGMSG <target>[,<target>...]\nSends only client tags (e.g. +typing); needs the message-tags capability to receive.',
  rate: TAG_RATE,
  run(ctx, [targets]) { return relay(ctx, 'TAGMSG', targets ?? '', undefined); },
});
