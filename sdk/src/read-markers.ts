/**
 * IRCv3 draft/read-marker (https://ircv3.net/specs/extensions/read-marker) for the client (#15):
 * `MARKREAD <target> timestamp=<time>` says how far the user has read a conversation; the server
 * answers with the marker it keeps (it only moves forward), sends a channel's marker on JOIN, and
 * sends it to the account's other connections when it moves. Markers are kept per account; a
 * guest's last only as long as its connection. No I/O and no Node built-ins.
 */
import type { IrcMessage } from './message.js';

export const READ_MARKER_CAP = 'draft/read-marker';

/** A marker from the server: how far `target` is read (ISO 8601), undefined when none is kept (`*`). */
export interface ReadMarkerEvent { target: string; time: string | undefined }

/** `MARKREAD <target> timestamp=<time>|*` from the server, or undefined for anything else. */
export function readMarkerOf(msg: IrcMessage): ReadMarkerEvent | undefined {
  if (msg.command !== 'MARKREAD') return undefined;
  const [target, marker] = msg.params;
  if (!target || marker === undefined) return undefined;
  if (marker === '*') return { target, time: undefined };
  const time = marker.startsWith('timestamp=') ? marker.slice('timestamp='.length) : '';
  return Number.isNaN(Date.parse(time)) ? undefined : { target, time };
}

/** The timers a ReadMarkerSender uses (tests drive them by hand). */
export interface MarkerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

const systemClock: MarkerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

interface TargetState {
  /** the newest marker sent or heard from the server (ms since the epoch) */
  marker: number;
  /** when a MARKREAD for this target was last sent */
  sentAt: number;
  /** a later one, waiting for the interval to pass */
  pending?: { target: string; time: string; t: number };
  timer?: unknown;
}

/** targets remembered at most (the oldest is forgotten first) */
const MAX_TARGETS = 1000;

/**
 * At most one MARKREAD per target per `intervalMs` (default 1 s): the first at once, the ones
 * that come sooner folded into one, sent when the interval has passed, with the newest time. A
 * time not after what was sent, or after what the server says the marker is, is not sent at all.
 */
export class ReadMarkerSender {
  private readonly targets = new Map<string, TargetState>();

  constructor(
    private readonly send: (target: string, time: string) => void,
    private readonly intervalMs = 1000,
    private readonly clock: MarkerClock = systemClock,
  ) {}

  /** `target` is read up to `time` (ISO 8601) */
  mark(target: string, time: string): void {
    const t = Date.parse(time);
    if (Number.isNaN(t)) throw new Error(`not a time: ${time}`);
    const s = this.state(target);
    if (t <= s.marker || (s.pending && t <= s.pending.t)) return;
    const wait = s.sentAt + this.intervalMs - this.clock.now();
    if (wait <= 0 && !s.pending) { this.sendNow(s, target, time, t); return; }
    s.pending = { target, time, t };
    s.timer ??= this.clock.setTimeout(() => this.flush(s), Math.max(0, wait));
  }

  /** what the server says `target`'s marker is (MARKREAD from the server) */
  heard(target: string, time: string | undefined): void {
    if (time === undefined) return;
    const t = Date.parse(time);
    const s = this.state(target);
    if (!Number.isNaN(t) && t > s.marker) s.marker = t;
  }

  /** forget everything (a new connection: the server sends its markers again) */
  reset(): void {
    for (const s of this.targets.values()) if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    this.targets.clear();
  }

  private state(target: string): TargetState {
    const key = target.toLowerCase();
    let s = this.targets.get(key);
    if (!s) {
      if (this.targets.size >= MAX_TARGETS) {
        const [oldest, st] = this.targets.entries().next().value!;
        if (st.timer !== undefined) this.clock.clearTimeout(st.timer);
        this.targets.delete(oldest);
      }
      s = { marker: -Infinity, sentAt: -Infinity };
      this.targets.set(key, s);
    }
    return s;
  }

  private flush(s: TargetState): void {
    s.timer = undefined;
    const p = s.pending;
    s.pending = undefined;
    if (p && p.t > s.marker) this.sendNow(s, p.target, p.time, p.t);
  }

  private sendNow(s: TargetState, target: string, time: string, t: number): void {
    s.marker = t;
    s.sentAt = this.clock.now();
    this.send(target, time);
  }
}
