/**
 * The engine's own HTTP/1.1 reading: the head, the body's framing however the bytes are split,
 * the file sink's back-pressure, and whole downloads from loopback servers that answer in ways
 * the fixture server does not (interim answers, bodies ended by the connection, dribbled chunks),
 * including the malformed ones an untrusted server may send (RFC 9112), and downloads over TLS.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { framingOf } from '../../lib/engine/body-framing';
import { toDownloadError } from '../../lib/engine/errors';
import { FileSink, SLAB_BYTES } from '../../lib/engine/file-sink';
import { headEnd, parseHead, requestHead } from '../../lib/engine/http-head';
import { failure, useDownloadSandbox } from '../utils/download-sandbox';
import { fixtureBytes } from '../utils/file-server';

const sandbox = useDownloadSandbox();

const head = (text: string) => parseHead(Buffer.from(text, 'latin1'), 'example.test');

describe('parseHead', () => {
  it('reads the status and the fields, names in lower case', () => {
    const parsed = head('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nETag: "a"\r\nX-Empty:\r\n\r\n');
    expect(parsed).toEqual({ status: 206, headers: { 'content-length': '10', etag: '"a"', 'x-empty': '' } });
  });

  it('joins repeated fields, keeps Set-Cookie as a list and the first of a single field', () => {
    const parsed = head('HTTP/1.0 200\nVary: a\nvary: b\nSet-Cookie: x=1\nSet-Cookie: y=2\nETag: "1"\nETag: "2"\n\n');
    expect(parsed.headers).toEqual({ vary: 'a, b', 'set-cookie': ['x=1', 'y=2'], etag: '"1"' });
  });

  it('takes field names as names only, even those of Object.prototype', () => {
    const parsed = head('HTTP/1.1 200 OK\r\nconstructor: a\r\n__proto__: b\r\ntoString: c\r\n\r\n');
    expect({ ...parsed.headers }).toEqual({ constructor: 'a', ['__proto__']: 'b', tostring: 'c' });
  });

  it('refuses what is not HTTP/1.x, a broken field and two different lengths', () => {
    for (const text of ['SSH-2.0-OpenSSH\r\n\r\n', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n']) {
      expect(() => head(text)).toThrow(expect.objectContaining({ code: 'network_error' }));
    }
  });

  it('finds the end of the head with CRLF or bare LF line ends', () => {
    expect(headEnd(Buffer.from('HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody'))).toBe(25);
    expect(headEnd(Buffer.from('HTTP/1.1 200 OK\nA: b\n\nbody'))).toBe(22);
    expect(headEnd(Buffer.from('HTTP/1.1 200 OK\r\nA: b\r\n'))).toBe(-1);
  });
});

describe('requestHead', () => {
  it('asks for the path and query on a connection of its own, with the credentials of the URL', () => {
    const sent = requestHead(new URL('http://us%20er:p%40ss@example.test:8080/a%20b?q=1'), { Range: 'bytes=5-' });
    expect(sent.split('\r\n')).toEqual([
      'GET /a%20b?q=1 HTTP/1.1',
      'Host: example.test:8080',
      'User-Agent: live-downloader/0.1',
      'Accept-Encoding: identity',
      'Accept: */*',
      'Connection: close',
      `Authorization: Basic ${Buffer.from('us er:p@ss').toString('base64')}`,
      'Range: bytes=5-',
      '',
      '',
    ]);
  });

  it('refuses a header value that would end its line', () => {
    expect(() => requestHead(new URL('http://example.test/'), { 'If-Range': '"a"\r\nX-Injected: 1' })).toThrow(expect.objectContaining({ code: 'network_error' }));
  });
});

/** Feeds `wire` to a framing in pieces cut at `cuts`, as reads would bring it. */
function decodeInPieces(headers: Record<string, string>, wire: Buffer, cuts: number[]): { body: Buffer; done: boolean } {
  const framing = framingOf(200, headers, 'example.test');
  const parts: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, wire.length]) {
    const piece = Buffer.from(wire.subarray(from, to)); // a buffer of its own, decoded in place
    parts.push(piece.subarray(0, framing.decode(piece, piece.length)));
    from = to;
  }
  return { body: Buffer.concat(parts), done: framing.done };
}

