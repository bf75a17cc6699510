import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPeerIdentity } from '../../src/keys/peer-identity.js';

// Shared by the federation tests (#14): data directories with their federation key made, free
// ports, waiting for a condition.

/** Fresh data dirs, each with its federation key (so its peer id is known before the server starts); `cleanup` removes them. */
export function fedDirs(prefix = 'freeq-fed-'): { dataDir: () => { dir: string; id: string }; cleanup: () => void } {
  const dirs: string[] = [];
  return {
    dataDir: () => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return { dir, id: loadPeerIdentity(dir).peerId };
    },
    cleanup: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** a TCP port free on 127.0.0.1 right now */
export async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** a UDP port free on 127.0.0.1 right now (iroh binds UDP) */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** poll `cond` every 10 ms until it holds; throws naming `what` after `ms` */
export async function until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** fast pings (a dead link is noticed within a second); FED_LOG=info shows the servers' logs */
export const FAST_LINKS = { 's2s-ping-interval': '200ms', 's2s-ping-timeout': '1s', 'log-level': process.env.FED_LOG ?? 'silent' };
