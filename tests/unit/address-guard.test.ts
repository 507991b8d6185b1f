import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, expect, it } from '@jest/globals';
import {
  assertHostAllowed,
  assertSocketAllowed,
  createGuardedLookup,
  type Resolver,
} from '../../lib/engine/address-guard';
import { isPublicAddress } from '../../lib/util/public-address';
import { DownloadError } from '../../lib/engine/errors';

// Pure: nothing here opens a socket. Resolvers are stubs that return fixed answers.

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['93.184.216.34'],
    ['100.63.255.255'], // just below carrier-grade NAT
    ['100.128.0.0'], // just above it
    ['172.15.255.255'], // just below 172.16/12
    ['172.32.0.0'], // just above it
    ['11.0.0.0'],
    ['2606:4700:4700::1111'],
    ['2001:4860:4860::8888'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::808:808'], // NAT64 of 8.8.8.8
    ['2002:808:808::1'], // 6to4 of 8.8.8.8
    ['168.63.129.15'], // just below Azure's WireServer
    ['168.63.129.17'], // just above it
  ])('accepts the public address %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback, end of 127/8'],
    ['10.0.0.1', 'private 10/8'],
    ['10.255.255.255', 'private 10/8, last'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12, last'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'cloud metadata'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT, last'],
    ['100.100.100.200', 'cloud metadata inside carrier-grade NAT'],
    ['168.63.129.16', 'Azure WireServer, in public space'],
    ['::ffff:168.63.129.16', 'IPv4-mapped Azure WireServer'],
    ['64:ff9b::a83f:8110', 'NAT64 of Azure WireServer'],
    ['2002:a83f:8110::1', '6to4 of Azure WireServer'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network 0/8'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved 240/4'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation TEST-NET-1'],
    ['198.51.100.1', 'documentation TEST-NET-2'],
    ['203.0.113.1', 'documentation TEST-NET-3'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['febf::1', 'IPv6 link-local, end of fe80::/10'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'AWS metadata over IPv6'],
    ['ff02::1', 'IPv6 multicast'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['3fff::1', 'IPv6 documentation (RFC 9637)'],
    ['fec0::1', 'deprecated site-local'],
    ['100::1', 'discard'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex spelling'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:0:127.0.0.1', 'IPv4-translated (RFC 6145) loopback'],
    ['::127.0.0.1', 'deprecated IPv4-compatible'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['64:ff9b:1::808:808', 'local-use NAT64 prefix'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2002:c0a8:101::1', '6to4 of 192.168.1.1'],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'Teredo with client 10.0.0.1'],
    ['fe80::1%eth0', 'link-local with a zone'],
  ])('refuses %s (%s)', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    ['2130706433'],
    ['0x7f000001'],
    ['127.1'],
    ['0177.0.0.1'],
    ['localhost'],
    [''],
    ['1.2.3.4.5'],
    ['[::1]'],
    ['8.8.8.8 '],
    ['not an address'],
  ])('refuses %p, which is not a canonical address', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });
});

describe('when a URL is parsed, every spelling of loopback becomes 127.0.0.1', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0x7f.0.0.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[0:0:0:0:0:0:0:1]/', '[::1]'],
  ])('%s has hostname %s, which assertHostAllowed refuses', (raw, hostname) => {
    const url = new URL(raw);
    expect(url.hostname).toBe(hostname);
    expect(() => assertHostAllowed(url, false)).toThrow(DownloadError);
  });
});

describe('assertHostAllowed', () => {
  it('refuses a private IP literal with the blocked_destination code', () => {
    expect.assertions(2);
    try {
      assertHostAllowed(new URL('http://169.254.169.254/latest/meta-data/'), false);
    } catch (err) {
      expect(err).toBeInstanceOf(DownloadError);
      expect((err as DownloadError).code).toBe('blocked_destination');
    }
  });

  it('lets a public IP literal and any name through (names are checked at lookup)', () => {
    expect(() => assertHostAllowed(new URL('http://8.8.8.8/'), false)).not.toThrow();
    expect(() => assertHostAllowed(new URL('http://[2606:4700::1111]/'), false)).not.toThrow();
    expect(() => assertHostAllowed(new URL('http://localhost/'), false)).not.toThrow();
  });

  it('lets private literals through when private addresses are allowed', () => {
    expect(() => assertHostAllowed(new URL('http://127.0.0.1/'), true)).not.toThrow();
    expect(() => assertHostAllowed(new URL('http://[::1]/'), true)).not.toThrow();
  });

  it('applies a custom policy to a redirect target', () => {
    const onlyFirstLoopback = (ip: string) => ip === '127.0.0.1';
    expect(() => assertHostAllowed(new URL('http://127.0.0.1:8080/a'), onlyFirstLoopback)).not.toThrow();
    expect(() => assertHostAllowed(new URL('/b', 'http://127.0.0.2:8080/a'), onlyFirstLoopback)).toThrow(DownloadError);
  });
});

