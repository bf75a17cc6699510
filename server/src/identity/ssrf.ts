/**
 * SSRF guard for outbound identity requests (hardening.md D4): classifies IP addresses and wraps
 * dns.lookup so every address a hostname resolves to is checked at connect time (no TOCTOU
 * between a separate DNS check and the connection, so DNS rebinding cannot slip through).
 *
 * The range matching uses node:net BlockList (built in, well kept). What is hand-written is the
 * unwrapping of IPv6 forms that embed an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16): no
 * dependency of this package does that, and a classifier that misses them lets
 * `http://[64:ff9b::7f00:1]` reach 127.0.0.1 through a NAT64 gateway. IPv6 is handled as an
 * allowlist (global unicast 2000::/3 only, minus special ranges), which fails closed on any
 * range this table forgets.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, isIPv4, type LookupFunction } from 'node:net';
import { IdentityError } from './types.js';

export type AddressClass = 'public' | 'loopback' | 'forbidden';

const V4_LOOPBACK = new BlockList();
V4_LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');

const V4_FORBIDDEN = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],        // "this network", unspecified
  ['10.0.0.0', 8],       // private
  ['100.64.0.0', 10],    // CGNAT
  ['169.254.0.0', 16],   // link-local (cloud metadata lives here)
  ['172.16.0.0', 12],    // private
  ['192.0.0.0', 24],     // IETF protocol assignments
  ['192.0.2.0', 24],     // TEST-NET-1
  ['192.88.99.0', 24],   // 6to4 relay anycast
  ['192.168.0.0', 16],   // private
  ['198.18.0.0', 15],    // benchmarking
  ['198.51.100.0', 24],  // TEST-NET-2
  ['203.0.113.0', 24],   // TEST-NET-3
  ['224.0.0.0', 4],      // multicast
  ['240.0.0.0', 4],      // reserved + broadcast
] as const) V4_FORBIDDEN.addSubnet(net, bits, 'ipv4');

const V6_GLOBAL = new BlockList();
V6_GLOBAL.addSubnet('2000::', 3, 'ipv6');

const V6_FORBIDDEN = new BlockList();
for (const [net, bits] of [
  ['2001::', 23],        // IETF protocol assignments (Teredo 2001::/32, ORCHID, benchmarking …)
  ['2001:db8::', 32],    // documentation
  ['3fff::', 20],        // documentation (RFC 9637)
] as const) V6_FORBIDDEN.addSubnet(net, bits, 'ipv6');

/** Expand an IPv6 literal (no brackets, optional %zone, optional dotted-quad tail) to 8 hextets. */
function ipv6Hextets(addr: string): number[] | undefined {
  let a = addr.replace(/%.*$/, '');
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (m) {
    if (!isIPv4(m[2]!)) return undefined;
    const o = m[2]!.split('.').map(Number);
    a = `${m[1]}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  const out = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return out.every((h) => Number.isInteger(h) && h >= 0 && h <= 0xffff) ? out : undefined;
}

const v4From = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

function classifyV4(ip: string): AddressClass {
  if (V4_LOOPBACK.check(ip, 'ipv4')) return 'loopback';
  return V4_FORBIDDEN.check(ip, 'ipv4') ? 'forbidden' : 'public';
}

/** Classify an IP literal (IPv4 or IPv6, brackets allowed). Anything unparsable is 'forbidden'. */
export function classifyAddress(input: string): AddressClass {
  const ip = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const fam = isIP(ip.replace(/%.*$/, ''));
  if (fam === 4) return classifyV4(ip);
  if (fam !== 6) return 'forbidden';
  const h = ipv6Hextets(ip);
  if (!h) return 'forbidden';
  const [h0, h1, h2, h3, h4, h5, h6, h7] = h as [number, number, number, number, number, number, number, number];
  const zero5 = h0 === 0 && h1 === 0 && h2 === 0 && h3 === 0 && h4 === 0;
  if (zero5 && h5 === 0 && h6 === 0 && h7 === 1) return 'loopback';           // ::1
  if (zero5 && h5 === 0xffff) return classifyV4(v4From(h6, h7));             // ::ffff:a.b.c.d
  if (zero5 && h5 === 0) return 'forbidden';                                 // ::, ::a.b.c.d (deprecated)
  if (h0 === 0 && h1 === 0 && h2 === 0 && h3 === 0 && h4 === 0xffff && h5 === 0) return 'forbidden'; // ::ffff:0:a.b.c.d (SIIT)
  if (h0 === 0x64 && h1 === 0xff9b && h2 === 0 && h3 === 0 && h4 === 0 && h5 === 0) return classifyV4(v4From(h6, h7)); // NAT64
  if (h0 === 0x2002) {                                                       // 6to4 embeds an IPv4 address
    const inner = classifyV4(v4From(h1, h2));
    return inner === 'public' ? 'public' : 'forbidden';
  }
  const canon = h.map((x) => x.toString(16)).join(':');
  if (!V6_GLOBAL.check(canon, 'ipv6')) return 'forbidden';                    // ULA, link-local, multicast, …
  return V6_FORBIDDEN.check(canon, 'ipv6') ? 'forbidden' : 'public';
}

export function addressAllowed(ip: string, allowLoopback: boolean): boolean {
  const c = classifyAddress(ip);
  return c === 'public' || (c === 'loopback' && allowLoopback);
}

/** `localhost` and `*.localhost` always mean this machine (RFC 6761), whatever DNS says. */
export function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/** A host that is this machine: `localhost` or a loopback IP literal. */
export function isLoopbackHost(host: string): boolean {
  return isLocalhostName(host) || (isIP(host.replace(/^\[|\]$/g, '')) !== 0 && classifyAddress(host) === 'loopback');
}

/**
 * A `lookup` for http(s).request / net.connect: resolves every address and refuses the whole
 * lookup if any of them is not allowed (so happy-eyeballs cannot pick a forbidden one).
 */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number } & Record<string, unknown>, callback: (...a: unknown[]) => void) => {
    if (isLocalhostName(hostname) && !allowLoopback) {
      callback(new IdentityError('forbidden-host', `refusing to connect to ${hostname}`));
      return;
    }
    dnsLookup(hostname, { ...options, all: true }, (err, addrs: LookupAddress[]) => {
      if (err) { callback(err); return; }
      if (addrs.length === 0) { callback(new IdentityError('network', `no address for ${hostname}`)); return; }
      for (const a of addrs) {
        if (!addressAllowed(a.address, allowLoopback)) {
          callback(new IdentityError('forbidden-host', `refusing to connect to ${hostname} (${a.address})`));
          return;
        }
        if (isLocalhostName(hostname) && classifyAddress(a.address) !== 'loopback') {
          callback(new IdentityError('forbidden-host', `${hostname} resolved to a non-loopback address`));
          return;
        }
      }
      if (options.all) callback(null, addrs);
      else callback(null, addrs[0]!.address, addrs[0]!.family);
    });
  }) as unknown as LookupFunction;
}
