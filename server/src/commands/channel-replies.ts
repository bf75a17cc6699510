import * as N from '../protocol/numerics.js';
import type { Channel } from '../state/channel.js';
import type { CommandContext } from './context.js';

/** 332 + 333, or 331 when asked explicitly and there is no topic. */
export function sendTopic(ctx: CommandContext, ch: Channel, explicit: boolean): void {
  if (!ch.topic) {
    if (explicit) ctx.numeric(N.RPL_NOTOPIC, ch.name, 'No topic is set');
    return;
  }
  ctx.numeric(N.RPL_TOPIC, ch.name, ch.topic.text);
  ctx.numeric(N.RPL_TOPICWHOTIME, ch.name, ch.topic.setBy, String(Math.floor(ch.topic.setAt / 1000)));
}

/** 353 lines (multi-prefix, userhost-in-names aware) + 366. Invisible users hidden from outsiders. */
export function sendNames(ctx: CommandContext, ch: Channel): void {
  const me = ctx.user;
  const isMember = ch.members.has(me);
  const multi = ctx.session.hasCap('multi-prefix');
  const uhnames = ctx.session.hasCap('userhost-in-names');
  // server operators see +s/+p channels' members, as WHO shows them (state/world.ts visibleChannel)
  if (isMember || !ch.hidden || me.isOper) {
    const symbol = ch.modes.s ? '@' : ch.modes.p ? '*' : '=';
    const names: string[] = [];
    for (const [u, mem] of ch.members) {
      if (!isMember && u.modes.has('i')) continue;
      names.push(mem.prefix(multi) + (uhnames ? u.mask : u.nick));
    }
    // keep each 353 line comfortably under 512 bytes (bytes, not UTF-16 units: names may be UTF-8)
    const head = Buffer.byteLength(`:${ctx.server.config.serverName} 353 ${me.nick} ${symbol} ${ch.name} :`);
    let cur: string[] = [];
    let len = head;
    for (const n of names) {
      const nLen = Buffer.byteLength(n);
      if (cur.length && len + nLen + 1 > 500) {
        ctx.numeric(N.RPL_NAMREPLY, symbol, ch.name, cur.join(' '));
        cur = []; len = head;
      }
      cur.push(n); len += nLen + 1;
    }
    if (cur.length) ctx.numeric(N.RPL_NAMREPLY, symbol, ch.name, cur.join(' '));
  }
  ctx.numeric(N.RPL_ENDOFNAMES, ch.name, 'End of /NAMES list');
}
