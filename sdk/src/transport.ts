/**
 * Node's transports: TCP, TLS and WebSocket. TCP/TLS frame lines with CRLF; WebSocket
 * (subprotocol `text.ircv3.net`) carries one line per text message without CRLF.
 */
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { MAX_INBOUND_LINE, parseServerUrl, WS_SUBPROTOCOL, type LineTransport } from './line-transport.js';

export { MAX_INBOUND_LINE, parseServerUrl, WS_SUBPROTOCOL, type LineTransport };

export interface TransportOptions {
  /** extra TLS options for ircs:// (e.g. `ca`, `rejectUnauthorized`, `servername`); for wss:// pass them in `ws` */
  tls?: tls.ConnectionOptions;
  /** extra `ws` client options for ws:// and wss:// (e.g. `headers`, `origin`) */
  ws?: WebSocket.ClientOptions;
  /** local address to connect from (TCP/TLS) */
  localAddress?: string;
  /** give up connecting after this many ms (default 15000) */
  connectTimeoutMs?: number;
}

const noop = (): void => {};

class SocketTransport implements LineTransport {
  onLine: (line: string) => void = noop;
  onClose: (err?: Error) => void = noop;
  private buf: Buffer = Buffer.alloc(0);
  private closed = false;
  private error: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.data(d));
    socket.on('error', (e) => { this.error ??= e; });
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.onClose(this.error);
    });
  }

  private data(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let nl: number;
    while ((nl = this.buf.indexOf(0x0a)) >= 0) {
      let end = nl;
      if (end > 0 && this.buf[end - 1] === 0x0d) end--;
      const line = this.buf.subarray(0, end).toString('utf8');
      this.buf = this.buf.subarray(nl + 1);
      if (line.length) this.onLine(line);
      if (this.closed) return;
    }
    if (this.buf.length > MAX_INBOUND_LINE) {
      this.error = new Error('line from server too long');
      this.socket.destroy();
    }
  }

  send(line: string): void {
    if (!this.socket.destroyed) this.socket.write(`${line}\r\n`);
  }

  close(): void { this.socket.end(); }

  destroy(): void { this.socket.destroy(); }
}

class WsTransport implements LineTransport {
  onLine: (line: string) => void = noop;
  onClose: (err?: Error) => void = noop;
  private error: Error | undefined;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      for (const line of text.split(/\r?\n/)) if (line.length) this.onLine(line);
    });
    ws.on('error', (e) => { this.error ??= e; });
    ws.on('close', () => this.onClose(this.error));
  }

  send(line: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(line);
  }

  close(): void { this.ws.close(1000); }

  destroy(): void { this.ws.terminate(); }
}

/** Open a line transport to `url`; resolves once connected (TLS: after the handshake). */
export function openTransport(url: string, opts: TransportOptions = {}): Promise<LineTransport> {
  const target = parseServerUrl(url);
  const timeoutMs = opts.connectTimeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (err: Error, cleanup: () => void): void => {
      if (timer) clearTimeout(timer);
      cleanup();
      reject(err);
    };
    if (target.kind === 'ws') {
      const ws = new WebSocket(target.url, [WS_SUBPROTOCOL], { perMessageDeflate: false, ...opts.ws });
      timer = setTimeout(() => fail(new Error(`connect to ${url} timed out`), () => ws.terminate()), timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        ws.removeAllListeners('error');
        resolve(new WsTransport(ws));
      });
      ws.once('error', (e) => fail(e, () => ws.terminate()));
      ws.once('unexpected-response', (_req, res) => fail(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`), () => ws.terminate()));
      return;
    }
    const tcp = (): net.Socket => net.connect({ host: target.host, port: target.port, localAddress: opts.localAddress });
    const socket = target.kind === 'tls'
      ? tls.connect({
        host: target.host, port: target.port, servername: net.isIP(target.host) ? undefined : target.host,
        ...(opts.localAddress !== undefined ? { socket: tcp() } : {}), ...opts.tls,
      })
      : tcp();
    timer = setTimeout(() => fail(new Error(`connect to ${url} timed out`), () => socket.destroy()), timeoutMs);
    socket.once(target.kind === 'tls' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(new SocketTransport(socket));
    });
    socket.once('error', (e: Error) => fail(e, () => socket.destroy()));
  });
}