describe('the body framing', () => {
  const data = fixtureBytes(5000, 'framing');
  const chunked = Buffer.concat([
    Buffer.from('7d0;name=value\r\n'), data.subarray(0, 2000),
    Buffer.from('\r\nBB8\r\n'), data.subarray(2000),
    Buffer.from('\r\n0\r\nTrailer: x\r\n\r\n'),
  ]);

  it('takes a chunked body apart the same however the reads split it', () => {
    for (const cuts of [[], [1], [5, 6, 17, 2017, 2018, 2021, 2024], Array.from({ length: chunked.length - 1 }, (_, i) => i + 1)]) {
      expect(decodeInPieces({ 'transfer-encoding': 'chunked' }, chunked, cuts)).toEqual({ body: data, done: true });
    }
  });

  it('refuses a chunk size that is not hexadecimal', () => {
    expect(() => decodeInPieces({ 'transfer-encoding': 'chunked' }, Buffer.from('zz\r\nab\r\n'), [])).toThrow(/bad chunk size/);
  });

  it('keeps no byte past Content-Length', () => {
    expect(decodeInPieces({ 'content-length': '3' }, Buffer.from('abcdef'), [2])).toEqual({ body: Buffer.from('abc'), done: true });
  });

  it('runs to the end of the connection without a length', () => {
    expect(decodeInPieces({}, Buffer.from('abcdef'), [2])).toEqual({ body: Buffer.from('abcdef'), done: false });
  });
});

describe('FileSink', () => {
  it('stops giving room while every slab waits on the disk, and writes every byte in order', async () => {
    const filePath = path.join(sandbox.directory, 'sink');
    const sink = await FileSink.open(filePath, 0, (err) => {
      throw err;
    });
    const expected = fixtureBytes(12 * SLAB_BYTES, 'sink');
    let offset = 0;
    let refused = false;
    while (offset < expected.length) {
      const room = sink.room();
      if (!room) {
        refused = true;
        await new Promise<void>((resolve) => sink.whenRoom(resolve));
        continue;
      }
      const length = Math.min(room.length, 100_000, expected.length - offset);
      expected.copy(room, 0, offset, offset + length);
      sink.take(length);
      offset += length;
    }
    await sink.finish();
    expect(refused).toBe(true);
    expect((await readFile(filePath)).equals(expected)).toBe(true);
  });
});

