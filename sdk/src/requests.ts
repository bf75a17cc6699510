/**
 * Labeled requests and batches (#15; IRCv3 labeled-response and batch): a command sent with a
 * `label` tag resolves with the lines the server answers it with — one line, nothing (`ACK`), or
 * every line of the labeled batch, nested batches included, in order. Lines of a `chathistory`
 * batch nobody asked for (history replayed on JOIN) are told apart too, so a client never shows
 * old messages as new ones. No I/O and no Node built-ins: the client (client.ts) feeds it lines.
 */
import type { IrcMessage } from '@freeq/protocol';

interface Pending {
  resolve: (lines: IrcMessage[]) => void;
  reject: (e: Error) => void;
  lines: IrcMessage[];
  /** the labeled batch that carries the answer, once opened */
  batch?: string;
  timer: ReturnType<typeof setTimeout>;
}

interface OpenBatch { type: string; parent?: string; label?: string }

/** what became of a line (client.ts: only `event` lines are handled as live events) */
export type LineFate = 'event' | 'response' | 'history';

/** most batches open at once (a server cannot make the client hold more) */
const MAX_OPEN_BATCHES = 64;

export class Requests {
  private next = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly batches = new Map<string, OpenBatch>();

  /** a new request's label; `send` writes the tagged line */
  start(timeoutMs: number): { label: string; done: Promise<IrcMessage[]> } {
    const label = `q${++this.next}`;
    const done = new Promise<IrcMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(label);
        reject(new Error(`no answer to the request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(label, { resolve, reject, lines: [], timer });
    });
    return { label, done };
  }

  /** every request fails (the connection closed) */
  failAll(e: Error): void {
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(e); }
    this.pending.clear();
    this.batches.clear();
  }

  /** Take one line: part of a request's answer, history nobody asked for, or a live event. */
  take(msg: IrcMessage): LineFate {
    const label = msg.tags.get('label');
    const inBatch = msg.tags.get('batch');
    if (msg.command === 'BATCH') {
      const ref = msg.params[0] ?? '';
      const id = ref.slice(1);
      if (ref.startsWith('+')) {
        if (this.batches.size >= MAX_OPEN_BATCHES) this.batches.delete(this.batches.keys().next().value!);
        const b: OpenBatch = { type: msg.params[1] ?? '' };
        if (inBatch !== undefined) b.parent = inBatch;
        if (label !== undefined) b.label = label;
        this.batches.set(id, b);
        const p = label !== undefined ? this.pending.get(label) : undefined;
        if (p) { p.batch = id; return 'response'; }
        return this.nested(id, msg);
      }
      if (ref.startsWith('-')) {
        const b = this.batches.get(id);
        const fate = b?.label !== undefined ? this.fateIn(id) : this.nested(id, msg);
        this.batches.delete(id);
        if (b?.label !== undefined) {
          const p = this.pending.get(b.label);
          if (p && p.batch === id) this.finish(b.label, p.lines);
        }
        return fate;
      }
    }
    if (label !== undefined && inBatch === undefined) {
      const p = this.pending.get(label);
      if (p) {
        this.finish(label, msg.command === 'ACK' ? [] : [msg]);
        return msg.command === 'ACK' ? 'response' : 'event';
      }
    }
    if (inBatch === undefined) return 'event';
    return this.nested(inBatch, msg);
  }

  /**
   * A line in batch `id` — or the start or end of `id`, nested in another batch: part of a
   * request's answer when `id` is (a draft/multiline batch in a CHATHISTORY reply keeps its BATCH
   * lines, so multiline.ts can assemble it), else history or an event.
   */
  private nested(id: string, msg: IrcMessage): LineFate {
    const fate = this.fateIn(id);
    if (fate === 'response') {
      const root = this.root(id);
      const p = root?.label !== undefined ? this.pending.get(root.label) : undefined;
      p?.lines.push(msg);
    }
    return fate;
  }

  /** the outermost open batch `id` is in */
  private root(id: string): OpenBatch | undefined {
    let b = this.batches.get(id);
    for (let i = 0; b?.parent !== undefined && i < MAX_OPEN_BATCHES; i++) {
      const up = this.batches.get(b.parent);
      if (!up) break;
      b = up;
    }
    return b;
  }

  /** a line in batch `id`: a request's answer, history, or (any other batch: netsplit, multiline…) an event */
  private fateIn(id: string): LineFate {
    const root = this.root(id);
    if (root?.label !== undefined && this.pending.get(root.label)?.batch !== undefined) return 'response';
    for (let b = this.batches.get(id), i = 0; b && i < MAX_OPEN_BATCHES; b = b.parent !== undefined ? this.batches.get(b.parent) : undefined, i++) {
      if (b.type === 'chathistory') return 'history';
    }
    return 'event';
  }

  private finish(label: string, lines: IrcMessage[]): void {
    const p = this.pending.get(label);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(label);
    p.resolve(lines);
  }
}
