/**
 * The line interface every transport gives the client (client.ts): Node's TCP, TLS and WebSocket
 * (transport.ts) and the browser's WebSocket (transport-browser.ts). No Node built-ins here.
 */

export interface LineTransport {
  /** send one line (no CR/LF) */
  send(line: string): void;
  /** flush and close gracefully */
  close(): void;
  /** drop the connection now */
  destroy(): void;
  onLine: (line: string) => void;
  onClose: (err?: Error) => void;
}

/** Largest line accepted from the server before the connection is dropped (IRCv3 tags + body, generous). */
export const MAX_INBOUND_LINE = 1 << 20;

/** The WebSocket subprotocol of IRCv3's WebSocket spec: text frames, one UTF-8 line each. */
export const WS_SUBPROTOCOL = 'text.ircv3.net';

/** Parse `irc://host:port`, `ircs://host:port`, `ws(s)://host:port/path`. */
export function parseServerUrl(url: string): { kind: 'tcp' | 'tls' | 'ws'; host: string; port: number; url: string } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  switch (u.protocol) {
    case 'irc:': return { kind: 'tcp', host, port: Number(u.port || 6667), url };
    case 'ircs:': return { kind: 'tls', host, port: Number(u.port || 6697), url };
    case 'ws:': return { kind: 'ws', host, port: Number(u.port || 80), url };
    case 'wss:': return { kind: 'ws', host, port: Number(u.port || 443), url };
    default: throw new Error(`unsupported server URL ${url} (use irc://, ircs://, ws:// or wss://)`);
  }
}
