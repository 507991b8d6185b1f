/** The fixture itself: other tests trust its hashes, its pace and its Range answers. */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fixtureBytes, fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';

let server: FileServer;
beforeAll(async () => {
  server = await startFileServer();
});
afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(`${server.url}${path}`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('the fixture content', () => {
  it('is the same for the same size and seed, and differs by seed', () => {
    expect(fixtureBytes(100_000, 'a').equals(fixtureBytes(100_000, 'a'))).toBe(true);
    expect(fixtureBytes(100_000, 'a').equals(fixtureBytes(100_000, 'b'))).toBe(false);
    expect(fixtureSha256(70_000, 'a')).toBe(sha256(fixtureBytes(70_000, 'a')));
  });

  it('is served with its length and hash', async () => {
    const answer = await get('/file/150001?seed=x');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBe('150001');
    expect(sha256(answer.body)).toBe(fixtureSha256(150001, 'x'));
  });

  it('is served chunked with nolength=1', async () => {
    const answer = await get('/file/5000?nolength=1');
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.body.equals(fixtureBytes(5000))).toBe(true);
  });
});

describe('when a Range is asked for', () => {
  it('answers 206 with the tail from that offset', async () => {
    const answer = await get('/file/200000?seed=r', { Range: 'bytes=70000-' });
    expect(answer.status).toBe(206);
    expect(answer.headers['content-range']).toBe('bytes 70000-199999/200000');
    expect(answer.body.equals(fixtureBytes(200000, 'r').subarray(70000))).toBe(true);
  });

  it('answers 200 with everything when If-Range names another ETag', async () => {
    const answer = await get('/file/1000?etag=v2', { Range: 'bytes=10-', 'If-Range': '"v1"' });
    expect(answer.status).toBe(200);
    expect(answer.headers.etag).toBe('"v2"');
    expect(answer.body.length).toBe(1000);
  });

  it('honours the Range when If-Range matches', async () => {
    const answer = await get('/file/1000?etag=v2', { Range: 'bytes=10-', 'If-Range': '"v2"' });
    expect(answer.status).toBe(206);
    expect(answer.body.length).toBe(990);
  });

  it('answers 416 past the end', async () => {
    expect((await get('/file/1000', { Range: 'bytes=1000-' })).status).toBe(416);
  });
});

describe('when a rate is given', () => {
  it('paces the body to within 10% of it', async () => {
    const started = Date.now();
    const answer = await get('/file/100000?rate=200000');
    const seconds = (Date.now() - started) / 1000;
    expect(answer.body.length).toBe(100000);
    expect(seconds).toBeGreaterThanOrEqual(0.45);
    expect(seconds).toBeLessThan(0.6);
  });
});

describe('when a gate holds the answer', () => {
  it('sends the bytes before it, then the rest only once released', async () => {
    const size = 200_000;
    const received: number[] = [];
    const answer = new Promise<Buffer>((resolve, reject) => {
      request(`${server.url}/file/${size}?seed=gated&gate=g1&holdafter=65536`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received.push(chunk.length);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).end();
    });
    const total = () => received.reduce((a, b) => a + b, 0);
    while (total() < 65_536) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(total()).toBe(65_536);
    server.release('g1');
    const body = await answer;
    expect(createHash('sha256').update(body).digest('hex')).toBe(fixtureSha256(size, 'gated'));
  });
});

describe('the other routes', () => {
  it('answers /status/<code> with that code', async () => {
    expect((await get('/status/418')).status).toBe(418);
  });

  it('redirects n times, then to the target', async () => {
    const first = await get('/redirect/2?to=/file/10');
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/redirect/1?to=%2Ffile%2F10');
    const last = await get('/redirect/1?to=/file/10');
    expect(last.headers.location).toBe('/file/10');
  });

  it('sends a raw Content-Disposition', async () => {
    const answer = await get(`/disposition?header=${encodeURIComponent('inline; filename="a.txt"')}`);
    expect(answer.headers['content-disposition']).toBe('inline; filename="a.txt"');
  });
});

describe('when the server closes', () => {
  it('ends open connections at once and counts what it accepted', async () => {
    const own = await startFileServer();
    const pending = new Promise<string>((resolve) => {
      request(`${own.url}/stall/10`, { agent: false }, (res) => {
        res.on('error', () => resolve('ended')).on('close', () => resolve('ended'));
        res.resume();
      }).on('error', () => resolve('ended')).end();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(own.connections).toBe(1);
    const started = Date.now();
    await own.close();
    await own.close(); // idempotent
    expect(await pending).toBe('ended');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
