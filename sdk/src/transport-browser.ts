/**
 * The browser's transport (#15): a WebSocket (subprotocol `text.ircv3.net`, one line per text
 * message) through the platform's own `WebSocket`. No Node built-ins, so the web client and any
 * page can use the SDK. `WebSocket` may be given (a test passes `ws`'s, which has the same API).
 */
import { MAX_INBOUND_LINE, parseServerUrl, WS_SUBPROTOCOL, type LineTransport } from './line-transport.js';

/** the part of the WebSocket API used here (the DOM's, or `ws`'s) */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: { data?: unknown; code?: number; reason?: string }) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface BrowserTransportOptions {
  /** give up connecting after this many ms (default 15000) */
  connectTimeoutMs?: number;
  /** the WebSocket class (default: the platform's `globalThis.WebSocket`) */
  WebSocket?: WebSocketConstructor;
}

const OPEN = 1;
const noop = (): void => {};

class BrowserWsTransport implements LineTransport {
  onLine: (line: string) => void = noop;
  onClose: (err?: Error) => void = noop;
  private closed = false;

  constructor(private readonly ws: WebSocketLike) {
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return; // IRCv3 WebSocket: text frames only
      if (ev.data.length > MAX_INBOUND_LINE) { this.finish(new Error('line from server too long')); ws.close(1009); return; }
      for (const line of ev.data.split(/\r?\n/)) if (line.length) this.onLine(line);
    });
    ws.addEventListener('close', (ev) => this.finish(ev.code !== undefined && ev.code !== 1000 && ev.code !== 1005 ? new Error(`WebSocket closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`) : undefined));
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(err);
  }

  send(line: string): void {
    if (this.ws.readyState === OPEN) this.ws.send(line);
  }

  close(): void { this.ws.close(1000); }

  destroy(): void {
    this.ws.close(1000);
    this.finish();
  }
}

/** Open a WebSocket line transport to `ws://…` or `wss://…`; resolves once it is open. */
export function openBrowserTransport(url: string, opts: BrowserTransportOptions = {}): Promise<LineTransport> {
  const target = parseServerUrl(url);
  if (target.kind !== 'ws') return Promise.reject(new Error(`a browser connects with ws:// or wss:// only (got ${url})`));
  const Ws = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ws) return Promise.reject(new Error('no WebSocket in this environment: pass one as `WebSocket`'));
  return new Promise((resolve, reject) => {
    const ws = new Ws(target.url, [WS_SUBPROTOCOL]);
    let settled = false;
    const timer = setTimeout(() => { if (!settled) { settled = true; ws.close(); reject(new Error(`connect to ${url} timed out`)); } }, opts.connectTimeoutMs ?? 15_000);
    ws.addEventListener('open', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(new BrowserWsTransport(ws));
    });
    const failed = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`could not connect to ${url}`));
    };
    ws.addEventListener('error', failed);
    ws.addEventListener('close', failed);
  });
}
