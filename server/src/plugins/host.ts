import { clipUtf8 } from '../protocol/validate.js';
import type { Fanout } from '../session/fanout.js';
import { Outgoing } from '../session/outgoing.js';
import type { World } from '../state/world.js';
import type { PluginOutput } from './manager.js';

export interface PluginOutputDeps {
  world: World;
  fanout: Fanout;
  serverName: () => string;
}

/** CR/LF/NUL become spaces; long texts are clipped at a UTF-8 boundary (never a broken line) */
function clean(text: string): string {
  return clipUtf8(String(text).replace(/[\r\n\0]+/g, ' '), 400);
}

/**
 * What plugins say, as server NOTICEs. Delivery is deferred to the next turn of the event loop:
 * a hook runs in the middle of a command (JOIN, PRIVMSG, SASL), so its output follows that
 * command's own replies (the greeting comes after the JOIN and NAMES) and never lands inside
 * another client's labeled-response batch. A nick or channel that is gone by then is skipped.
 */
export function pluginOutput(d: PluginOutputDeps): PluginOutput {
  const m = (target: string, text: string) => ({ tags: new Map<string, string>(), source: d.serverName(), command: 'NOTICE', params: [target, text] });
  return {
    noticeUser(nick, text) {
      const body = clean(text);
      setImmediate(() => {
        const u = d.world.findUser(nick);
        if (!u || !u.registered) return;
        u.link.deliver(new Outgoing(m(u.nick, body), d.fanout.meta()));
      });
    },
    noticeChannel(channel, text) {
      const body = clean(text);
      setImmediate(() => {
        const ch = d.world.findChannel(channel);
        if (!ch) return;
        d.fanout.toChannel(ch, new Outgoing(m(ch.name, body), d.fanout.meta()));
      });
    },
  };
}
