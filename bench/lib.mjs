// Shared by the bench runners (run.mjs, attack.mjs): free ports, a process's RSS, and a built server.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** a TCP port free on 127.0.0.1 right now */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** VmRSS of `pid` in kB (NaN once the process is gone) */
export function vmRssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

function newestMtime(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** `npm run build` when server/dist is missing or older than server/src: a stale build is never measured */
export function ensureBuilt(tag = 'bench') {
  const main = path.join(root, 'server/dist/main.js');
  const stale = !fs.existsSync(main) || fs.statSync(main).mtimeMs < newestMtime(path.join(root, 'server/src'));
  if (!stale) return;
  process.stderr.write(`${tag}: server/dist is missing or older than server/src, running npm run build\n`);
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** a raw IRC line's command and the line from the command on (tags and source stripped) */
export function splitCommand(line) {
  let rest = line;
  if (rest[0] === '@') rest = rest.slice(rest.indexOf(' ') + 1);
  if (rest[0] === ':') rest = rest.slice(rest.indexOf(' ') + 1);
  const sp = rest.indexOf(' ');
  return { cmd: sp < 0 ? rest : rest.slice(0, sp), rest };
}
