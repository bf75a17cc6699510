/**
 * IP addresses as bytes, and CIDR sets (limit-exempt, throttle-exempt, trusted-proxies).
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is treated as the IPv4 address everywhere, so a v4 CIDR
 * matches a peer that a dual-stack socket reports in mapped form.
 */

export interface ParsedIp {
  readonly family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6 */
  readonly bytes: Uint8Array;
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Uint8Array | undefined {
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone); // fe80::1%eth0
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

/** Parse an IPv4 or IPv6 address; IPv4-mapped IPv6 comes back as IPv4. */
export function parseIp(s: string): ParsedIp | undefined {
  if (s.includes(':')) {
    const b = parseV6(s);
    if (!b) return undefined;
    const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    return mapped ? { family: 4, bytes: b.slice(12) } : { family: 6, bytes: b };
  }
  const b = parseV4(s);
  return b ? { family: 4, bytes: b } : undefined;
}

/** Canonical text of an address: dotted IPv4 (also for mapped v6), RFC 5952 IPv6. */
export function formatIp(ip: ParsedIp): string {
  if (ip.family === 4) return [...ip.bytes].join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!);
  // longest run of ≥ 2 zero groups becomes ::
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best === -1) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Normalise an address string (mapped v6 → v4, canonical v6); unparseable input is returned as is. */
export function normalizeIp(s: string): string {
  const p = parseIp(s);
  return p ? formatIp(p) : s;
}

interface Block { family: 4 | 6; bytes: Uint8Array; bits: number }

function parseCidr(s: string): Block | undefined {
  const slash = s.indexOf('/');
  const ip = parseIp(slash === -1 ? s : s.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const b = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return undefined;
    bits = Number(b);
    // `::ffff:10.0.0.0/104` is 10.0.0.0/8
    if (ip.family === 4 && s.slice(0, slash).includes(':')) bits -= 96;
    if (bits < 0 || bits > max) return undefined;
  }
  return { family: ip.family, bytes: ip.bytes, bits };
}

function inBlock(ip: ParsedIp, b: Block): boolean {
  if (ip.family !== b.family) return false;
  const full = b.bits >> 3;
  for (let i = 0; i < full; i++) if (ip.bytes[i] !== b.bytes[i]) return false;
  const rest = b.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[full]! & mask) === (b.bytes[full]! & mask);
}

/** A list of IPs/CIDRs ("127.0.0.1", "10.0.0.0/8", "2001:db8::/32"); matching is linear (lists are short). */
export class CidrSet {
  private readonly blocks: Block[];

  constructor(entries: readonly string[]) {
    this.blocks = entries.map((e) => {
      const b = parseCidr(e.trim());
      if (!b) throw new Error(`not an IP address or CIDR: ${e}`);
      return b;
    });
  }

  get size(): number { return this.blocks.length; }

  has(ip: string | ParsedIp): boolean {
    const p = typeof ip === 'string' ? parseIp(ip) : ip;
    if (!p) return false;
    return this.blocks.some((b) => inBlock(p, b));
  }
}
