/**
 * Keeps downloads away from the machine's own network: loopback, private, link-local, cloud
 * metadata and every other non-public address. Checked three times per connection: the URL's
 * host when it is an IP literal (Node skips `lookup` for those), every address a name resolves
 * to, and the socket's remote address once connected.
 */
import dns from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { isPublicAddress } from '../util/public-address';
import { DownloadError } from './errors';

/** Decides whether an IP address (a canonical string) may be dialled. */
export type AddressPolicy = (ip: string) => boolean;

/** Resolves a host name to every address it has. */
export type Resolver = (hostname: string) => Promise<dns.LookupAddress[]>;

const allowAll: AddressPolicy = () => true;

/** Public-only unless private addresses are allowed; `isAllowed` replaces the public-only rule. */
export function addressPolicy(allowPrivate: boolean, isAllowed: AddressPolicy = isPublicAddress): AddressPolicy {
  return allowPrivate ? allowAll : isAllowed;
}

function blocked(host: string): DownloadError {
  return new DownloadError(
    'blocked_destination',
    `The address of ${host} is private or reserved; downloads from it are not allowed.`,
  );
}

/**
 * Refuses a URL whose host is an IP literal the policy forbids. WHATWG parsing has already
 * turned `127.1`, `2130706433` and `0x7f000001` into `127.0.0.1`; IPv6 keeps its brackets.
 */
export function assertHostAllowed(url: URL, allow: boolean | AddressPolicy): void {
  const policy = typeof allow === 'function' ? allow : addressPolicy(allow);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0 && !policy(host)) throw blocked(url.hostname);
}

/**
 * Last line of defence: refuses a connected socket whose peer the policy forbids. The message
 * names `host` as the URL gave it, never the peer: users see it, and the address a name led to
 * inside the network is not theirs to learn.
 */
export function assertSocketAllowed(socket: Pick<Socket, 'remoteAddress'>, policy: AddressPolicy, host = 'the server'): void {
  const peer = socket.remoteAddress;
  if (peer === undefined || !policy(peer)) throw blocked(host);
}

const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

function familyOf(option: dns.LookupOptions['family']): 0 | 4 | 6 {
  if (option === 4 || option === 'IPv4') return 4;
  if (option === 6 || option === 'IPv6') return 6;
  return 0;
}

export interface GuardedLookupOptions {
  allowPrivate: boolean;
  /** Replaces the public-only rule when private addresses are not allowed. */
  isAllowed?: AddressPolicy;
  /** Defaults to the system resolver (`dns.lookup` with `all: true`). */
  resolve?: Resolver;
}

/**
 * A `lookup` for `net`/`http` that resolves the name, then refuses it with a
 * `blocked_destination` DownloadError if ANY of its addresses is forbidden, so that no
 * connection is ever attempted to it. Answers in both forms Node asks for (`all` or not).
 */
export function createGuardedLookup({ allowPrivate, isAllowed, resolve = systemResolver }: GuardedLookupOptions): LookupFunction {
  const policy = addressPolicy(allowPrivate, isAllowed);
  return (hostname, options, callback) => {
    const family = familyOf(options.family);
    resolve(hostname).then(
      (resolved) => {
        if (resolved.some(({ address }) => !policy(address))) return callback(blocked(hostname), '', 0);
        const addresses = resolved.filter((entry) => family === 0 || entry.family === family);
        if (addresses.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = 'ENOTFOUND';
          return callback(err, '', 0);
        }
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/** Adapts a Node-style `lookup` function into a Resolver. */
export function resolverFrom(lookup: LookupFunction): Resolver {
  return (hostname) =>
    new Promise((resolve, reject) => {
      lookup(hostname, { all: true }, (err, address, family) => {
        if (err) return reject(err);
        resolve(typeof address === 'string' ? [{ address, family: family ?? isIP(address) }] : address);
      });
    });
}
