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
  ip = embeddedIPv4(ip) ?? ip;
  if (allow.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits))) return true;
  return ip.range() === 'unicast';
}

function embeddedIPv4(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (ip.kind() !== 'ipv6') return undefined;
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const range = v6.range();
  const bytes = v6.toByteArray();
  // IPv4-compatible (::/96, deprecated): ::127.0.0.1 is loopback, not global unicast; :: and ::1 too.
  if (bytes.slice(0, 12).every((byte) => byte === 0)) return new ipaddr.IPv4(bytes.slice(12, 16));
  // NAT64 (64:ff9b::/96): the IPv4 address is the last 32 bits.
  if (range === 'rfc6052') return new ipaddr.IPv4(bytes.slice(12, 16));
  // 6to4 (2002::/16): the IPv4 address follows the prefix.
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}
