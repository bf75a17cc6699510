import { foldCase } from '../protocol/casemap.js';
import type { IrcMessage } from '../protocol/message.js';
import * as N from '../protocol/numerics.js';
import type { StateEvent } from '../state/events.js';
import type { User } from '../state/user.js';
import type { World } from '../state/world.js';
import { Outgoing, type OutMeta } from './outgoing.js';

/**
 * IRCv3 MONITOR (ircv3.net/specs/extensions/monitor) and extended-monitor
 * (ircv3.net/specs/extensions/extended-monitor): who watches which nick, and the notifications.
 *
 * A bus subscriber (server.ts), so it sees every user coming and going through Ops whatever
 * caused it: registration here, a peer introducing a user (`register` of a remote user), QUIT,
 * KILL, a netsplit, a nick change (also a rename after a nick collision). The MONITOR command
 * (commands/monitor.ts) only edits the lists.
 *
 * Memory is bounded by `monitor-limit`: an index folded nick → the users watching it, and per
 * watching user the set of index entries it watches (the same objects: no string per watcher).
 * An entry nobody watches any more is dropped; a watcher's list goes with its QUIT.
 */

/** One monitored nick: its folded form (CASEMAPPING=rfc1459) and who watches it. */
interface Watched {
  readonly folded: string;
  readonly by: Set<User>;
}

export interface MonitorDeps {
  world: World;
  serverName: () => string;
  /** the tags of a line about `user` (server-time, msgid, account): session/fanout.ts Fanout.meta */
  meta: (user?: User) => OutMeta;
}

/** What MONITOR + reports: online targets (their users), offline ones and those over the limit (as the client wrote them). */
export interface MonitorAdded {
  online: User[];
  offline: string[];
  full: string[];
}

/** extended-monitor: the capability a watcher needs as well for each kind of change (the spec's list) */
const NOTIFY_CAP = { away: 'away-notify', account: 'account-notify', chghost: 'chghost', setname: 'setname' } as const;

function line(source: string, command: string, params: string[]): IrcMessage {
  return { tags: new Map(), source, command, params };
}

export class Monitor {
  /** folded nick → its entry (only while someone watches it) */
  private readonly index = new Map<string, Watched>();
  /** watching user → the entries it watches (only while it watches any) */
  private readonly lists = new Map<User, Set<Watched>>();

  constructor(private readonly d: MonitorDeps) {}

  /**
   * MONITOR + (the spec: "Targets already in the list MUST NOT be added again"): each valid target
   * not yet watched is added while the list has room; the rest are `full`. A target already in
   * the list is reported again and costs nothing; invalid ones (`valid` false) are skipped.
   */
  add(u: User, targets: readonly string[], limit: number, valid: (nick: string) => boolean): MonitorAdded {
    const res: MonitorAdded = { online: [], offline: [], full: [] };
    const seen = new Set<string>();
    let list = this.lists.get(u);
    for (const t of targets) {
      if (!valid(t)) continue;
      const folded = foldCase(t);
      if (seen.has(folded)) continue;
      seen.add(folded);
      let w = this.index.get(folded);
      if (!w || !w.by.has(u)) {
        if ((list?.size ?? 0) >= limit) { res.full.push(t); continue; }
        if (!w) { w = { folded, by: new Set() }; this.index.set(folded, w); }
        w.by.add(u);
        if (!list) { list = new Set(); this.lists.set(u, list); }
        list.add(w);
      }
      const target = this.d.world.findUser(folded);
      if (target) res.online.push(target); else res.offline.push(t);
    }
    return res;
  }

  /** MONITOR - (no reply): targets not in the list are ignored */
  remove(u: User, targets: readonly string[]): void {
    const list = this.lists.get(u);
    if (!list) return;
    for (const t of targets) {
      const w = this.index.get(foldCase(t));
      if (w && list.delete(w)) this.unwatch(w, u);
    }
    if (list.size === 0) this.lists.delete(u);
  }

  /** MONITOR C, and a watcher's QUIT */
  clear(u: User): void {
    const list = this.lists.get(u);
    if (!list) return;
    for (const w of list) this.unwatch(w, u);
    this.lists.delete(u);
  }

