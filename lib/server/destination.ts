/**
 * What can be refused from the URL alone, before a job exists: hosts that are loopback,
 * private or reserved addresses written as IP literals (in any spelling WHATWG parsing
 * normalizes, such as `127.1`, `2130706433`, `0x7f000001`, `[::ffff:127.0.0.1]`) and names
 * that always mean this machine. Names that resolve there are caught by the worker's guard,
 * on every connection and every redirect.
 */
import { isIP } from 'node:net';
import { isPublicAddress } from '../util/public-address';

const LOCAL_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/i;

/** Whether the URL's host is, without resolving anything, a destination that is not public. */
export function isRefusableDestination(url: URL): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (isIP(host) !== 0) return !isPublicAddress(host);
  return LOCAL_NAMES.test(host);
}