/** A loopback server that answers every connection with `answer`, once it has the request. */
async function rawServer(answer: (socket: Socket) => void | Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
    socket.once('data', () => void answer(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

async function withServer<T>(answer: (socket: Socket) => void | Promise<void>, run: (url: string) => Promise<T>): Promise<T> {
  const server = await rawServer(answer);
  try {
    return await run(`${server.url}/file.bin`);
  } finally {
    await server.close();
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('when a server answers in ways the fixture does not', () => {
  const data = fixtureBytes(300_000, 'raw');

  it('skips an interim 100 Continue and stores the real answer', async () => {
    const result = await withServer(
      (socket) => void socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`), data])),
      (url) => sandbox.download(url),
    );
    expect(result).toMatchObject({ bytes: data.length, bytesTotal: data.length, sha256: sha256(data) });
  });

  it('stores a body that only the end of the connection ends', async () => {
    const result = await withServer((socket) => void socket.end(Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), data])), (url) => sandbox.download(url));
    expect(result).toMatchObject({ bytes: data.length, bytesTotal: null, sha256: sha256(data) });
  });

  it('stores a chunked body sent a few bytes at a time', async () => {
    const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), Buffer.from(`${(3000).toString(16)}\r\n`), data.subarray(0, 3000), Buffer.from('\r\n0\r\n\r\n')]);
    const result = await withServer(async (socket) => {
      for (let i = 0; i < wire.length; i += 7) {
        socket.write(wire.subarray(i, i + 7));
        if (i % 700 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      socket.end();
    }, (url) => sandbox.download(url));
    expect(result).toMatchObject({ bytes: 3000, sha256: sha256(data.subarray(0, 3000)) });
  });

  it('fails retryably with connection_reset when a chunked body is cut before its last chunk', async () => {
    const err = await withServer(
      (socket) => void socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n'), data.subarray(0, 100)])),
      (url) => failure(sandbox.download(url)),
    );
    expect(err).toMatchObject({ code: 'connection_reset', retryable: true });
  });

  it('fails with network_error when the head never ends', async () => {
    const err = await withServer(
      (socket) => void socket.end(`HTTP/1.1 200 OK\r\n${'X-Filler: 0123456789\r\n'.repeat(1000)}`),
      (url) => failure(sandbox.download(url)),
    );
    expect(err).toMatchObject({ code: 'network_error', message: expect.stringMatching(/headers larger than 16 KiB/) });
  });
});

/** Sends `wire` a few bytes at a time, each piece in a read of its own (no Nagle, a pause between). */
async function dribble(socket: Socket, wire: Buffer, size: number): Promise<void> {
  socket.setNoDelay(true);
  for (let i = 0; i < wire.length && !socket.destroyed; i += size) {
    socket.write(wire.subarray(i, i + size));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  socket.end();
}

const wireOf = (...parts: (string | Buffer)[]) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part)));
/** What a download from a server that answers `wire` at once stores; the file's bytes come along. */
async function stored(...parts: (string | Buffer)[]) {
  const wire = wireOf(...parts);
  const result = await withServer((socket) => void socket.end(wire), (url) => sandbox.download(url));
  return { ...result, content: await readFile(result.filePath) };
}
/** The DownloadError a download from a server that answers `wire` at once fails with. */
const refusal = (...parts: (string | Buffer)[]) => withServer((socket) => void socket.end(wireOf(...parts)), (url) => failure(sandbox.download(url)));
const malformedAnswer = (pattern: RegExp) => ({ code: 'network_error', message: expect.stringMatching(pattern) });

describe('an untrusted answer is read by RFC 9112 or refused', () => {
  const OK = 'HTTP/1.1 200 OK\r\n';
  const CHUNKED = `${OK}Transfer-Encoding: chunked\r\n\r\n`;

  it('refuses a NUL in a field value', async () => {
    expect(await refusal(`${OK}X-Note: a\0b\r\nContent-Length: 5\r\n\r\nhello`)).toMatchObject(malformedAnswer(/NUL or a bare CR/));
  });

  it('refuses a bare CR, which another reader could take for a line end', async () => {
    expect(await refusal(`${OK}X-Note: a\rContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello`)).toMatchObject(malformedAnswer(/NUL or a bare CR/));
  });

  it('refuses whitespace between a field name and its colon', async () => {
    expect(await refusal(`${OK}Content-Length : 5\r\n\r\nhello`)).toMatchObject(malformedAnswer(/a malformed header/));
  });

  it('refuses a field with an empty name', async () => {
    expect(await refusal(`${OK}: x\r\nContent-Length: 5\r\n\r\nhello`)).toMatchObject(malformedAnswer(/a malformed header/));
  });

  it.each(['600', '099', '000'])('refuses the status %s, outside 100-599', async (status) => {
    expect(await refusal(`HTTP/1.1 ${status} Odd\r\nContent-Length: 5\r\n\r\nhello`)).toMatchObject(malformedAnswer(new RegExp(`status ${status}, which is outside 100-599`)));
  });

  it('takes a Content-Length listing one value twice as that value', async () => {
    expect(await stored(`${OK}Content-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello world`)).toMatchObject({ bytes: 5, bytesTotal: 5, content: Buffer.from('hello') });
  });

  it.each([
    ['in one list', 'Content-Length: 5, 11\r\n'],
    ['in two fields', 'Content-Length: 5\r\nContent-Length: 11\r\n'],
    ['with an empty member', 'Content-Length: 5,\r\n'],
  ])('refuses different Content-Length values %s', async (_how, fields) => {
    expect(await refusal(`${OK}${fields}\r\nhello world`)).toMatchObject(malformedAnswer(/two different lengths/));
  });

  it('refuses a Content-Length too large to count exactly', async () => {
    expect(await refusal(`${OK}Content-Length: 9007199254740993\r\n\r\nhello`)).toMatchObject(malformedAnswer(/Content-Length that is not a number/));
  });

  it('lets Transfer-Encoding override Content-Length, which then announces nothing', async () => {
    const data = fixtureBytes(3000, 'te-wins');
    const result = await stored(`${OK}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n${(3000).toString(16)}\r\n`, data, '\r\n0\r\n\r\n');
    expect(result).toMatchObject({ bytes: 3000, bytesTotal: null, content: data });
  });

  it('refuses Transfer-Encoding in an HTTP/1.0 answer', async () => {
    expect(await refusal('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')).toMatchObject(malformedAnswer(/Transfer-Encoding in an HTTP\/1.0 answer/));
  });

  it.each(['gzip', 'gzip, chunked', 'chunked, chunked', 'chunked;q=1'])('refuses the transfer codings "%s", never asked for', async (codings) => {
    expect(await refusal(`${OK}Transfer-Encoding: ${codings}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`)).toMatchObject(malformedAnswer(/a transfer coding other than chunked/));
  });

  it('accepts ten interim answers before the real one and refuses an eleventh', async () => {
    const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
    expect(await stored(interim.repeat(10), `${OK}Content-Length: 5\r\n\r\nhello`)).toMatchObject({ bytes: 5, content: Buffer.from('hello') });
    expect(await refusal(interim.repeat(11), `${OK}Content-Length: 5\r\n\r\nhello`)).toMatchObject(malformedAnswer(/more than 10 interim answers/));
  });

  it('reads an interim answer, the real head and the body however the reads split them', async () => {
    const data = fixtureBytes(300, 'split');
    const wire = wireOf('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n', `${OK}Content-Length: 300\r\n\r\n`, data);
    for (const size of [1, 13, 90]) {
      const result = await withServer((socket) => dribble(socket, wire, size), (url) => sandbox.download(url));
      expect(result).toMatchObject({ bytes: 300, bytesTotal: 300, sha256: sha256(data) });
    }
  });

  it('ends the head at its first empty line, whatever each line ends with', async () => {
    // A bare LF ends the last field, a CRLF the empty line: the body starts right after.
    expect(await stored('HTTP/1.1 200 OK\nContent-Length: 12\n\r\nhello\n\nworld')).toMatchObject({ bytes: 12, content: Buffer.from('hello\n\nworld') });
  });

  it('takes a head of exactly 16 KiB and refuses one byte more', async () => {
    const headOf = (size: number) => {
      const start = `${OK}Content-Length: 5\r\nX-Filler: `;
      return `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
    };
    expect(headOf(16 * 1024)).toHaveLength(16 * 1024);
    expect(await stored(headOf(16 * 1024), 'hello')).toMatchObject({ bytes: 5, content: Buffer.from('hello') });
    expect(await refusal(headOf(16 * 1024 + 1), 'hello')).toMatchObject(malformedAnswer(/headers larger than 16 KiB/));
  });

  it('unfolds an obsolete folded line with a space, within the field it continues', async () => {
    const result = await stored(`${OK}Content-Disposition: attachment;\r\n\tfilename="first.txt"\r\nContent-Disposition: attachment;\r\n filename="second.txt"\r\nContent-Length: 5\r\n\r\nhello`);
    expect(result).toMatchObject({ fileName: 'first.txt', content: Buffer.from('hello') });
  });

  it('reads a chunk size with leading zeros and refuses one of more than 12 hex digits', async () => {
    expect(await stored(CHUNKED, '00000000000000005\r\nhello\r\n0\r\n\r\n')).toMatchObject({ bytes: 5, content: Buffer.from('hello') });
    expect(await refusal(CHUNKED, '1000000000000\r\nhello\r\n0\r\n\r\n')).toMatchObject(malformedAnswer(/bad chunk size/));
  });

  it('refuses a chunk extension longer than 4 KiB', async () => {
    expect(await stored(CHUNKED, `5;${'x'.repeat(4000)}\r\nhello\r\n0\r\n\r\n`)).toMatchObject({ content: Buffer.from('hello') });
    expect(await refusal(CHUNKED, `5;${'x'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`)).toMatchObject(malformedAnswer(/overlong line/));
  });

  it('refuses a NUL in a chunk extension', async () => {
    expect(await refusal(CHUNKED, '5;a=\0\r\nhello\r\n0\r\n\r\n')).toMatchObject(malformedAnswer(/chunked body holding a NUL or a bare CR/));
  });

  it('refuses chunk data not followed by its CRLF', async () => {
    expect(await refusal(CHUNKED, '5\r\nhello5\r\nworld\r\n0\r\n\r\n')).toMatchObject(malformedAnswer(/a chunk longer than it said/));
  });

  it('skips trailer fields up to 16 KiB and refuses more', async () => {
    const trailers = (count: number) => `X-Sum: ${'a'.repeat(1000)}\r\n\t${'b'.repeat(10)}\r\n`.repeat(count);
    expect(await stored(CHUNKED, `5\r\nhello\r\n0\r\n${trailers(14)}\r\n`)).toMatchObject({ bytes: 5, content: Buffer.from('hello') });
    expect(await refusal(CHUNKED, `5\r\nhello\r\n0\r\n${trailers(17)}\r\n`)).toMatchObject(malformedAnswer(/trailer fields larger than 16 KiB/));
  });

  it('refuses a trailer line that is not a field', async () => {
    expect(await refusal(CHUNKED, '5\r\nhello\r\n0\r\nnot a field\r\n\r\n')).toMatchObject(malformedAnswer(/a malformed trailer field/));
  });

  it('stores nothing that follows the last chunk', async () => {
    const result = await stored(CHUNKED, '5\r\nhello\r\n0\r\n\r\n', 'HTTP/1.1 200 OK\r\n\r\nnot the body');
    expect(result).toMatchObject({ bytes: 5, content: Buffer.from('hello') });
  });
});

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('over HTTPS', () => {
  const large = fixtureBytes(3 * 1024 * 1024, 'tls-large');
  const chunked = fixtureBytes(1024 * 1024 + 123, 'tls-chunked');
  let certDirectory: string;
  let certPath: string;
  let server: https.Server;
  let port: number;

  beforeAll(async () => {
    certDirectory = await mkdtemp(path.join(os.tmpdir(), 'engine-tls-'));
    certPath = path.join(certDirectory, 'cert.pem');
    const keyPath = path.join(certDirectory, 'key.pem');
    // A certificate of its own, trusted nowhere but where a test trusts it.
    await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
    server = https.createServer({ key: await readFile(keyPath), cert: await readFile(certPath) }, (req, res) => {
      if (req.url === '/large.bin') return void res.writeHead(200, { 'Content-Length': large.length }).end(large);
      res.writeHead(200); // no length: Node sends it chunked
      for (let i = 0; i < chunked.length; i += 100_000) res.write(chunked.subarray(i, i + 100_000));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }, 30_000);

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(certDirectory, { recursive: true, force: true });
  });

  it('downloads a large body and a chunked one when the certificate is trusted, and checks the name it is for', async () => {
    // NODE_EXTRA_CA_CERTS is read when a process starts: the engine runs in one of its own.
    const urls = [`https://localhost:${port}/large.bin`, `https://127.0.0.1:${port}/chunked.bin`, `https://elsewhere.test:${port}/large.bin`];
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'tests/utils/engine-child.ts', sandbox.directory, ...urls], {
      cwd: ROOT,
      env: { ...env, NODE_EXTRA_CA_CERTS: certPath },
    });
    const [first, second, third] = stdout.trim().split('\n').map((line) => JSON.parse(line) as { filePath: string });
    expect(first).toMatchObject({ fileName: 'large.bin', bytes: large.length, bytesTotal: large.length, sha256: sha256(large) });
    expect((await readFile(first.filePath)).equals(large)).toBe(true);
    expect(second).toMatchObject({ fileName: 'chunked.bin', bytes: chunked.length, bytesTotal: null, sha256: sha256(chunked) });
    expect((await readFile(second.filePath)).equals(chunked)).toBe(true);
    // Trusted, but issued for other names: refused all the same.
    expect(third).toEqual({ error: { code: 'network_error', retryable: false, message: expect.stringMatching(/TLS certificate of the server at elsewhere\.test:\d+ was not accepted \(ERR_TLS_CERT_ALTNAME_INVALID\)/) } });
  }, 60_000);

  it('says a TLS handshake failed when the server does not speak TLS', async () => {
    const err = await withServer((socket) => void socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'), (url) => failure(sandbox.download(url.replace('http:', 'https:'))));
    expect(err).toMatchObject({ code: 'network_error', retryable: false, message: expect.stringMatching(/^The TLS handshake with the server at 127\.0\.0\.1:\d+ failed \((wrong version number|ERR_SSL_\w+)\)\.$/) });
  });

  it.each(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'INVALID_CA'])('names the certificate when verification fails with %s', (code) => {
    expect(toDownloadError(Object.assign(new Error('verification failed'), { code }), 'files.test')).toMatchObject({
      code: 'network_error',
      retryable: false,
      message: `The TLS certificate of the server at files.test was not accepted (${code}).`,
    });
  });

  it('refuses a certificate the system does not trust, and says so', async () => {
    const err = await failure(sandbox.download(`https://127.0.0.1:${port}/large.bin`));
    expect(err).toMatchObject({ code: 'network_error', retryable: false, message: `The TLS certificate of the server at 127.0.0.1:${port} was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT).` });
  });
});
