/**
 * Which IP addresses the crawler may connect to. Pure. Only global unicast is allowed by
 * default; IPv6 forms that embed an IPv4 address (mapped, IPv4-compatible ::a.b.c.d, NAT64,
 * 6to4) are judged by the embedded address. Explicit CIDRs (CRAWL_ALLOW_TARGETS) open ranges for tests and intranets.
 */
import ipaddr from 'ipaddr.js';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseCidrs(list: readonly string[]): Cidr[] {
  return list.map((cidr) => ipaddr.parseCIDR(cidr));
}

/** True when `address` (a literal IPv4 or IPv6, brackets allowed) may be connected to. */
export function isAllowedAddress(address: string, allow: readonly Cidr[] = []): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return false;
  }
  const embedded = embeddedIPv4(ip);
  return embedded ? embedded.every((v4) => allowedAsIs(v4, allow)) : allowedAsIs(ip, allow);
}

function allowedAsIs(ip: ipaddr.IPv4 | ipaddr.IPv6, allow: readonly Cidr[]): boolean {
  if (allow.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits))) return true;
  return ip.range() === 'unicast';
}

/**
 * Where RFC 6052 (section 2.2) puts the IPv4 address for each prefix length a local-use NAT64
 * prefix may have: the byte offsets of its four octets. Bits 64-71 (byte 8, the "u" octet) are
 * never part of it, so the /48, /56 and /64 forms read around it.
 */
const NAT64_LAYOUTS: readonly (readonly number[])[] = [
  [6, 7, 9, 10], // /48
  [7, 9, 10, 11], // /56
  [9, 10, 11, 12], // /64
  [12, 13, 14, 15], // /96
];

/** The IPv4 addresses an IPv6 address stands for, or undefined when it embeds none. */
function embeddedIPv4(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  if (ip.kind() !== 'ipv6') return undefined;
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return [v6.toIPv4Address()];
  const range = v6.range();
  const bytes = v6.toByteArray();
  const at = (offsets: readonly number[]) => new ipaddr.IPv4(offsets.map((offset) => bytes[offset]));
  // IPv4-compatible (::/96, deprecated): ::127.0.0.1 is loopback, not global unicast; :: and ::1 too.
  if (bytes.slice(0, 12).every((byte) => byte === 0)) return [at(NAT64_LAYOUTS[3])];
  if (range === 'rfc6052') {
    // The local-use prefix 64:ff9b:1::/48 (RFC 8215) is a /48 or any longer prefix the operator
    // carved from it, and which one the local NAT64 uses is not known here: the address is
    // judged by every IPv4 address it can stand for.
    const localUse = bytes[4] === 0 && bytes[5] === 1;
    // The well-known 64:ff9b::/96: the IPv4 address is the last 32 bits.
    return localUse ? NAT64_LAYOUTS.map(at) : [at(NAT64_LAYOUTS[3])];
  }
  // 6to4 (2002::/16): the IPv4 address follows the prefix.
  if (range === '6to4') return [at([2, 3, 4, 5])];
  return undefined;
}
