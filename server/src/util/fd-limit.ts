import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The process's file descriptor budget, for the HTTP port's descriptor reserve (#12 finding 4).
 * Node has no `process.getrlimit`, so the soft limit is read once at start-up from
 * /proc/self/limits (Linux), else from `ulimit -n` in a shell (which inherits our limit; Node
 * itself raises the soft limit to the hard limit as it starts). Counting open descriptors on
 * every accept would cost a directory read of /proc/self/fd each time (thousands of entries under
 * attack), so the caller counts the connections it tracks and adds the descriptors that were open
 * at start-up (`openDescriptors`, read once).
 */

/** `Max open files  1024  1048576  files` → 1024; `unlimited` → Infinity */
export function parseLimitsFile(text: string): number | undefined {
  const m = /^Max open files\s+(\S+)\s+/m.exec(text);
  if (!m) return undefined;
  if (m[1] === 'unlimited') return Infinity;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** the soft RLIMIT_NOFILE of this process, or undefined when it cannot be found out */
export function softDescriptorLimit(): number | undefined {
  try {
    const n = parseLimitsFile(readFileSync('/proc/self/limits', 'utf8'));
    if (n !== undefined) return n;
  } catch { /* not Linux: ask the shell */ }
  try {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (out === 'unlimited') return Infinity;
    const n = Number(out);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** descriptors open right now (/proc/self/fd or /dev/fd); undefined when neither can be listed */
export function openDescriptors(): number | undefined {
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    try {
      // the listing itself holds one descriptor while it runs
      return Math.max(0, readdirSync(dir).length - 1);
    } catch { /* try the next */ }
  }
  return undefined;
}
