import type { Socket } from 'node:net';
import { formatIp, normalizeIp, parseIp, type CidrSet } from '../util/cidr.js';

/**
 * PROXY protocol v1 and v2 (https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt), read
 * only on listeners configured for it and only from peers in trusted-proxies (hardening A7, #12
 * finding 7: both default to off/empty), plus the trusted X-Forwarded-For rule for WebSocket. From a trusted peer the header is optional: when the first bytes are not a PROXY
 * header they are the client's own (IRC, or a TLS ClientHello) and are handed on untouched.
 */

/** v1: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 6667\r\n", at most 107 bytes with CRLF */
export const V1_MAX_BYTES = 107;
const V1_PREFIX = Buffer.from('PROXY ');
/** v2: the 12-byte signature */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** the longest v2 header we read (16 + address block + TLVs); proxies send far less */
export const V2_MAX_BYTES = 16 + 2048;
/** how long a trusted peer has to send the whole header (Ergo: 5 s) */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

export interface ProxySource { ip: string; port: number }

export type ProxyParse =
  /** the bytes do not start with a PROXY header */
  | { kind: 'none' }
  /** a prefix of a header: read more */
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /** `source` is absent for v1 UNKNOWN, v2 LOCAL and v2 non-IP families: keep the peer address */
  | { kind: 'header'; version: 1 | 2; consumed: number; source?: ProxySource };

/** true while `buf` is a (possibly partial) prefix of `sig` */
function prefixOf(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

function port(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,5}$/.test(s) || (s.length > 1 && s[0] === '0')) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

function parseV1(buf: Buffer): ProxyParse {
  const lf = buf.indexOf(0x0a);
  if (lf === -1) return buf.length >= V1_MAX_BYTES ? { kind: 'invalid', reason: 'v1 header longer than 107 bytes' } : { kind: 'incomplete' };
  if (lf + 1 > V1_MAX_BYTES) return { kind: 'invalid', reason: 'v1 header longer than 107 bytes' };
  if (lf === 0 || buf[lf - 1] !== 0x0d) return { kind: 'invalid', reason: 'v1 header not terminated by CRLF' };
  const line = buf.subarray(0, lf - 1).toString('latin1');
  const f = line.split(' ');
  const consumed = lf + 1;
  if (f[1] === 'UNKNOWN') return { kind: 'header', version: 1, consumed };
  if (f.length !== 6 || (f[1] !== 'TCP4' && f[1] !== 'TCP6')) return { kind: 'invalid', reason: 'malformed v1 header' };
  const src = parseIp(f[2]!);
  const dst = parseIp(f[3]!);
  const sport = port(f[4]);
  const dport = port(f[5]);
  // TCP4 needs dotted quads; TCP6 needs IPv6 text (a mapped v4 address is fine)
  const v4ok = (s: string) => !s.includes(':');
  if (!src || !dst || sport === undefined || dport === undefined) return { kind: 'invalid', reason: 'malformed v1 header' };
  if (f[1] === 'TCP4' ? !(v4ok(f[2]!) && v4ok(f[3]!)) : (v4ok(f[2]!) || v4ok(f[3]!))) return { kind: 'invalid', reason: 'v1 address family mismatch' };
  return { kind: 'header', version: 1, consumed, source: { ip: formatIp(src), port: sport } };
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return { kind: 'incomplete' };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { kind: 'invalid', reason: 'v2 version is not 2' };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { kind: 'invalid', reason: 'v2 unknown command' };
  const fam = buf[13]! >> 4;
  const len = buf.readUInt16BE(14);
  if (16 + len > V2_MAX_BYTES) return { kind: 'invalid', reason: 'v2 header too long' };
  if (buf.length < 16 + len) return { kind: 'incomplete' };
  const consumed = 16 + len;
  // LOCAL: the proxy's own connection (health checks); keep the peer address
  if (cmd === 0) return { kind: 'header', version: 2, consumed };
  const body = buf.subarray(16, consumed);
  if (fam === 1) {
    if (len < 12) return { kind: 'invalid', reason: 'v2 AF_INET block too short' };
    return { kind: 'header', version: 2, consumed, source: { ip: formatIp({ family: 4, bytes: body.subarray(0, 4) }), port: body.readUInt16BE(8) } };
  }
  if (fam === 2) {
    if (len < 36) return { kind: 'invalid', reason: 'v2 AF_INET6 block too short' };
    return { kind: 'header', version: 2, consumed, source: { ip: normalizeIp(formatIp({ family: 6, bytes: body.subarray(0, 16) })), port: body.readUInt16BE(32) } };
  }
  // AF_UNSPEC / AF_UNIX: nothing usable, keep the peer address
  return { kind: 'header', version: 2, consumed };
}

