/**
 * Which IP addresses are on the public internet: the one rule the API's early check and the
 * download engine's guard share. Everything else (loopback, private, link-local, carrier-grade
 * NAT, cloud metadata, documentation, multicast…) is not public.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Cloud platform endpoints inside publicly routed space, which ipaddr.js calls plain unicast.
 * The others sit in ranges refused anyway: 169.254.169.254 (link-local), 100.100.100.200
 * (carrier-grade NAT), fd00:ec2::254 (unique-local).
 */
const PLATFORM_IPV4 = new Set([
  '168.63.129.16', // Azure WireServer: VM agent, health probes, DNS
]);

function isPublicIPv4(address: ipaddr.IPv4): boolean {
  // Everything ipaddr.js names (private, loopback, linkLocal, carrierGradeNat, reserved with the
  // documentation and benchmarking ranges, multicast, broadcast, unspecified…) is not public.
  return address.range() === 'unicast' && !PLATFORM_IPV4.has(address.toString());
}

function ipv4At(parts: number[], index: number): ipaddr.IPv4 {
  const [high, low] = [parts[index], parts[index + 1]];
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function isPublicIPv6(address: ipaddr.IPv6): boolean {
  const { parts } = address;
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return isPublicIPv4(ipv4At(parts, 6));
    case 'rfc6052': // NAT64: 64:ff9b::a.b.c.d is well-known; 64:ff9b:1::/48 is for local use only
      return parts[2] === 0 && isPublicIPv4(ipv4At(parts, 6));
    case '6to4': // 2002:aabb:ccdd::
      return isPublicIPv4(ipv4At(parts, 1));
    case 'teredo': {
      // 2001:0:<server v4>:<flags>:<port>:<client v4 with every bit flipped>
      const client = ipv4At([parts[6] ^ 0xffff, parts[7] ^ 0xffff], 0);
      return isPublicIPv4(ipv4At(parts, 2)) && isPublicIPv4(client);
    }
    case 'unicast':
      return address.match(GLOBAL_UNICAST);
    default: // loopback, linkLocal, uniqueLocal (fd00:ec2::254 too), multicast, reserved…
      return false;
  }
}

/**
 * True only for an address on the public internet. Accepts canonical IPv4 and IPv6 strings (as
 * DNS and `URL` give them); anything else, including `127.1` or `0x7f000001`, is false.
 */
export function isPublicAddress(ip: string): boolean {
  if (isIP(ip) === 0) return false;
  try {
    const address = ipaddr.parse(ip);
    return address.kind() === 'ipv4' ? isPublicIPv4(address as ipaddr.IPv4) : isPublicIPv6(address as ipaddr.IPv6);
  } catch {
    return false; // unparseable means not provably public
  }
}
