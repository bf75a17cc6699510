import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { canonicalMask } from '../protocol/validate.js';
import { LIST_REGISTER, type Channel, type ListMode } from './channel.js';
import { pruneTombstones, ZERO_STAMP } from './channel-sync.js';
import type { EventSink, ModeChange } from './events.js';
import { stampAfter, type Stamp } from './hlc.js';
import type { ChannelStore } from './store.js';
import { actorGrantor, actorSource, actorUser, type Actor } from './actor.js';
import type { World } from './world.js';

/** What a channel MODE change needs from Ops (state/ops.ts changeChannelModes, its only caller). */
export interface ModeOpsContext {
  world: World;
  store: ChannelStore;
  emit: EventSink;
  maxListEntries: number;
  /** the time of this change (ms) */
  now: number;
  /** a fresh HLC stamp for each register or entry changed */
  stamp(): Stamp;
}

/**
 * Channel mode changes by `actor` on `ch` (Ops.changeChannelModes): +o/+v on members (a logged-in
 * target's +o/-o is also a persisted DID op, with a `did-op` event), the +b/+e/+I lists, +k, +l
 * and the flag modes, each change stamped (#13); persisted, then one `channel-mode` event with
 * the changes that took effect.
 */
export function applyChannelModes(ctx: ModeOpsContext, actor: Actor, ch: Channel, changes: ModeChange[], onError: (e: ReplyError) => void): ModeChange[] {
    // a user needs +o; a server or an operator (API) acts on its own authority
    const by = actorUser(actor);
    if (by && !ch.isOp(by)) throw new ReplyError(N.ERR_CHANOPRIVSNEEDED, [ch.name], "You're not channel operator");
    const source = actorSource(actor);
    const grantor = actorGrantor(actor);
    const applied: ModeChange[] = [];
    let dirty = false;
    const now = ctx.now;
    for (const c of changes) {
      const m = c.mode;
      if (m === 'o' || m === 'v') {
        const target = ctx.world.findUser(c.param!);
        if (!target) { onError(new ReplyError(N.ERR_NOSUCHNICK, [c.param!], 'No such nick/channel')); continue; }
        const mem = ch.members.get(target);
        if (!mem) { onError(new ReplyError(N.ERR_USERNOTINCHANNEL, [target.nick, ch.name], "They aren't on that channel")); continue; }
        if (m === 'o' && !c.adding && ch.isFounder(target) && by && !ch.isFounder(by)) {
          onError(new ReplyError(N.ERR_ISCHANSERVICE, [target.nick, ch.name], 'Cannot kick or deop the channel founder'));
          continue;
        }
        const changed = c.adding ? mem.add(m) : mem.remove(m);
        // +o/-o on a logged-in user grants/revokes a persisted DID op (the founder needs none)
        const tdid = target.account;
        if (m === 'o' && tdid !== undefined && !ch.isFounder(target)) {
          if (c.adding && !ch.didOps.has(tdid)) {
            const grant = { by: grantor, at: now, stamp: ctx.stamp() };
            ch.didOps.set(tdid, grant);
            ch.stamps.didops = grant.stamp;
            dirty = true;
            ctx.store.addDidOp(ch, tdid, grant);
            ctx.emit({ kind: 'did-op', channel: ch, did: tdid, adding: true, by: grant.by });
          } else if (!c.adding && ch.didOps.delete(tdid)) {
            ch.stamps.didops = ctx.stamp();
            dirty = true;
            ctx.store.removeDidOp(ch, tdid);
            ctx.emit({ kind: 'did-op', channel: ch, did: tdid, adding: false, by: grantor });
          }
        }
        if (changed) applied.push({ adding: c.adding, mode: m, param: target.nick });
      } else if (m === 'b' || m === 'e' || m === 'I') {
        const list = ch.lists[m];
        const mask = canonicalMask(c.param!);
        // a mask is echoed as a middle parameter (367/348/346): no spaces, no leading ':'
        if (/\s/.test(mask) || mask.startsWith(':')) { onError(new ReplyError(N.ERR_INVALIDMODEPARAM, [ch.name, m, '*'], 'Invalid mask')); continue; }
        const idx = list.indexOf(mask);
        const stamp = ctx.stamp();
        if (c.adding) {
          if (idx !== -1) continue;
          if (list.length >= ctx.maxListEntries) { onError(new ReplyError(N.ERR_BANLISTFULL, [ch.name, m], 'Channel list is full')); continue; }
          // a peer's addition older than a removal of the same mask known here: the removal stands (#14)
          const tomb = ch.removed[m].get(mask);
          if (tomb && stampAfter(tomb, stamp)) continue;
          const entry = { mask, setBy: source, setAt: now, stamp };
          list.add(entry);
          ch.stamps[LIST_REGISTER[m]] = entry.stamp;
          dirty = true;
          ctx.store.addListEntry(ch, m, entry);
          if (tomb) { ch.removed[m].delete(mask); ctx.store.removeListTombstone(ch, m, mask); }
          applied.push({ adding: true, mode: m, param: mask });
        } else {
          if (idx === -1) continue;
          // a peer's removal older than the entry's addition here: the addition stands
          if (stampAfter(list.entries[idx]!.stamp ?? ZERO_STAMP, stamp)) continue;
          const removed = list.removeAt(idx);
          ch.stamps[LIST_REGISTER[m]] = stamp;
          dirty = true;
          ctx.store.removeListEntry(ch, m, removed.mask);
          // its tombstone: a peer that still has the entry from before drops it when the lists merge
          ch.removed[m].set(removed.mask, stamp);
          ctx.store.setListTombstone(ch, m, removed.mask, stamp);
          const dropped: { mode: ListMode; mask: string }[] = [];
          pruneTombstones(ch, m, dropped);
          for (const t of dropped) ctx.store.removeListTombstone(ch, t.mode, t.mask);
          // echo the entry as stored, so clients can drop it from their copy of the list
          applied.push({ adding: false, mode: m, param: removed.mask });
        }
      } else if (m === 'k') {
        if (c.adding) {
          const key = c.param!;
          // no spaces/commas/colon-start: a key must survive as a JOIN parameter
          if (!/^[^\s,:][^\s,]{0,31}$/.test(key)) { onError(new ReplyError(N.ERR_INVALIDKEY, [ch.name], 'Key is not well-formed')); continue; }
          if (ch.modes.k === key) continue;
          ch.modes.k = key;
          ch.stamps.key = ctx.stamp();
          applied.push({ adding: true, mode: 'k', param: key });
        } else {
          if (ch.modes.k === undefined) continue;
          ch.modes.k = undefined;
          ch.stamps.key = ctx.stamp();
          applied.push({ adding: false, mode: 'k', param: '*' });
        }
        dirty = true;
      } else if (m === 'l') {
        if (c.adding) {
          const n = /^\d{1,9}$/.test(c.param!) ? Number(c.param) : 0;
          if (n <= 0) { onError(new ReplyError(N.ERR_INVALIDMODEPARAM, [ch.name, 'l', c.param!], 'Invalid limit: must be a positive integer')); continue; }
          if (ch.modes.l === n) continue;
          ch.modes.l = n;
          ch.stamps.limit = ctx.stamp();
          applied.push({ adding: true, mode: 'l', param: String(n) });
        } else {
          if (ch.modes.l === undefined) continue;
          ch.modes.l = undefined;
          ch.stamps.limit = ctx.stamp();
          applied.push({ adding: false, mode: 'l' });
        }
        dirty = true;
      } else {
        const f = m as 'i' | 'm' | 'n' | 'p' | 's' | 't';
        if (ch.modes[f] === c.adding) continue;
        ch.modes[f] = c.adding;
        ch.stamps.modes = ctx.stamp();
        applied.push({ adding: c.adding, mode: m });
        dirty = true;
      }
    }
    if (dirty) ctx.store.saveChannel(ch);
    if (applied.length) ctx.emit({ kind: 'channel-mode', source, actor, channel: ch, changes: applied });
    return applied;
}
