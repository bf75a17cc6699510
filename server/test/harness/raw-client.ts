import net from 'node:net';
import tls from 'node:tls';
import { parseLine } from '../../src/protocol/parse.js';
import type { IrcMessage } from '../../src/protocol/message.js';

export interface ConnectOptions {
  port?: number;
  host?: string;
  /** source address, e.g. 127.0.0.2, so each simulated user has its own IP */
  localAddress?: string;
  tls?: boolean;
}

export type Matcher = string | RegExp | ((line: string, msg: IrcMessage) => boolean);

// server lines may carry up to 8191 bytes of tags (IRCv3 message-tags), and we parse leniently
const SERVER_LINE_LIMITS = { maxBodyBytes: 1 << 20, maxTagDataBytes: 1 << 20 };

function matches(m: Matcher, line: string): boolean {
  if (typeof m === 'string') {
    // a bare command/numeric matches the command field; otherwise a substring
    if (/^[A-Z0-9]+$/.test(m)) {
      const p = parseLine(Buffer.from(line), SERVER_LINE_LIMITS);
      return p.ok && p.msg.command === m;
    }
    return line.includes(m);
  }
  if (m instanceof RegExp) return m.test(line);
  const p = parseLine(Buffer.from(line), SERVER_LINE_LIMITS);
  return p.ok && m(line, p.msg);
}

export function parse(line: string): IrcMessage {
  const p = parseLine(Buffer.from(line), SERVER_LINE_LIMITS);
  if (!p.ok) throw new Error(`unparseable line from server: ${line}`);
  return p.msg;
}

/**
 * A raw line client for exact-byte assertions. Every received line is kept; `expect` consumes
 * lines up to the first match and fails with the lines it saw when the timeout passes.
 */
export class RawClient {
  readonly received: string[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private partial = '';
  ended = false;
  readonly closed: Promise<void>;
  nick = '*';

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      const text = this.partial + d;
      const parts = text.split('\r\n');
      this.partial = parts.pop()!;
      for (const p of parts) this.received.push(p);
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => { this.ended = true; this.wake(); resolve(); }));
    socket.on('error', () => {});
  }

  static connect(opts: ConnectOptions & { port: number }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const host = opts.host ?? '127.0.0.1';
      const s = opts.tls
        ? tls.connect({ socket: net.connect({ host, port: opts.port, localAddress: opts.localAddress }), rejectUnauthorized: false }, () => resolve(new RawClient(s)))
        : net.connect({ host, port: opts.port, localAddress: opts.localAddress }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(...lines: string[]): void {
    this.socket.write(lines.map((l) => l + '\r\n').join(''));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Wait for a matching line; returns it. Lines before it are consumed. */
  async expect(m: Matcher, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const line = this.received[this.cursor++]!;
        if (matches(m, line)) return line;
      }
      if (this.ended) throw new Error(`connection closed while waiting for ${String(m)}; saw:\n${this.received.slice(-20).join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(m)}; last lines:\n${this.received.slice(-20).join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async expectMsg(m: Matcher, timeoutMs?: number): Promise<IrcMessage> {
    return parse(await this.expect(m, timeoutMs));
  }

  /** Collect lines until (and including) the matching one. */
  async collectUntil(m: Matcher, timeoutMs = 3000): Promise<string[]> {
    const start = this.cursor;
    await this.expect(m, timeoutMs);
    return this.received.slice(start, this.cursor);
  }

  /** Assert that no matching line arrives within `ms` (consumes what it reads). */
  async expectNone(m: Matcher, ms = 300): Promise<void> {
    const stop = Date.now() + ms;
    while (Date.now() < stop) {
      while (this.cursor < this.received.length) {
        const line = this.received[this.cursor++]!;
        if (matches(m, line)) throw new Error(`unexpected line: ${line}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    while (this.cursor < this.received.length) {
      const line = this.received[this.cursor++]!;
      if (matches(m, line)) throw new Error(`unexpected line: ${line}`);
    }
  }

  /** Round-trip a PING so everything sent before it has been processed; consumes up to the PONG. */
  async sync(): Promise<string[]> {
    const token = `sync${Math.random().toString(36).slice(2, 8)}`;
    this.send(`PING ${token}`);
    return this.collectUntil((l) => l.includes('PONG') && l.endsWith(token));
  }

  /** Drain whatever has arrived so far. */
  skip(): void { this.cursor = this.received.length; }

  async register(nick: string, caps?: string[]): Promise<void> {
    if (caps?.length) this.send('CAP LS 302', `CAP REQ :${caps.join(' ')}`);
    this.send(`NICK ${nick}`, `USER ${nick.toLowerCase().slice(0, 10)} 0 * :${nick} Real`);
    if (caps?.length) {
      await this.expect(/ CAP \S+ (ACK|NAK) /);
      this.send('CAP END');
    }
    await this.expect(/ (376|422) /);
    this.nick = nick;
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closed,
        new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('connection not closed in time')), timeoutMs); }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void { this.socket.destroy(); }
}
