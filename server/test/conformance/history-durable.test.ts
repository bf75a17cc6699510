// #12 finding 11: the sender's acknowledgement (echo-message echo, labeled ACK) comes only after
// history has committed the message. The server runs as its own process, started as main starts
// it, and is killed with SIGKILL the moment the last echo arrives; started again on the same data
// directory, every acknowledged message is in history.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from '../harness/child-server.js';
import { RawClient, parse } from '../harness/raw-client.js';
import { history, HISTORY_CAPS } from './history-helpers.js';

const N = 40;

const startChild = (dir: string): Promise<ChildServer> =>
  startChildServer({ dataDir: dir, args: ['--server-name', 'irc.test', '--fakelag', 'false', '--message-rate', '100000'] });

describe('#12: acknowledged messages are in history even if the server dies right after', () => {
  for (const mode of ['echo-message', 'labeled-response'] as const) {
    test(`${mode}: SIGKILL on the last acknowledgement loses nothing`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'freeq-durable-'));
      let child = await startChild(dir);
      try {
        const caps = mode === 'echo-message' ? ['echo-message'] : ['labeled-response', 'batch'];
        const c = await RawClient.connect({ port: child.ports.irc });
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
        await child.stop('SIGKILL');
        c.destroy();

        child = await startChild(dir);
        const r = await RawClient.connect({ port: child.ports.irc });
        await r.register('reader', HISTORY_CAPS);
        r.send('JOIN #durable');
        await r.expect(/ 366 reader #durable /);
        const got = await history(r, `CHATHISTORY LATEST #durable * ${N + 10}`);
        assert.deepEqual(got.items.map((l) => parse(l).params[1]), Array.from({ length: N }, (_, i) => `msg ${i}`));
        r.destroy();
      } finally {
        await child.stop('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
