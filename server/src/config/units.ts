/** "90s", "10m", "1h", "250ms" or a bare number of seconds → milliseconds. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v * 1000);
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return Math.round(n * mult);
}

/** "200k", "1M", "8704" → bytes. k/M/G are powers of 1024 (as Ergo's 96k). */
export function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+)\s*(?:([kKmMgG])i?)?[bB]?\s*$/.exec(v);
  if (!m) return undefined;
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 1;
  return Number(m[1]) * mult;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}k`;
  return String(n);
}

/** "host:port", "[::1]:6667", ":6667" → {host, port}. */
export function parseAddr(v: unknown): { host: string; port: number } | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(v.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
