import type { IrcMessage } from '../protocol/message.js';
import type { Actor } from '../state/actor.js';
import type { StateEvent } from '../state/events.js';
import type { User } from '../state/user.js';
import { Outgoing, type OutMeta } from './outgoing.js';

/**
 * Server notices (#16): user mode `+s` with a notice mask (snomask) of letters, for operators only,
 * as on InspIRCd, Ergo and solanum (`MODE me +s +cq`, `MODE me +s -q`, `MODE me +s *`; `+s` alone:
 * every letter). The letters follow Ergo's (ergo:irc/sno/constants.go) where it has one:
 */
export const SNOMASKS = {
  a: 'ANNOUNCE', // REHASH and SIGHUP reloads
  c: 'CONNECT', // a client finished registration: nick, user@host, real IP, transport, realname
  f: 'FLOOD', // a client disconnected for flooding: SendQ exceeded, input queue, registration lines
  k: 'KILL', // KILL
  l: 'LOCKDOWN', // lockdown level changes (LOCKDOWN, the admin API)
  o: 'OPER', // someone became an operator (OPER, oper-dids)
  q: 'QUIT', // a client left: nick, user@host, real IP, reason
  r: 'REFUSED', // connections refused: per-IP limit, throttle, server full, lockdown, bans, require-sasl
  x: 'BAN', // UBAN added or removed
} as const;

export type SnoLetter = keyof typeof SNOMASKS;
export const ALL_SNOMASKS = Object.keys(SNOMASKS).sort().join('');

/**
 * A snomask change as written after `+s`: `+cq` / `cq` add, `-q` removes, `*` is every letter;
 * signs may mix (`+c-q`). Returns the new mask (sorted) and the letters that are not snomasks.
 */
export function changeSnomask(current: string, change: string): { mask: string; unknown: string[] } {
  const set = new Set(current);
  const unknown: string[] = [];
  let adding = true;
  for (const c of change) {
    if (c === '+' || c === '-') { adding = c === '+'; continue; }
    const letters = c === '*' ? [...ALL_SNOMASKS] : c in SNOMASKS ? [c] : undefined;
    if (!letters) { if (!unknown.includes(c)) unknown.push(c); continue; }
    for (const l of letters) { if (adding) set.add(l); else set.delete(l); }
  }
  return { mask: [...set].sort().join(''), unknown };
}

/** what the notices need from the server (wired in server.ts) */
export interface ServerNoticeDeps {
  serverName(): string;
  now(): number;
  /** server-notice-rate per server-notice-window, per operator (read live: REHASH changes it) */
  limit(): { max: number; windowMs: number };
  /** fan-out's line metadata (server-time) */
  meta(): OutMeta;
  /** every event at info level, notices or not (pino's shape) */
  log: { info(obj: object, msg: string): void };
  /** notices not sent because an operator was over server-notice-rate (metric) */
  dropped?(n: number): void;
}

interface Subscriber { mask: string; sent: number; dropped: number }

/** an actor as named in a notice */
function who(a: Actor): string {
  return a.kind === 'user' ? a.user.nick : a.kind === 'operator' ? `the HTTP API (key ${a.name})` : a.name;
}

function userinfo(u: User): string {
  return `${u.nick} (${u.username || '*'}@${u.host})${u.local && u.ip ? ` [${u.ip}]` : ''}`;
}

/**
 * Who gets which notices, and the notices themselves. Local operators only (a subscription ends
 * when its user loses +o or +s, or leaves); remote events reach it when they change this server
 * (a peer's ban). Each notice is also logged at info, with its letter, whether or not anyone
 * subscribes. Bounded per operator: at most server-notice-rate notices per server-notice-window
 * (one window for everyone, from its first notice); beyond, notices are dropped and counted, and
 * when the window ends each operator that lost some gets one `*** NOTICE: <n> server notices
 * dropped …` line. An attack must not become a flood to the operators watching it.
 */
