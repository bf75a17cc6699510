import type { Clock } from './rate.js';

export interface FakelagConfig {
  /** commands accepted back to back before throttling starts */
  burst: number;
  /** commands per window once throttled (spaced windowMs / perWindow apart) */
  perWindow: number;
  windowMs: number;
  /** this much idle time ends throttling and makes the burst available again */
  cooldownMs: number;
  /**
   * Free invocations per session of particular commands (not counted, never delayed), so a client
   * resynchronising its state is not slowed down. Ergo's `command-budgets` (ergo:default.yaml:
   * 975-1001): WHO, CHATHISTORY and MARKREAD (a client fetching missed history on reconnect),
   * MONITOR (the one `MONITOR +` with its whole list a client sends after registering).
   */
  budgets?: Readonly<Record<string, number>>;
}

/** Ergo's default command budgets for the commands we implement. */
export const DEFAULT_FAKELAG_BUDGETS: Readonly<Record<string, number>> = { WHO: 4, CHATHISTORY: 16, MARKREAD: 16, MONITOR: 1 };

/**
 * Fakelag: commands beyond a burst are delayed, never dropped (hardening.md C1). The semantics
 * are those of ergo:irc/fakelag.go: a client starts "bursting" and may send `burst` commands with
 * no delay (a gap longer than the cooldown starts a new burst); the next one switches it to
 * "throttled", where commands are spaced `windowMs / perWindow` apart; a gap longer than the
 * cooldown returns it to bursting.
 *
 * Ergo sleeps in the client's goroutine; here `delayFor` returns how long the caller must wait
 * before running the command, and the command counts as having happened at `now + delay` (Ergo
 * sets lastTouch after the sleep). One difference: the command that ends a throttled period is
 * counted as the first of the new burst (Ergo lets it through uncounted).
 */
export class Fakelag {
  private throttled = false;
  private burstCount = 0;
  private lastTouch = Number.NEGATIVE_INFINITY;
  private readonly budgets: Map<string, number>;

  constructor(private readonly cfg: FakelagConfig, private readonly clock: Clock) {
    this.budgets = new Map(Object.entries(cfg.budgets ?? {}));
  }

  /** ms the session must wait before running `command` (0 = run now); records the command */
  delayFor(command: string): number {
    const budget = this.budgets.get(command);
    if (budget !== undefined && budget > 0) {
      this.budgets.set(command, budget - 1);
      return 0;
    }
    const now = this.clock.now();
    const elapsed = now - this.lastTouch;
    this.lastTouch = now;
    if (!this.throttled) {
      // the previous burst is over after a cooldown's worth of silence
      if (elapsed > this.cfg.cooldownMs) this.burstCount = 0;
      if (++this.burstCount <= this.cfg.burst) return 0;
      this.burstCount = 0;
      this.throttled = true;
      // this command is the first throttled one: fall through
    } else if (elapsed > this.cfg.cooldownMs) {
      this.throttled = false;
      this.burstCount = 1;
      return 0;
    }
    const wait = Math.max(0, Math.ceil(this.cfg.windowMs / this.cfg.perWindow - elapsed));
    // the command runs after the wait: that is when it happened
    this.lastTouch = now + wait;
    return wait;
  }

  /** true while commands are being spaced out */
  get isThrottled(): boolean { return this.throttled; }
}