/** Look at the first bytes a trusted peer sent. Pure; feed it everything received so far. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] === V1_PREFIX[0]) {
    if (!prefixOf(buf, V1_PREFIX)) return { kind: 'none' };
    return buf.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(buf);
  }
  if (buf[0] === V2_SIGNATURE[0]) {
    if (!prefixOf(buf, V2_SIGNATURE)) return { kind: 'none' };
    return buf.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(buf);
  }
  return { kind: 'none' };
}

export type ProxyRead =
  | { ok: true; source?: ProxySource }
  /** `closed`: the peer went away before a header was complete (nothing to complain about) */
  | { ok: false; reason: string; closed?: boolean };

/**
 * What the bytes read so far from a trusted peer decide (both readers: the stream one below and
 * lean-tcp.ts's): undefined while a header may still be coming; otherwise the result and the
 * bytes that are the client's own (all of them when there is no header).
 */
export function proxyDecision(buf: Buffer): { read: ProxyRead; rest?: Buffer } | undefined {
  const p = parseProxyHeader(buf);
  if (p.kind === 'incomplete') return undefined;
  if (p.kind === 'none') return { read: { ok: true }, rest: buf };
  if (p.kind === 'invalid') return { read: { ok: false, reason: p.reason } };
  return { read: { ok: true, ...(p.source ? { source: p.source } : {}) }, rest: buf.subarray(p.consumed) };
}

/** The deadline passed with `buf` read: nothing at all means no header; part of one is refused. */
export function proxyDeadline(buf: Buffer): ProxyRead {
  return buf.length === 0 ? { ok: true } : { ok: false, reason: 'PROXY header not complete in time' };
}

/** The peer closed before a header was complete. */
export const PROXY_CLOSED: ProxyRead = { ok: false, reason: 'closed before the PROXY header', closed: true };

/**
 * Read an optional PROXY header from a trusted peer's socket. Bytes after the header (or all of
 * them when there is none) are pushed back with `unshift`, and the socket is left paused for the
 * next reader (SocketConn resumes it; a TLSSocket takes the buffered bytes itself).
 * A peer that sends nothing before the deadline is taken as having no header; a partial or
 * malformed header is refused (`ok: false`: the caller closes the socket).
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, done: (r: ProxyRead) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (r: ProxyRead, rest?: Buffer): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.pause();
    if (rest && rest.length > 0) socket.unshift(rest);
    done(r);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const d = proxyDecision(buf);
    if (d) finish(d.read, d.rest);
  };
  const onEnd = (): void => finish(PROXY_CLOSED);
  const timer = setTimeout(() => finish(proxyDeadline(buf)), timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
}

/**
 * The client address from X-Forwarded-For, used only when the TCP peer is a trusted proxy:
 * walk the hops from the right (the one our proxy appended) and take the first that is not
 * itself a trusted proxy. A malformed hop stops the walk at the last trusted address; when every
 * hop is trusted, the leftmost one is the client.
 */
export function clientIpFromForwarded(header: string | string[] | undefined, peerIp: string, trusted: CidrSet): string {
  if (header === undefined) return peerIp;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((h) => h.trim()).filter(Boolean);
  let ip = peerIp;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = stripPort(hops[i]!);
    const p = parseIp(hop);
    if (!p) return ip;
    ip = formatIp(p);
    if (!trusted.has(p)) return ip;
  }
  return ip;
}

/** "192.0.2.1:1234" and "[2001:db8::1]:1234" (some proxies add the port) → the address */
function stripPort(h: string): string {
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  if (colon !== -1 && colon === h.lastIndexOf(':') && h.includes('.')) return h.slice(0, colon);
  return h;
}
