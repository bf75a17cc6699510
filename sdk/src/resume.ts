import type { FreeqClientCore, HistoryMessage } from './client.js';

/**
 * Reconnect and resume (#15, the `reconnect` option of the client): after a lost connection (not
 * after quit() or destroy()), connect again after a backoff of `minMs` doubling to `maxMs`, each
 * ±25 % at random so that many clients of a restarted server do not come back in lock-step; then
 * rejoin the channels the client was on and fetch, per channel, what was said since the last
 * message it saw (by msgid, draft/chathistory), delivered as `history` events; then `reconnected`.
 */
export class Resumer {
  /** channels joined (as the server spelled them), lower-cased key */
  private readonly channels = new Map<string, string>();
  /** per channel (lower-cased): the msgid of the last message seen */
  private readonly last = new Map<string, string>();
  private backoff: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** msgids seen live since the reconnect (a missed message fetched again is not delivered twice) */
  private readonly seenLive = new Set<string>();

  constructor(private readonly c: FreeqClientCore, o: { minMs?: number; maxMs?: number }) {
    this.minMs = o.minMs ?? 1000;
    this.maxMs = Math.max(this.minMs, o.maxMs ?? 60_000);
    this.backoff = this.minMs;
    c.on('join', (ev) => { if (ev.self) this.channels.set(ev.channel.toLowerCase(), ev.channel); });
    c.on('part', (ev) => { if (ev.self) this.channels.delete(ev.channel.toLowerCase()); });
    c.on('raw', (_line, m) => {
      if (m?.command === 'KICK' && m.params[1] === c.nick) this.channels.delete((m.params[0] ?? '').toLowerCase());
    });
    const note = (m: { target: string; tags: Record<string, string> }): void => {
      const id = m.tags.msgid;
      if (id !== undefined && this.channels.has(m.target.toLowerCase())) {
        this.last.set(m.target.toLowerCase(), id);
        if (this.seenLive.size < 10_000) this.seenLive.add(id);
      }
    };
    c.on('message', note);
    c.on('notice', note);
    c.on('history', (m) => { if (m.msgid !== undefined && this.channels.has(m.target.toLowerCase())) this.last.set(m.target.toLowerCase(), m.msgid); });
    c.on('close', () => { if (!c.userClosed) this.schedule(); });
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const delay = Math.round(this.backoff * (0.75 + Math.random() * 0.5));
    this.backoff = Math.min(this.backoff * 2, this.maxMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.attempt();
    }, delay);
  }

  private async attempt(): Promise<void> {
    if (this.c.userClosed || this.c.connected) return;
    try {
      await this.c.connect();
    } catch {
      // connect() failed (refused, timed out, registration failed): its close (if any) or this tries again
      if (!this.c.connected && !this.c.userClosed) this.schedule();
      return;
    }
    this.backoff = this.minMs;
    this.seenLive.clear();
    const names = [...this.channels.values()];
    if (names.length) this.c.send('JOIN', names.join(','));
    const missed: HistoryMessage[] = [];
    if (this.c.enabledCaps.has('draft/chathistory')) {
      for (const name of names) {
        const after = this.last.get(name.toLowerCase());
        if (after === undefined) continue;
        try {
          missed.push(...await this.c.history(name, { after, limit: 100 }));
        } catch {
          // that channel's history is not available (gone, not allowed): the others still are
        }
      }
    }
    this.c.resumed(missed.filter((m) => m.msgid === undefined || !this.seenLive.has(m.msgid)));
  }
}
