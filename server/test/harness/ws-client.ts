import WebSocket from 'ws';

export interface WsConnectOptions {
  /** offered subprotocols (Sec-WebSocket-Protocol); omit for none */
  protocols?: string[];
  /** Origin header; omit for none (native clients) */
  origin?: string;
  path?: string;
}

/** One received WebSocket message: the text and whether it came in a binary frame. */
export interface WsFrame { text: string; binary: boolean }

/**
 * An IRC-over-WebSocket client for exact assertions: every message is one IRC line (no CRLF).
 * `expect` consumes frames up to the first whose text matches.
 */
export class WsClient {
  readonly frames: WsFrame[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push({ text: data.toString('utf8'), binary: isBinary });
      this.wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
      resolve({ code, reason: this.closeReason });
    }));
    ws.on('error', () => {});
  }

  static connect(port: number, opts: WsConnectOptions = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/irc'}`, opts.protocols ?? [], {
        ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
        perMessageDeflate: false,
      });
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`unexpected HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get protocol(): string { return this.ws.protocol; }

  send(line: string | Buffer, binary = false): void {
    this.ws.send(line, { binary });
  }

  async expectFrame(m: RegExp | string, timeoutMs = 3000): Promise<WsFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++]!;
        if (typeof m === 'string' ? f.text.includes(m) : m.test(f.text)) return f;
      }
      if (this.closeCode !== undefined) throw new Error(`closed (${this.closeCode}) while waiting for ${String(m)}; saw:\n${this.frames.slice(-20).map((f) => f.text).join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(m)}; saw:\n${this.frames.slice(-20).map((f) => f.text).join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async expect(m: RegExp | string, timeoutMs?: number): Promise<string> {
    return (await this.expectFrame(m, timeoutMs)).text;
  }

  async register(nick: string): Promise<void> {
    this.send(`NICK ${nick}`);
    this.send(`USER ${nick.toLowerCase().slice(0, 10)} 0 * :${nick}`);
    await this.expect(/ (376|422) /);
  }

  async waitClosed(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    return Promise.race([
      this.closed,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('websocket not closed in time')), timeoutMs)),
    ]);
  }

  destroy(): void { this.ws.terminate(); }
}
