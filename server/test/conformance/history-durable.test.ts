// #12 finding 11: the sender's acknowledgement (echo-message echo, labeled ACK) comes only after
// history has committed the message. The server runs as its own process, started as main starts
// it, and is killed with SIGKILL the moment the last echo arrives; started again on the same data
// directory, every acknowledged message is in history.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient, parse } from '../harness/raw-client.js';
import { history, HISTORY_CAPS } from './history-helpers.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MAIN = join(ROOT, 'server/src/main.ts');
const N = 40;

interface Child { proc: ChildProcess; port: number; out(): string }

async function startChild(dir: string): Promise<Child> {
  const args = ['--import', 'tsx', MAIN, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0', '--data-dir', dir,
    '--log-level', 'info', '--server-name', 'irc.test', '--fakelag', 'false', '--message-rate', '100000'];
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FREEQ_')));
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += String(d); });
  proc.stderr.on('data', (d) => { out += String(d); });
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 30_000);
    const check = (): void => {
      const m = /"msg":"freeq listening"/.test(out) ? /"irc":\{[^}]*"port":(\d+)/.exec(out) : null;
      if (m) { clearTimeout(t); proc.stdout.off('data', check); proc.off('exit', exited); res(Number(m[1])); }
    };
    const exited = (code: number | null): void => { clearTimeout(t); rej(new Error(`server exited (${code}):\n${out}`)); };
    proc.stdout.on('data', check);
    proc.once('exit', exited);
  });
  return { proc, port, out: () => out };
}

async function stopChild(c: Child, signal: NodeJS.Signals): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill(signal);
  await exited;
}

describe('#12: acknowledged messages are in history even if the server dies right after', () => {
  for (const mode of ['echo-message', 'labeled-response'] as const) {
    test(`${mode}: SIGKILL on the last acknowledgement loses nothing`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'freeq-durable-'));
      let child = await startChild(dir);
      try {
        const caps = mode === 'echo-message' ? ['echo-message'] : ['labeled-response', 'batch'];
        const c = await RawClient.connect({ port: child.port });
        await c.register('writer', caps);
        c.send('JOIN #durable');
        await c.expect(/ 366 writer #durable /);
        // every message in one write: the server takes them as fast as it can
        const lines = Array.from({ length: N }, (_, i) => mode === 'echo-message' ? `PRIVMSG #durable :msg ${i}` : `@label=l${i} PRIVMSG #durable :msg ${i}`);
        c.sendRaw(lines.map((l) => `${l}\r\n`).join(''));
        const last = mode === 'echo-message'
          ? (l: string) => parse(l).command === 'PRIVMSG' && parse(l).params[1] === `msg ${N - 1}`
          : (l: string) => parse(l).command === 'ACK' && parse(l).tags.get('label') === `l${N - 1}`;
        // the moment the last acknowledgement arrives, the server dies without any chance to flush
        await new Promise<void>((res, rej) => {
          const t = setTimeout(() => rej(new Error('no last acknowledgement')), 10_000);
          let buf = '';
          c.socket.on('data', (d) => {
            const parts = (buf + String(d)).split('\r\n');
            buf = parts.pop()!;
            if (parts.some(last)) { child.proc.kill('SIGKILL'); clearTimeout(t); res(); }
          });
        });
        await stopChild(child, 'SIGKILL');
        c.destroy();

        child = await startChild(dir);
        const r = await RawClient.connect({ port: child.port });
        await r.register('reader', HISTORY_CAPS);
        r.send('JOIN #durable');
        await r.expect(/ 366 reader #durable /);
        const got = await history(r, `CHATHISTORY LATEST #durable * ${N + 10}`);
        assert.deepEqual(got.items.map((l) => parse(l).params[1]), Array.from({ length: N }, (_, i) => `msg ${i}`));
        r.destroy();
      } finally {
        await stopChild(child, 'SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
