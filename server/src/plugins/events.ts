import type { EventSink } from '../state/events.js';
import type { PluginPort } from './api.js';

/**
 * The state events plugins hear about (onJoin, onNickChange), taken from the one event stream
 * every mutation goes through (state/ops.ts → server.ts), after fan-out has sent the lines.
 * `created` is true when the joining user is the channel's only member (it was just created,
 * or was an empty persisted channel).
 */
export function pluginEventSink(plugins: PluginPort): EventSink {
  return (ev) => {
    if (ev.kind === 'join') {
      plugins.onJoin({ nick: ev.user.nick, account: ev.user.account, channel: ev.channel.name, created: ev.channel.members.size === 1 });
    } else if (ev.kind === 'nick') {
      plugins.onNickChange({ oldNick: ev.oldMask.slice(0, ev.oldMask.indexOf('!')), newNick: ev.user.nick, account: ev.user.account });
    }
  };
}
