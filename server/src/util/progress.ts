/**
 * Progress of a long operator task over a known number of rows (#16: `db rekey`, migrations that
 * rewrite rows): one line when it starts, then at most one line per `everyMs` (rows done / total,
 * rate, estimated time left), and one when it ends. Lines go to `write` (stderr for the CLI, the
 * log for the server). Pure: the clock is injected, so tests need no timing.
 */
export type ProgressWrite = (line: string) => void;

export interface ProgressOptions {
  /** what is being done, e.g. `db rekey` or `migration 14 (message-redaction)` */
  what: string;
  /** rows to process (a count taken before starting; rows found beyond it still count) */
  total: number;
  write: ProgressWrite;
  /** milliseconds; default Date.now */
  now?: () => number;
  /** least time between two progress lines; default 1000 ms */
  everyMs?: number;
  /** the counted thing, plural; default `rows` */
  unit?: string;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "850ms", "12s", "3m 20s", "1h 05m" */
export function formatEta(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private done = 0;
  private readonly startedAt: number;
  private lastLineAt: number;
  private readonly now: () => number;
  private readonly everyMs: number;
  private readonly unit: string;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.everyMs = opts.everyMs ?? 1000;
    this.unit = opts.unit ?? 'rows';
    this.startedAt = this.now();
    this.lastLineAt = this.startedAt;
    opts.write(`${opts.what}: ${fmt(opts.total)} ${this.unit} to process`);
  }

  /** `n` more rows done; prints a line when `everyMs` has passed since the last one */
  advance(n: number): void {
    this.done += n;
    const t = this.now();
    if (t - this.lastLineAt < this.everyMs) return;
    this.lastLineAt = t;
    this.opts.write(this.line(t));
  }

  /** the line printed now: `what: 12,000/25,000 rows (48%), 9,800 rows/s, about 1s left` */
  line(t = this.now()): string {
    const { what, total } = this.opts;
    const elapsed = Math.max(1, t - this.startedAt);
    const rate = (this.done * 1000) / elapsed;
    const pct = total > 0 ? Math.min(100, Math.floor((this.done * 100) / total)) : 100;
    const left = Math.max(0, total - this.done);
    const eta = rate > 0 ? `, about ${formatEta((left * 1000) / rate)} left` : '';
    return `${what}: ${fmt(this.done)}/${fmt(total)} ${this.unit} (${pct}%), ${fmt(rate)} ${this.unit}/s${eta}`;
  }

  /** the closing line: `what: done, 25,000 rows in 2s (12,500 rows/s)` */
  finish(): void {
    const elapsed = Math.max(1, this.now() - this.startedAt);
    this.opts.write(`${this.opts.what}: done, ${fmt(this.done)} ${this.unit} in ${formatEta(elapsed)} (${fmt((this.done * 1000) / elapsed)} ${this.unit}/s)`);
  }
}
