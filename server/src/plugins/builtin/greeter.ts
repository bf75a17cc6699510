import type { JoinEvent, Plugin } from '../api.js';
import { listOption } from '../options.js';
import type { PluginDefinition } from '../registry.js';
import { foldCase } from '../../protocol/casemap.js';

const DEFAULT_MESSAGE = 'Welcome to {channel}, {nick}!';

/**
 * greeter: a NOTICE from the server to whoever joins a channel.
 *
 *   --plugin "greeter:message=Welcome to {channel}, {nick}! Read the topic first.,channels=#help|#freeq"
 *
 * (a value cannot contain a comma on the command line; use a TOML [[plugin]] table for that).
 */
export const greeter: PluginDefinition = {
  name: 'greeter',
  description: 'greet users with a NOTICE when they join a channel',
  options: {
    message: `the greeting; {nick} and {channel} are replaced (default: "${DEFAULT_MESSAGE}")`,
    channels: 'only these channels, separated by | (default: every channel)',
    to: 'user (a NOTICE to the joining user only; default) or channel (a NOTICE to the whole channel)',
  },
  validate(o) {
    const problems: string[] = [];
    if (o.message !== undefined && o.message.trim() === '') problems.push('message: must not be empty');
    if (o.to !== undefined && o.to !== 'user' && o.to !== 'channel') problems.push('to: must be user or channel');
    for (const c of listOption(o.channels)) if (!/^[#&]/.test(c)) problems.push(`channels: "${c}" is not a channel name`);
    return problems;
  },
  create(o, host): Plugin {
    const template = o.message ?? DEFAULT_MESSAGE;
    const channels = new Set(listOption(o.channels).map(foldCase));
    const toChannel = o.to === 'channel';
    return {
      name: 'greeter',
      onJoin(e: JoinEvent): void {
        if (channels.size > 0 && !channels.has(foldCase(e.channel))) return;
        const text = template.replaceAll('{nick}', e.nick).replaceAll('{channel}', e.channel);
        if (toChannel) host.noticeChannel(e.channel, text);
        else host.noticeUser(e.nick, text);
      },
    };
  },
};
