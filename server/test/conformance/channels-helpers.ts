import type { RawClient } from '../harness/raw-client.js';
import type { TestServer } from '../harness/server.js';
import { guestCloak } from '../harness/cloaks.js';

/** A suite's guest cloak (clients on 127.0.0.1) and the alice/bob masks built from it (#12: cloaks are keyed hashes). */
export function suiteMasks(srv: TestServer): { G: string; A: string; B: string } {
  const G = guestCloak(srv);
  return { G, A: `alice!alice@${G}`, B: `bob!bob@${G}` };
}

/** `MODE #chan <spec>` by `c` (a channel operator); resolves once `c` sees the MODE echo. */
export async function chanMode(c: RawClient, chan: string, spec: string): Promise<void> {
  c.send(`MODE ${chan} ${spec}`);
  await c.expect((l, m) => m.command === 'MODE' && m.params[0] === chan);
}

/** user mode on oneself, e.g. '+i' */
export async function userMode(c: RawClient, spec: string): Promise<void> {
  c.send(`MODE ${c.nick} ${spec}`);
  await c.expect((l, m) => m.command === 'MODE' && m.params[0] === c.nick);
}

/** Join and wait for the end of NAMES (so the join is complete). */
export async function join(c: RawClient, chan: string): Promise<void> {
  c.send(`JOIN ${chan}`);
  await c.expect((l, m) => m.command === '366' && m.params[1]?.toLowerCase() === chan.toLowerCase());
}

/** Lines strictly between the start and end markers of a reply (e.g. 321 … 323). */
export async function between(c: RawClient, start: string, end: string): Promise<string[]> {
  const lines = await c.collectUntil(end);
  const i = lines.findIndex((l) => l.split(' ')[1] === start);
  if (i === -1) throw new Error(`no ${start} before ${end}:\n${lines.join('\n')}`);
  return lines.slice(i + 1, -1);
}

/** QUIT and wait for the server to close, so the nicks are free for the next test. */
export async function bye(...cs: RawClient[]): Promise<void> {
  await Promise.all(cs.map(async (c) => {
    if (c.ended) return;
    c.send('QUIT');
    await c.waitClosed().catch(() => c.destroy());
  }));
}

/**
 * Registered clients that are all QUIT after each test (pass `quitAll` to afterEach), so a
 * failing test does not leave its nicks taken for the next one.
 */
export function tracked(srv: () => TestServer): {
  client: (nick: string, caps?: string[]) => Promise<RawClient>;
  quitAll: () => Promise<void>;
} {
  const open: RawClient[] = [];
  return {
    async client(nick, caps) {
      const c = await srv().client(nick, { caps });
      open.push(c);
      return c;
    },
    quitAll: () => bye(...open.splice(0)),
  };
}
