import { formatIp, parseIp } from './cidr.js';

/**
 * The key connection limits count by (hardening A1/A2): the IPv4 address (/32) or the IPv6 /64
 * (one customer usually gets a whole /64). IPv4-mapped IPv6 counts as the IPv4 address.
 * Unparseable input (should not happen for socket addresses) is its own key.
 */
export function ipKey(ip: string): string {
  const p = parseIp(ip);
  if (!p) return ip;
  if (p.family === 4) return formatIp(p);
  const net = new Uint8Array(16);
  net.set(p.bytes.subarray(0, 8));
  return `${formatIp({ family: 6, bytes: net })}/64`;
}
