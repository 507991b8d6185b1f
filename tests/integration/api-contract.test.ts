import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { connectClient, subscribe, type JobSocket } from '../utils/job-client';
import { api, postJob, startTestApp, type TestApp } from '../utils/test-app';

let app: TestApp;
let socket: JobSocket;
let mongo: MongoClient;

beforeAll(async () => {
  // No worker: these tests are about what the server accepts and answers.
  app = await startTestApp({ workers: 0 });
  // The tab of the client that `api()` is: it owns the jobs the tests create.
  await api(app.server.url, '/api/health');
  socket = await connectClient(app.server.url);
  mongo = await new MongoClient(String(app.settings.env.MONGODB_URI)).connect();
}, 60_000);

afterAll(async () => {
  await mongo?.close();
  socket?.disconnect();
  await app?.stop();
}, 30_000);

const post = (body: string) =>
  api(app.server.url, '/api/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
const postUrls = (urls: unknown) => post(JSON.stringify({ urls }));
/** How many jobs the store holds. */
const storedJobs = () => mongo.db().collection('jobs').countDocuments();

describe('POST /api/jobs', () => {
  it('creates a queued job with a random id', async () => {
    const { status, body } = await postJob(app.server.url, 'http://127.0.0.1:9/file.bin');
    expect(status).toBe(201);
    expect(body).toMatchObject({ url: 'http://127.0.0.1:9/file.bin', status: 'queued', bytesReceived: 0, error: null });
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.version).toBeGreaterThan(0);
  });

  it.each([
    ['invalid JSON', '{"url": ', 'invalid_json'],
    ['a missing url', '{}', 'invalid_url'],
    ['a url that is not a string', '{"url": 5}', 'invalid_url'],
    ['a malformed url', '{"url": "not a url"}', 'invalid_url'],
    ['another scheme', '{"url": "ftp://files.invalid/a"}', 'invalid_url'],
    ['a url over 2048 characters', JSON.stringify({ url: `https://example.invalid/${'a'.repeat(2100)}` }), 'invalid_url'],
    ['a body that is not an object', '["https://example.invalid"]', 'invalid_request'],
  ])('answers 400 to %s with a code and a message', async (_what, body, code) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toEqual(expect.any(String));
  });

  it('answers 413 to a body too large to hold a request, sent with or without a length', async () => {
    const huge = JSON.stringify({ url: `https://example.invalid/${'a'.repeat(1024 * 1024)}` });
    const withLength = await post(huge);
    expect(withLength.status).toBe(413);
    expect(withLength.body.error.code).toBe('body_too_large');
    // Chunked, with no Content-Length: counted as it streams in.
    const chunked = await api(app.server.url, '/api/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: new Blob([huge]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(chunked.body.error.code).toBe('body_too_large');
  });

  it('stays up and keeps what it stored after bad input', async () => {
    const { body: job } = await postJob(app.server.url, 'http://127.0.0.1:9/kept.bin');
    await post('{"url": ');
    const again = await api(app.server.url, `/api/jobs/${job.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(job);
  });
});

describe('POST /api/jobs with {"urls": [...]}', () => {
  it('creates one queued job per URL, in their order, each of them gettable', async () => {
    const urls = [1, 2, 3].map((n) => `http://127.0.0.1:9/batch-${n}.bin`);
    const { status, body } = await postUrls(urls);
    expect(status).toBe(201);
    expect(body.jobs.map((job: { url: string }) => job.url)).toEqual(urls);
    expect(new Set(body.jobs.map((job: { id: string }) => job.id)).size).toBe(3);
    for (const job of body.jobs) {
      expect(job).toMatchObject({ status: 'queued', bytesReceived: 0, error: null });
      expect(await api(app.server.url, `/api/jobs/${job.id}`)).toMatchObject({ status: 200, body: job });
    }
  });

  it('answers 400 invalid_url naming the entry at fault, and stores none of them', async () => {
    const before = await storedJobs();
    const { status, body } = await postUrls(['http://127.0.0.1:9/fine.bin', 'ftp://files.invalid/a', 'not a url']);
    expect(status).toBe(400);
    expect(body.error).toEqual({ code: 'invalid_url', message: 'URL 2 (urls[1]): Only http:// and https:// URLs can be downloaded.' });
    expect(await storedJobs()).toBe(before);
  });

  it.each([
    ['101 URLs', { urls: Array.from({ length: 101 }, (_, n) => `http://127.0.0.1:9/${n}.bin`) }, /at most 100/],
    ['an empty list', { urls: [] }, /at least one/],
    ['a list that is not one', { urls: 'http://127.0.0.1:9/a.bin' }, /list/],
    ['both url and urls', { url: 'http://127.0.0.1:9/a.bin', urls: ['http://127.0.0.1:9/b.bin'] }, /not both/],
  ])('answers 400 invalid_request to %s, and stores nothing', async (_what, request, message) => {
    const before = await storedJobs();
    const { status, body } = await post(JSON.stringify(request));
    expect(status).toBe(400);
    expect(body.error).toEqual({ code: 'invalid_request', message: expect.stringMatching(message) });
    expect(await storedJobs()).toBe(before);
  });

  it('takes 100 URLs of the longest kind', async () => {
    const urls = Array.from({ length: 100 }, (_, n) => `https://files.invalid/${n}/${'a'.repeat(2020)}`.slice(0, 2048));
    const { status, body } = await postUrls(urls);
    expect(status).toBe(201);
    expect(body.jobs).toHaveLength(100);
  });
});

describe('GET /api/jobs/:id', () => {
  it.each([
    ['an unknown id', randomUUID()],
    ['a malformed id', 'not-a-job'],
  ])('answers 404 not_found to %s', async (_what, id) => {
    const { status, body } = await api(app.server.url, `/api/jobs/${id}`);
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  it('answers 404 for the file of a job that has not completed', async () => {
    const { body: job } = await postJob(app.server.url, 'http://127.0.0.1:9/later.bin');
    const { status, body } = await api(app.server.url, `/api/jobs/${job.id}/file`);
    expect(status).toBe(404);
    expect(body.error.code).toBe('file_not_ready');
  });
});

describe('job:subscribe', () => {
  it('acks the current state of a known job', async () => {
    const { body: job } = await postJob(app.server.url, 'http://127.0.0.1:9/watched.bin');
    expect(await subscribe(socket, job.id)).toEqual({ ok: true, job });
  });

  it.each([
    ['an unknown id', randomUUID()],
    ['a malformed id', 'job-1'],
    ['a payload that is not a string', { id: 1 }],
  ])('acks an error for %s', async (_what, id) => {
    const ack = await subscribe(socket, id);
    expect(ack).toEqual({ ok: false, error: { code: 'not_found', message: expect.any(String) } });
  });

  it('keeps the connection usable after a bad payload without an ack', async () => {
    socket.emit('job:subscribe', 42 as unknown as string, undefined as never);
    const { body: job } = await postJob(app.server.url, 'http://127.0.0.1:9/after.bin');
    expect(await subscribe(socket, job.id)).toMatchObject({ ok: true });
  });
});

describe('when private addresses are not allowed (the default)', () => {
  let guarded: TestApp;

  beforeAll(async () => {
    guarded = await startTestApp({ workers: 0, env: { ALLOW_PRIVATE_ADDRESSES: 'false' } });
  }, 60_000);

  afterAll(async () => {
    await guarded?.stop();
  }, 30_000);

  it.each(['http://127.0.0.1:9/a', 'http://2130706433:9/a', 'http://[::ffff:127.0.0.1]:9/a', 'http://localhost:9/a', 'http://169.254.169.254/latest'])(
    'refuses %s at once with 422 blocked_destination',
    async (url) => {
      const { status, body } = await postJob(guarded.server.url, url);
      expect(status).toBe(422);
      expect(body.error).toEqual({ code: 'blocked_destination', message: expect.stringMatching(/private or local network/) });
    },
  );

  it('refuses a batch with one such entry whole, naming it', async () => {
    const { status, body } = await api(guarded.server.url, '/api/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ urls: ['https://downloads.mirror.invalid/a.iso', 'http://127.0.0.1:9/a'] }),
    });
    expect(status).toBe(422);
    expect(body.error).toEqual({ code: 'blocked_destination', message: expect.stringMatching(/^URL 2 \(urls\[1\]\): .*private or local network/) });
  });

  it('accepts a public name, leaving the resolved address to the worker', async () => {
    const { status } = await postJob(guarded.server.url, 'https://downloads.mirror.invalid/a.iso');
    expect(status).toBe(201);
  });
});