export class ServerNotices {
  private readonly subs = new Map<User, Subscriber>();
  private windowStart = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly d: ServerNoticeDeps) {}

  /** the user's snomask, or undefined when they get no notices */
  maskOf(u: User): string | undefined {
    return this.subs.get(u)?.mask;
  }

  /** set `u`'s snomask (MODE +s, after Ops applied it); '' ends the subscription */
  setMask(u: User, mask: string): void {
    if (mask === '') { this.subs.delete(u); return; }
    const s = this.subs.get(u);
    if (s) s.mask = mask; else this.subs.set(u, { mask, sent: 0, dropped: 0 });
  }

  /** operators currently subscribed (tests, STATS) */
  get subscribers(): number {
    return this.subs.size;
  }

  /** One notice of kind `letter`: logged at info (unless `log` is false: the source logged it), sent to its subscribers. */
  send(letter: SnoLetter, text: string, fields: Record<string, unknown> = {}, log = true): void {
    if (log) this.d.log.info({ snomask: letter, ...fields }, `${SNOMASKS[letter]}: ${text}`);
    if (this.subs.size === 0) return;
    const now = this.d.now();
    this.roll(now);
    const { max } = this.d.limit();
    const line = `*** ${SNOMASKS[letter]}: ${text}`;
    for (const [u, s] of this.subs) {
      if (!s.mask.includes(letter)) continue;
      if (s.sent >= max) {
        if (s.dropped++ === 0) this.arm(now);
        continue;
      }
      s.sent++;
      this.deliver(u, line);
    }
  }

  // ---- the events (called by commands, the session, admission, and the bus below) ------------

  connect(u: User, transport: string): void {
    this.send('c', `Client connecting: ${userinfo(u)} {${transport}${u.secure && transport === 'ws' ? ', secure' : ''}} [${u.realname}]${u.account ? ` account ${u.account}` : ''}`,
      { nick: u.nick, ip: u.ip, transport, account: u.account });
  }

  kill(oper: User, victim: User, reason: string): void {
    this.send('k', `${oper.nick} killed ${userinfo(victim)}: ${reason}`, { oper: oper.nick, victim: victim.nick, ip: victim.ip });
  }

  /** a connection disconnected for flooding (`nick` '*' before registration) */
  flood(u: User, reason: string): void {
    this.send('f', `${userinfo(u)} disconnected: ${reason}`, { nick: u.nick, ip: u.ip, reason });
  }

  /** a connection refused; `log` false when the caller logged it already (admission: one line per IP per minute) */
  refused(ip: string, transport: string, reason: string, log = true): void {
    this.send('r', `Connection refused from ${ip} {${transport}}: ${reason}`, { ip, transport, reason }, log);
  }

  /** the state-event subscriber wired in server.ts (quit, user-mode, server-ban, lockdown) */
  readonly onEvent = (ev: StateEvent): void => {
    switch (ev.kind) {
      case 'quit':
        if (!ev.user.local) return;
        this.subs.delete(ev.user);
        this.send('q', `Client exiting: ${userinfo(ev.user)} [${ev.reason}]`, { nick: ev.user.nick, ip: ev.user.ip, reason: ev.reason });
        return;
      case 'user-mode': {
        const u = ev.user;
        if (!u.local) return;
        if (ev.changes.some((c) => !c.adding && (c.mode === 's' || c.mode === 'o'))) this.subs.delete(u);
        if (ev.changes.some((c) => c.adding && c.mode === 'o')) {
          this.send('o', `${userinfo(u)} is now an IRC operator (${u.operClass ?? 'admin'}${u.operName && u.operName !== u.account ? `, as ${u.operName}` : u.account ? `, ${u.account}` : ''})`,
            { nick: u.nick, ip: u.ip, class: u.operClass });
        }
        return;
      }
      case 'server-ban': {
        const what = `${ev.target} (${ev.banKind})`;
        const text = ev.adding
          ? `${who(ev.actor)} added a server ban on ${what}, ${ev.expiresAt === undefined ? 'permanent' : `until ${new Date(ev.expiresAt).toISOString()}`}: ${ev.reason ?? ''}`
          : `${who(ev.actor)} removed the server ban on ${what}`;
        this.send('x', text, { by: who(ev.actor), target: ev.target, adding: ev.adding });
        return;
      }
      case 'lockdown':
        this.send('l', `${who(ev.actor)} set the lockdown level to ${ev.to} (was ${ev.from})`, { by: who(ev.actor), from: ev.from, to: ev.to });
        return;
      default:
    }
  };

  /** the summary timer (tests, shutdown) */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private deliver(u: User, text: string): void {
    const m: IrcMessage = { tags: new Map(), source: this.d.serverName(), command: 'NOTICE', params: [u.nick, text] };
    u.link.deliver(new Outgoing(m, this.d.meta()));
  }

  /** a new window when the current one is over: first the summaries of what the last one dropped */
  private roll(now: number, ended = false): void {
    const { windowMs } = this.d.limit();
    if (!ended && now - this.windowStart < windowMs) return;
    let dropped = 0;
    for (const [u, s] of this.subs) {
      if (s.dropped > 0) {
        dropped += s.dropped;
        this.deliver(u, `*** NOTICE: ${s.dropped} server notice${s.dropped === 1 ? '' : 's'} dropped in the last ${Math.round(windowMs / 1000)}s (more than server-notice-rate ${this.d.limit().max}); the log has them all`);
      }
      s.sent = 0;
      s.dropped = 0;
    }
    if (dropped > 0) this.d.dropped?.(dropped);
    this.windowStart = now;
  }

  /** the summary of a window that dropped notices goes out when it ends, even if nothing else happens */
  private arm(now: number): void {
    if (this.timer) return;
    const wait = Math.max(1, this.windowStart + this.d.limit().windowMs - now);
    this.timer = setTimeout(() => { this.timer = undefined; this.roll(this.d.now(), true); }, wait);
    this.timer.unref();
  }
}
