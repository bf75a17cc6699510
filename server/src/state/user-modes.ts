import type { EventSink, ModeChange } from './events.js';
import type { User } from './user.js';
import type { World } from './world.js';

/**
 * User modes a user sets on themself, and operator status (Ops.setUserModes / grantOper): the
 * counts LUSERS shows (invisible, operators) follow, and one `user-mode` event says what changed.
 */

/** Apply user mode changes a user may make on themself: +o only through grantOper, +s only for operators (#16). */
export function applyUserModes(world: World, emit: EventSink, u: User, changes: ModeChange[]): ModeChange[] {
  const applied: ModeChange[] = [];
  for (const c of changes) {
    if (c.mode === 'o' && c.adding) continue; // only OPER grants +o
    if (c.mode === 's' && c.adding && !u.isOper) continue; // #16: server notices are for operators only
    if (c.adding === u.modes.has(c.mode)) continue;
    if (c.adding) u.modes.add(c.mode); else u.modes.delete(c.mode);
    if (c.mode === 'i' && u.registered) world.invisibleCount += c.adding ? 1 : -1;
    if (c.mode === 'o') {
      // losing operator status ends the operator's class, name and server notices
      world.operCount--;
      u.operClass = undefined;
      u.operName = undefined;
      if (u.modes.delete('s')) applied.push({ adding: false, mode: 's' });
    }
    applied.push({ adding: c.adding, mode: c.mode });
  }
  if (applied.length) emit({ kind: 'user-mode', user: u, changes: applied });
  return applied;
}

/** OPER (or an --oper-dids login): the class and name; +o and its event the first time only. */
export function grantOper(world: World, emit: EventSink, u: User, name: string, cls: 'admin' | 'moderator'): void {
  const wasOper = u.isOper;
  u.operClass = cls;
  u.operName = name;
  if (wasOper) return;
  u.modes.add('o');
  world.operCount++;
  emit({ kind: 'user-mode', user: u, changes: [{ adding: true, mode: 'o' }] });
}
