/**
 * Hybrid logical clock (Kulkarni et al. 2014; federation.md "State convergence"): timestamps that
 * follow wall-clock time, never go backwards on one server, and order causally related changes
 * across servers (a server that receives a stamp moves its clock past it). Durable channel state
 * keeps the stamp and origin of its last change (LWW registers for the CRDT merge), and every
 * event on the bus carries one.
 *
 * Hand-written: the algorithm is a dozen lines and the npm HLC packages are unmaintained or pull
 * in their own serialisation; the encoding here is ours to keep stable.
 *
 * A stamp is encoded as a fixed-width string, so string order is time order:
 * 13 decimal digits of wall-clock milliseconds, `.`, 6 digits of logical counter
 * (`1733443200000.000000`). Stamps from different servers that tie are ordered by origin.
 */
export interface Stamp {
  /** HLC timestamp (encoded, see above) */
  hlc: string;
  /** the server that made the change: its peer id */
  origin: string;
}

/** stamps more than this far ahead of our wall clock are refused (federation.md: ~60 s) */
export const MAX_HLC_DRIFT_MS = 60_000;

const LOGICAL_MAX = 999_999;

export function encodeHlc(wall: number, logical: number): string {
  return `${String(wall).padStart(13, '0')}.${String(logical).padStart(6, '0')}`;
}

/** The parts of an encoded stamp, or undefined if it is not one. */
export function decodeHlc(s: string): { wall: number; logical: number } | undefined {
  if (!/^\d{13}\.\d{6}$/.test(s)) return undefined;
  return { wall: Number(s.slice(0, 13)), logical: Number(s.slice(14)) };
}

/** LWW order: the later stamp wins; on a tie, the larger origin (the same answer on every server). */
export function stampAfter(a: Stamp, b: Stamp): boolean {
  return a.hlc !== b.hlc ? a.hlc > b.hlc : a.origin > b.origin;
}

export class HybridClock {
  private wall = 0;
  private logical = 0;

  constructor(private readonly physical: () => number) {}

  /** A stamp for a change made here now (strictly after every stamp this clock gave or saw). */
  now(): string {
    const pt = this.physical();
    if (pt > this.wall) {
      this.wall = pt;
      this.logical = 0;
    } else {
      this.tick();
    }
    return encodeHlc(this.wall, this.logical);
  }

  /**
   * A stamp from elsewhere (a peer's event): the clock moves past it. Refused (false, clock
   * unchanged) when malformed or more than MAX_HLC_DRIFT_MS ahead of our wall clock, so one
   * peer cannot drag every later change into the future.
   */
  receive(remote: string): boolean {
    const r = decodeHlc(remote);
    const pt = this.physical();
    if (!r || r.wall > pt + MAX_HLC_DRIFT_MS) return false;
    const wall = Math.max(this.wall, r.wall, pt);
    if (wall === this.wall && wall === r.wall) this.logical = Math.max(this.logical, r.logical);
    else if (wall === r.wall) this.logical = r.logical;
    else if (wall !== this.wall) this.logical = -1;
    this.wall = wall;
    this.tick();
    return true;
  }

  /** the logical counter overflowed within one millisecond: borrow the next one */
  private tick(): void {
    if (this.logical >= LOGICAL_MAX) {
      this.wall++;
      this.logical = 0;
    } else {
      this.logical++;
    }
  }
}
