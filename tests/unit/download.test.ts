/**
 * The download engine against the local fixture server. Every URL here is loopback: when the
 * guard is meant to refuse, a broken guard can only reach the fixture, which counts it.
 */
import { randomUUID } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type LookupFunction } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressPolicy } from '../../lib/engine/address-guard';
import { downloadToFile } from '../../lib/engine/download';
import { failure, useDownloadSandbox } from '../utils/download-sandbox';
import { fixtureBytes, fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';

const sandbox = useDownloadSandbox();
const { download } = sandbox;

/** A lookup that knows only the names given, like a tiny hosts file. */
function hostsLookup(hosts: Record<string, string>): LookupFunction {
  return (hostname, options, callback) => {
    const address = hosts[hostname];
    if (!address) {
      return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    }
    const entry: LookupAddress = { address, family: address.includes(':') ? 6 : 4 };
    if (options.all) callback(null, [entry]);
    else callback(null, entry.address, entry.family);
  };
}

describe('when the server sends a whole file', () => {
  it('stores it with the exact SHA-256 and reports its size', async () => {
    const size = 2 * 1024 * 1024 + 123;
    const responses: unknown[] = [];
    let lastProgress = 0;
    const result = await download(`${sandbox.server.url}/file/${size}?seed=big`, {
      onResponse: (info) => responses.push(info),
      onProgress: (bytes) => (lastProgress = bytes),
    });
    expect(result).toEqual({
      fileName: String(size),
      filePath: path.join(sandbox.directory, String(size)),
      bytes: size,
      bytesTotal: size,
      sha256: fixtureSha256(size, 'big'),
      resumedFrom: 0,
    });
    expect(responses).toEqual([{ fileName: String(size), bytesTotal: size, resumedFrom: 0, restartReason: null }]);
    expect(lastProgress).toBe(size);
    expect(await readdir(sandbox.directory)).toEqual([String(size)]);
  });

  it('stores it without Content-Length, with bytesTotal null', async () => {
    const result = await download(`${sandbox.server.url}/file/300000?nolength=1&seed=chunked`);
    expect(result.bytesTotal).toBeNull();
    expect(result.bytes).toBe(300000);
    expect(result.sha256).toBe(fixtureSha256(300000, 'chunked'));
    expect((await readFile(result.filePath)).equals(fixtureBytes(300000, 'chunked'))).toBe(true);
  });

  it('sends its User-Agent and asks for the bytes as they are', async () => {
    let headers: Record<string, unknown> = {};
    const echo = createServer((socket) => {
      socket.once('data', (data) => {
        const lines = data.toString('latin1').split('\r\n');
        headers = Object.fromEntries(lines.slice(1).filter(Boolean).map((l) => [l.split(':')[0].toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      await download(`http://127.0.0.1:${(echo.address() as AddressInfo).port}/x`);
    } finally {
      echo.close();
    }
    expect(headers['user-agent']).toBe('live-downloader/0.1');
    expect(headers['accept-encoding']).toBe('identity');
  });
});

describe('when the server redirects', () => {
  it('follows up to five redirects, resolving relative Locations', async () => {
    const result = await download(`${sandbox.server.url}/redirect/5?to=/file/1000?seed=r`);
    expect(result.sha256).toBe(fixtureSha256(1000, 'r'));
    expect(result.fileName).toBe('1000');
  });

  it.each([301, 303, 307, 308])('follows a %d', async (status) => {
    const result = await download(`${sandbox.server.url}/redirect/1?status=${status}&to=/file/10`);
    expect(result.bytes).toBe(10);
  });

  it('refuses a sixth redirect with too_many_redirects', async () => {
    const err = await failure(download(`${sandbox.server.url}/redirect/6?to=/file/10`));
    expect(err.code).toBe('too_many_redirects');
    expect(err.retryable).toBe(false);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('honours a smaller maxRedirects', async () => {
    const err = await failure(download(`${sandbox.server.url}/redirect/2?to=/file/10`, { maxRedirects: 1 }));
    expect(err.code).toBe('too_many_redirects');
  });

  it('refuses a redirect to something other than http(s)', async () => {
    const err = await failure(download(`${sandbox.server.url}/redirect/1?to=${encodeURIComponent('file:///etc/passwd')}`));
    expect(err.code).toBe('invalid_redirect');
  });
});

describe('when the server answers with an error status', () => {
  it('fails with http_error and the status, not retryable for a 404', async () => {
    const err = await failure(download(`${sandbox.server.url}/status/404`));
    expect(err).toMatchObject({ code: 'http_error', httpStatus: 404, retryable: false, message: 'The server answered 404 Not Found.' });
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('marks a 503 retryable', async () => {
    const err = await failure(download(`${sandbox.server.url}/status/503`));
    expect(err).toMatchObject({ code: 'http_error', httpStatus: 503, retryable: true });
  });
});

describe('when the transfer goes wrong', () => {
  it('reports connection_refused for a port nobody listens on', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(download(`http://127.0.0.1:${port}/file/10`));
    expect(err.code).toBe('connection_refused');
    expect(err.retryable).toBe(false);
  });

  it('reports size_mismatch when Content-Length promises more than arrives, and removes the .part', async () => {
    const err = await failure(download(`${sandbox.server.url}/lie/20000/5000`));
    expect(err.code).toBe('size_mismatch');
    expect(err.message).toBe('The server announced 20000 bytes but sent 5000.');
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('reports idle_timeout when the server goes silent', async () => {
    const started = Date.now();
    const err = await failure(download(`${sandbox.server.url}/stall/1000`, { idleTimeoutMs: 300 }));
    expect(err.code).toBe('idle_timeout');
    expect(err.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('rejects a URL that is not http(s) before any connection', async () => {
    const before = sandbox.server.connections;
    for (const url of ['ftp://127.0.0.1/x', 'not a url', `file:///etc/passwd`]) {
      expect((await failure(download(url))).code).toBe('invalid_url');
    }
    expect(sandbox.server.connections).toBe(before);
  });
});

describe('when the download is aborted', () => {
  it('rejects with aborted and removes the partial file', async () => {
    const controller = new AbortController();
    let seen = 0;
    let partSeen = false;
    const promise = download(`${sandbox.server.url}/file/2000000?rate=1000000`, {
      signal: controller.signal,
      onProgress: (bytes) => {
        seen = bytes;
        if (bytes >= 100_000 && !controller.signal.aborted) {
          partSeen = existsSync(path.join(sandbox.directory, '2000000.part'));
          controller.abort();
        }
      },
    });
    const err = await failure(promise);
    expect(err.code).toBe('aborted');
    expect(partSeen).toBe(true);
    expect(seen).toBeGreaterThanOrEqual(100_000);
    expect(seen).toBeLessThan(2_000_000);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('rejects at once when the signal is already aborted, without connecting', async () => {
    const before = sandbox.server.connections;
    const err = await failure(download(`${sandbox.server.url}/file/10`, { signal: AbortSignal.abort() }));
    expect(err.code).toBe('aborted');
    expect(sandbox.server.connections).toBe(before);
  });
});

describe('when the server names the file', () => {
  it('keeps a ../ name inside the sandbox.directory', async () => {
    const result = await download(`${sandbox.server.url}/file/10?name=${encodeURIComponent('../../evil.sh')}`);
    expect(result.fileName).toBe('_.._evil.sh');
    expect(path.dirname(result.filePath)).toBe(sandbox.directory);
    expect(await readdir(sandbox.directory)).toEqual(['_.._evil.sh']);
  });

  it('keeps a unicode name from filename*', async () => {
    const result = await download(`${sandbox.server.url}/file/10?name=${encodeURIComponent('résumé 📄.pdf')}`);
    expect(result.fileName).toBe('résumé 📄.pdf');
    expect(await readdir(sandbox.directory)).toEqual(['résumé 📄.pdf']);
  });

  it('falls back to the URL when the header is malformed', async () => {
    const result = await download(`${sandbox.server.url}/disposition?header=${encodeURIComponent('attachment; filename=a b c')}`);
    expect(result.fileName).toBe('disposition');
  });

  it('creates a missing sandbox.directory', async () => {
    const nested = path.join(sandbox.directory, 'a', 'b');
    const result = await downloadToFile({ url: `${sandbox.server.url}/file/10`, directory: nested, allowPrivateAddresses: true });
    expect(result.filePath).toBe(path.join(nested, '10'));
  });
});

describe('when private addresses are not allowed', () => {
  let v6: FileServer;

  beforeAll(async () => {
    // Same port on ::1, so that `localhost` and `[::]` are counted whichever way they are dialled.
    // No fallback when it cannot bind: without it, a broken guard would go uncounted on IPv6.
    v6 = await startFileServer({ host: '::1', port: sandbox.server.port });
  });
  afterAll(() => v6?.close());

  const port = () => sandbox.server.port;
  it.each([
    ['127.0.0.1', () => `http://127.0.0.1:${port()}/file/10`],
    ['127.1', () => `http://127.1:${port()}/file/10`],
    ['2130706433', () => `http://2130706433:${port()}/file/10`],
    ['0x7f000001', () => `http://0x7f000001:${port()}/file/10`],
    ['0177.0.0.1', () => `http://0177.0.0.1:${port()}/file/10`],
    ['[::1]', () => `http://[::1]:${port()}/file/10`],
    ['[::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${port()}/file/10`],
    // On Linux, dialling the unspecified address reaches a local listener: 127.0.0.1 and ::1 here.
    ['0.0.0.0', () => `http://0.0.0.0:${port()}/file/10`],
    ['[::]', () => `http://[::]:${port()}/file/10`],
    ['localhost', () => `http://localhost:${port()}/file/10`],
    ['user:pass@127.0.0.1', () => `http://user:secret@127.0.0.1:${port()}/file/10`],
  ])('refuses %s with blocked_destination before connecting', async (_name, url) => {
    const before = [sandbox.server.connections, v6.connections];
    const err = await failure(downloadToFile({ url: url(), directory: sandbox.directory, allowPrivateAddresses: false }));
    expect(err.code).toBe('blocked_destination');
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('secret');
    expect([sandbox.server.connections, v6.connections]).toEqual(before);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it.each([
    ['0.0.0.0', () => sandbox.server, () => `http://0.0.0.0:${port()}/file/10`],
    ['[::]', () => v6, () => `http://[::]:${port()}/file/10`],
  ])('reaches the fixture through %s when private addresses are allowed, so the count above means something', async (_name, server, url) => {
    const before = server().connections;
    const result = await downloadToFile({ url: url(), directory: sandbox.directory, allowPrivateAddresses: true });
    expect(result.bytes).toBe(10);
    expect(server().connections).toBe(before + 1);
  });

  it('refuses a made-up name that the injected lookup maps to 127.0.0.1', async () => {
    const before = sandbox.server.connections;
    const err = await failure(
      downloadToFile({
        url: `http://files.test:${sandbox.server.port}/file/10`,
        directory: sandbox.directory,
        allowPrivateAddresses: false,
        lookup: hostsLookup({ 'files.test': '127.0.0.1' }),
      }),
    );
    expect(err.code).toBe('blocked_destination');
    expect(sandbox.server.connections).toBe(before);
  });

  it('reaches the same name when private addresses are allowed (the control case)', async () => {
    const result = await downloadToFile({
      url: `http://files.test:${sandbox.server.port}/file/10`,
      directory: sandbox.directory,
      allowPrivateAddresses: true,
      lookup: hostsLookup({ 'files.test': '127.0.0.1' }),
    });
    expect(result.bytes).toBe(10);
  });
});

describe('when a permitted server redirects to a forbidden address', () => {
  // No public address may be dialled here, so "permitted" is modelled by a policy that allows
  // 127.0.0.1 only; the redirect goes to a second fixture on 127.0.0.2, which it forbids.
  let inside: FileServer;
  const onlyFirstLoopback: AddressPolicy = (ip) => ip === '127.0.0.1';
  const lookup = hostsLookup({ 'outside.test': '127.0.0.1', 'inside.test': '127.0.0.2' });

  beforeAll(async () => {
    inside = await startFileServer({ host: '127.0.0.2' });
  });
  afterAll(() => inside.close());

  function viaRedirect(target: string, isAllowedAddress = onlyFirstLoopback) {
    const url = `http://outside.test:${sandbox.server.port}/redirect/1?to=${encodeURIComponent(target)}`;
    return downloadToFile({ url, directory: sandbox.directory, allowPrivateAddresses: false, isAllowedAddress, lookup });
  }

  it.each([
    ['an IP literal', () => `http://127.0.0.2:${inside.port}/file/10`],
    ['a name', () => `http://inside.test:${inside.port}/file/10`],
  ])('checks the target again and refuses %s', async (_kind, target) => {
    const before = [sandbox.server.connections, inside.connections];
    const err = await failure(viaRedirect(target()));
    expect(err.code).toBe('blocked_destination');
    expect([sandbox.server.connections - before[0], inside.connections - before[1]]).toEqual([1, 0]);
  });

  it('follows the same redirect when the policy allows the target (the control case)', async () => {
    const before = inside.connections;
    const result = await viaRedirect(`http://inside.test:${inside.port}/file/10?seed=${randomUUID()}`, (ip) => ip.startsWith('127.'));
    expect(result.bytes).toBe(10);
    expect(inside.connections).toBe(before + 1);
  });
});