  /** MONITOR L: each target as its user now writes it when online, else folded */
  list(u: User): string[] {
    return [...this.lists.get(u) ?? []].map((w) => this.d.world.findUser(w.folded)?.nick ?? w.folded);
  }

  /** MONITOR S: the users online, and the targets offline (folded) */
  status(u: User): { online: User[]; offline: string[] } {
    const online: User[] = [];
    const offline: string[] = [];
    for (const w of this.lists.get(u) ?? []) {
      const target = this.d.world.findUser(w.folded);
      if (target) online.push(target); else offline.push(w.folded);
    }
    return { online, offline };
  }

  /** nicks watched and users watching (tests, the benchmark) */
  get size(): { nicks: number; watchers: number } {
    return { nicks: this.index.size, watchers: this.lists.size };
  }

  /** The state-event subscriber wired in server.ts (after fan-out: a NICK line comes before its 731/730). */
  readonly onEvent = (ev: StateEvent): void => {
    switch (ev.kind) {
      case 'register': return this.online(ev.user);
      case 'quit':
        this.offline(ev.user.nick, ev.user.nickFolded);
        return this.clear(ev.user);
      case 'nick': {
        const oldNick = ev.oldMask.slice(0, ev.oldMask.indexOf('!'));
        const oldFolded = foldCase(oldNick);
        // irctest monitor.py testNickChange: a change of case only is no change of target
        if (oldFolded === ev.user.nickFolded) return;
        this.offline(oldNick, oldFolded);
        return this.online(ev.user);
      }
      case 'away': {
        const u = ev.user;
        return this.extended(u, NOTIFY_CAP.away, () => line(u.mask, 'AWAY', u.away !== undefined ? [u.away] : []));
      }
      case 'setname': {
        const u = ev.user;
        return this.extended(u, NOTIFY_CAP.setname, () => line(u.mask, 'SETNAME', [u.realname]));
      }
      case 'account': {
        const u = ev.user;
        return this.extended(u, NOTIFY_CAP.account, () => line(u.mask, 'ACCOUNT', [u.account ?? '*']));
      }
      case 'chghost': {
        const u = ev.user;
        return this.extended(u, NOTIFY_CAP.chghost, () => line(`${u.nick}!${ev.oldUsername}@${ev.oldHost}`, 'CHGHOST', [u.username, u.host]));
      }
      default: return;
    }
  };

  private unwatch(w: Watched, u: User): void {
    w.by.delete(u);
    if (w.by.size === 0) this.index.delete(w.folded);
  }

  /**
   * RPL_MONONLINE to everyone watching `u`'s nick. The spec: "The server may send "*" instead of
   * the nick (`<nick>`). (This makes it possible to send the exact same message to all clients
   * monitoring a certain target.)" — so the line is built once for all of them.
   */
  private online(u: User): void {
    const w = this.index.get(u.nickFolded);
    if (!w) return;
    const out = new Outgoing(line(this.d.serverName(), N.RPL_MONONLINE, ['*', u.mask]), this.d.meta());
    for (const x of w.by) x.link.deliver(out);
  }

  /** RPL_MONOFFLINE (`*` as above) to everyone watching `folded`; `nick` as the user wrote it */
  private offline(nick: string, folded: string): void {
    const w = this.index.get(folded);
    if (!w) return;
    const out = new Outgoing(line(this.d.serverName(), N.RPL_MONOFFLINE, ['*', nick]), this.d.meta());
    for (const x of w.by) x.link.deliver(out);
  }

  /**
   * extended-monitor: "If `away-notify` is also enabled, the client will get AWAY notifications
   * for monitored nicks" (likewise account-notify → ACCOUNT, chghost → CHGHOST, setname →
   * SETNAME), in the form those capabilities have. Watchers who share a channel with `u` had the
   * line from fan-out already (or, without the capability, nothing), and `u` its own: skipped.
   */
  private extended(u: User, cap: string, build: () => IrcMessage): void {
    const w = this.index.get(u.nickFolded);
    if (!w) return;
    let out: Outgoing | undefined;
    for (const x of w.by) {
      if (x === u || !x.link.hasCap('extended-monitor') || !x.link.hasCap(cap) || this.d.world.sharesChannel(x, u)) continue;
      x.link.deliver(out ??= new Outgoing(build(), this.d.meta(u)));
    }
  }
}
