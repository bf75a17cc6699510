// More clients than file descriptors: accept() fails with EMFILE. libuv then closes the waiting
// connections (its reserve-descriptor trick); the server must stay up on both plain-TCP layers
// and serve new clients once descriptors are free again. (Had the trick failed, the failure would
// reach the listener's acceptFailed and be logged, never thrown.) The server runs as its own
// process under `ulimit -n`, started as main starts it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../harness/raw-client.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MAIN = join(ROOT, 'server/src/main.ts');
const FD_LIMIT = 160;

for (const lean of [true, false]) {
  describe(`accept() failing at the descriptor limit (lean-sockets = ${lean})`, () => {
    test('the connections beyond the limit are closed; the server stays up and serves new clients once descriptors are free', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'freeq-emfile-'));
      const args = ['--import', 'tsx', MAIN, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0', '--data-dir', dir,
        '--log-level', 'info', '--lean-sockets', String(lean), '--max-connections', '100000', '--max-connections-per-ip', '100000',
        '--connection-throttle', '100000', '--limit-exempt', '127.0.0.0/8'];
      const quoted = args.map((a) => `'${a}'`).join(' ');
      const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FREEQ_')));
      const child = spawn('/bin/sh', ['-c', `ulimit -n ${FD_LIMIT} && exec '${process.execPath}' ${quoted}`], { cwd: ROOT, env: base, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += String(d); });
      child.stderr.on('data', (d) => { out += String(d); });
      const sockets: net.Socket[] = [];
      try {
        const port = await new Promise<number>((res, rej) => {
          const t = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 30_000);
          const check = (): void => {
            const m = /"msg":"freeq listening"/.test(out) ? /"irc":\{[^}]*"port":(\d+)/.exec(out) : null;
            if (m) { clearTimeout(t); child.stdout.off('data', check); res(Number(m[1])); }
          };
          child.stdout.on('data', check);
          child.once('exit', (code) => rej(new Error(`server exited (${code}):\n${out}`)));
        });
        assert.match(out, new RegExp(`"tcpSockets":"${lean ? 'lean' : 'net'}"`));
        // twice the limit in open connections: the later accepts fail with EMFILE
        let droppedByServer = 0;
        await Promise.all(Array.from({ length: FD_LIMIT * 2 }, (_, i) => new Promise<void>((res) => {
          const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (i % 50)}` });
          sockets.push(s);
          s.on('error', () => res());
          s.on('connect', () => res());
          s.on('close', () => { droppedByServer++; res(); });
        })));
        const deadline = Date.now() + 10_000;
        while (droppedByServer === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.ok(droppedByServer > 0, 'some connections were closed at the limit');
        assert.ok(droppedByServer < FD_LIMIT * 2, 'the ones within the limit stay open');
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(child.exitCode, null, `the server is still running:\n${out.slice(-2000)}`);
        for (const s of sockets) s.destroy();
        // descriptors come back as the server sees those clients go; then a new client registers
        let c: RawClient | undefined;
        for (let tries = 0; tries < 50 && !c; tries++) {
          try {
            const x = await RawClient.connect({ port, localAddress: '127.0.0.99' });
            await x.register('after');
            c = x;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        assert.ok(c, `a new client could not register:\n${out.slice(-2000)}`);
        c.send('QUIT');
        await c.waitClosed();
        assert.equal(child.exitCode, null);
      } finally {
        for (const s of sockets) s.destroy();
        child.kill('SIGTERM');
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