describe('assertSocketAllowed', () => {
  it('refuses a socket connected to a forbidden peer, or to an unknown one', () => {
    expect(() => assertSocketAllowed({ remoteAddress: '10.1.2.3' }, isPublicAddress)).toThrow(DownloadError);
    expect(() => assertSocketAllowed({ remoteAddress: '::ffff:127.0.0.1' }, isPublicAddress)).toThrow(DownloadError);
    expect(() => assertSocketAllowed({ remoteAddress: undefined }, isPublicAddress)).toThrow(DownloadError);
  });

  /** What assertSocketAllowed throws for a peer, or undefined if it lets it through. */
  function refusal(remoteAddress: string, host?: string): unknown {
    try {
      assertSocketAllowed({ remoteAddress }, isPublicAddress, host);
    } catch (err) {
      return err;
    }
    return undefined;
  }

  it.each([['10.1.2.3'], ['169.254.169.254'], ['fd00:ec2::254'], ['168.63.129.16']])(
    'names the host the URL gave, never the internal address %s the socket reached',
    (remoteAddress) => {
      const err = refusal(remoteAddress, 'files.example');
      expect(err).toBeInstanceOf(DownloadError);
      expect((err as DownloadError).code).toBe('blocked_destination');
      expect((err as Error).message).toContain('files.example');
      expect((err as Error).message).not.toContain(remoteAddress);
    },
  );

  it('reveals no address when it is not told the host', () => {
    expect((refusal('10.1.2.3') as Error).message).toBe('The address of the server is private or reserved; downloads from it are not allowed.');
  });

  it('accepts a socket connected to a public peer', () => {
    expect(() => assertSocketAllowed({ remoteAddress: '8.8.8.8' }, isPublicAddress)).not.toThrow();
  });
});

type LookupResult = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookupWith(resolve: Resolver, allowPrivate: boolean, hostname: string, options: LookupOptions): Promise<LookupResult> {
  const lookup = createGuardedLookup({ allowPrivate, resolve });
  return new Promise((done) => lookup(hostname, options, (err, address, family) => done({ err, address, family })));
}

const answers =
  (...addresses: LookupAddress[]): Resolver =>
  async () =>
    addresses;

describe('when a name resolves to a private address', () => {
  it('the guarded lookup fails with blocked_destination instead of answering', async () => {
    const { err } = await lookupWith(answers({ address: '10.0.0.7', family: 4 }), false, 'intranet.test', {});
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as unknown as DownloadError).code).toBe('blocked_destination');
    expect((err as Error).message).not.toContain('10.0.0.7');
  });

  it('it fails even when only one of several addresses is private, in both answer forms', async () => {
    const mixed = answers({ address: '93.184.216.34', family: 4 }, { address: 'fd00::1', family: 6 });
    for (const options of [{ all: true }, { all: false }, {}] as LookupOptions[]) {
      const { err } = await lookupWith(mixed, false, 'mixed.test', options);
      expect((err as unknown as DownloadError).code).toBe('blocked_destination');
    }
  });

  it('it answers normally when private addresses are allowed', async () => {
    const { err, address, family } = await lookupWith(answers({ address: '10.0.0.7', family: 4 }), true, 'intranet.test', {});
    expect(err).toBeNull();
    expect(address).toBe('10.0.0.7');
    expect(family).toBe(4);
  });
});

describe('when a name resolves to public addresses only', () => {
  const both = answers({ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 });

  it('answers with every address when asked for all', async () => {
    const { err, address } = await lookupWith(both, false, 'example.test', { all: true });
    expect(err).toBeNull();
    expect(address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
  });

  it('answers with the first address of the asked family otherwise', async () => {
    expect(await lookupWith(both, false, 'example.test', {})).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect(await lookupWith(both, false, 'example.test', { family: 6 })).toEqual({ err: null, address: '2606:2800:220:1::1', family: 6 });
  });

  it('reports ENOTFOUND when no address has the asked family', async () => {
    const { err } = await lookupWith(answers({ address: '93.184.216.34', family: 4 }), false, 'v4only.test', { family: 6 });
    expect(err?.code).toBe('ENOTFOUND');
  });

  it('passes resolver failures through', async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const { err } = await lookupWith(failing, false, 'nowhere.test', {});
    expect(err?.code).toBe('ENOTFOUND');
  });
});
