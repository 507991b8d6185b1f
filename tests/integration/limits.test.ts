/**
 * The limits, against two real server nodes sharing one Redis: jobs per owner and per address
 * per minute and open jobs per owner, counted across both nodes, each refusal a 429 with its
 * code and Retry-After, for single jobs and batches; and the socket.io limits: message size,
 * jobs followed per socket, subscribes per socket, sockets per address.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { io } from 'socket.io-client';
import { startServer, type ServerProcess } from '../utils/app-processes';
import { connectClient, subscribe } from '../utils/job-client';
import { createHttpClient, type HttpClient } from '../utils/http-client';
import { startTestApp, type TestApp } from '../utils/test-app';

const json = { 'Content-Type': 'application/json' };

let app: TestApp;
let nodes: string[];
let otherNode: ServerProcess;

beforeAll(async () => {
  // No worker: jobs stay queued, so they stay open.
  app = await startTestApp({
    workers: 0,
    env: {
      JOBS_PER_MINUTE: '4',
      JOBS_PER_MINUTE_PER_IP: '6',
      MAX_OPEN_JOBS: '2',
      SOCKET_MAX_SUBSCRIPTIONS: '2',
      SOCKET_SUBSCRIBES_PER_MINUTE: '8',
      SOCKET_CONNECTIONS_PER_IP: '3',
    },
  });
  otherNode = await startServer(app.settings.env);
  nodes = [app.server.url, otherNode.url];
}, 60_000);

afterAll(async () => {
  await otherNode?.stop();
  await app?.stop();
}, 30_000);

/** Posts a job through node `n % 2`: consecutive posts alternate between the nodes. */
function post(client: HttpClient, n: number) {
  return client.api(nodes[n % 2], '/api/jobs', { method: 'POST', headers: json, body: JSON.stringify({ url: `http://127.0.0.1:9/file-${n}.bin` }) });
}

function retryAfter(answer: { headers: Headers }): number {
  return Number(answer.headers.get('retry-after'));
}

const jobIds: string[] = [];

describe('new jobs, across both nodes', () => {
  it('are refused with 429 too_many_jobs while the owner has MAX_OPEN_JOBS open, with Retry-After', async () => {
    const owner = createHttpClient();
    const first = await post(owner, 0);
    const second = await post(owner, 1);
    expect([first.status, second.status]).toEqual([201, 201]);
    jobIds.push(first.body.id, second.body.id);

    const third = await post(owner, 2);
    expect(third).toMatchObject({ status: 429, body: { error: { code: 'too_many_jobs', message: expect.any(String) } } });
    expect(retryAfter(third)).toBeGreaterThan(0);

    // One ends: there is room for one more.
    expect((await owner.api(nodes[1], `/api/jobs/${first.body.id}/cancel`, { method: 'POST' })).status).toBe(200);
    const fourth = await post(owner, 3);
    expect(fourth.status).toBe(201);
    jobIds.push(fourth.body.id);

    // That was the owner's fourth job this minute (the refused one counts): the fifth is one too many.
    for (const id of [second.body.id, fourth.body.id]) await owner.api(nodes[0], `/api/jobs/${id}/cancel`, { method: 'POST' });
    const fifth = await post(owner, 4);
    expect(fifth).toMatchObject({ status: 429, body: { error: { code: 'rate_limited', message: expect.stringMatching(/you started/i) } } });
    expect(retryAfter(fifth)).toBeGreaterThan(0);
    expect(retryAfter(fifth)).toBeLessThanOrEqual(60);
  });

  it('are refused with 429 rate_limited once the address has started JOBS_PER_MINUTE_PER_IP, whoever the owner', async () => {
    // The address has started 4 so far (the owner's refusal above was before the address counted).
    const answers = [];
    for (let n = 0; n < 3; n++) answers.push(await post(createHttpClient(), n));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 429]);
    expect(answers[2].body.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/address/) });
    expect(retryAfter(answers[2])).toBeGreaterThan(0);
    jobIds.push(answers[0].body.id, answers[1].body.id);
  });
});

/**
 * A new browser whose requests come from another loopback address, which the per-address limit
 * counts apart from 127.0.0.1 (used up above). Keeps its owner cookie.
 */
function clientFrom(localAddress: string) {
  let cookie: string | undefined;
  return (base: string, path: string, method: 'GET' | 'POST', body?: unknown) =>
    new Promise<{ status: number; body: any; headers: Headers }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { ...(payload && json), ...(cookie && { Cookie: cookie }) };
      const sent = request(new URL(path, base), { method, headers, localAddress }, (response) => {
        cookie ??= response.headers['set-cookie']?.map((line) => line.split(';')[0]).join('; ');
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, body: text ? JSON.parse(text) : null, headers: new Headers({ 'retry-after': String(response.headers['retry-after'] ?? '') }) }),
        );
      });
      sent.on('error', reject);
      sent.end(payload);
    });
}

describe('a batch of new jobs, from another address', () => {
  const urls = (...names: string[]) => ({ urls: names.map((name) => `http://127.0.0.1:9/${name}.bin`) });

  it('counts each URL, and is refused whole with the code of the limit it would pass, with Retry-After', async () => {
    const owner = clientFrom('127.0.0.2');
    const first = await owner(nodes[0], '/api/jobs', 'POST', urls('batch-1', 'batch-2'));
    expect(first.status).toBe(201);
    expect(first.body.jobs).toHaveLength(2);

    // One ends: one more would fit, two would pass MAX_OPEN_JOBS, so neither is taken.
    expect((await owner(nodes[1], `/api/jobs/${first.body.jobs[0].id}/cancel`, 'POST')).status).toBe(200);
    const tooMany = await owner(nodes[1], '/api/jobs', 'POST', urls('batch-3', 'batch-4'));
    expect(tooMany).toMatchObject({ status: 429, body: { error: { code: 'too_many_jobs', message: expect.stringMatching(/these 2 more/) } } });
    expect(retryAfter(tooMany)).toBeGreaterThan(0);

    // The owner has started 4 this minute (the refused two count): a fifth is one too many.
    expect((await owner(nodes[0], `/api/jobs/${first.body.jobs[1].id}/cancel`, 'POST')).status).toBe(200);
    const fifth = await owner(nodes[0], '/api/jobs', 'POST', urls('batch-5'));
    expect(fifth).toMatchObject({ status: 429, body: { error: { code: 'rate_limited', message: expect.stringMatching(/you started/i) } } });
    expect(retryAfter(fifth)).toBeGreaterThan(0);
    expect(retryAfter(fifth)).toBeLessThanOrEqual(60);

    // The address has started 4 (the owner's refusal came before it counted): 3 more would pass 6.
    const other = clientFrom('127.0.0.2');
    const crowd = await other(nodes[1], '/api/jobs', 'POST', urls('batch-6', 'batch-7', 'batch-8'));
    expect(crowd).toMatchObject({ status: 429, body: { error: { code: 'rate_limited', message: expect.stringMatching(/address/) } } });
    expect(retryAfter(crowd)).toBeGreaterThan(0);
  });
});

describe('a socket', () => {
  it('may follow at most SOCKET_MAX_SUBSCRIPTIONS jobs at once', async () => {
    const socket = await connectClient(nodes[0]);
    try {
      const [a, b, c] = jobIds;
      expect(await subscribe(socket, a)).toMatchObject({ ok: true });
      expect(await subscribe(socket, b)).toMatchObject({ ok: true });
      expect(await subscribe(socket, c)).toEqual({ ok: false, error: { code: 'too_many_subscriptions', message: expect.any(String) } });
      // Following one again is no new one, and leaving one makes room.
      expect(await subscribe(socket, a)).toMatchObject({ ok: true });
      socket.emit('job:unsubscribe', a);
      expect(await subscribe(socket, c)).toMatchObject({ ok: true });
    } finally {
      socket.disconnect();
    }
  });

  it('is refused subscribes beyond SOCKET_SUBSCRIBES_PER_MINUTE with rate_limited in the acknowledgement', async () => {
    const socket = await connectClient(nodes[0]);
    try {
      const acks = [];
      for (let n = 0; n < 9; n++) acks.push(await subscribe(socket, jobIds[0]));
      expect(acks.slice(0, 8).every((ack) => ack.ok)).toBe(true);
      expect(acks[8]).toEqual({ ok: false, error: { code: 'rate_limited', message: expect.any(String) } });
    } finally {
      socket.disconnect();
    }
  });

  it('is disconnected for a message larger than a few KB', async () => {
    const socket = await connectClient(nodes[0]);
    const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit('job:subscribe', 'x'.repeat(64 * 1024), () => undefined);
    expect(await reason).toMatch(/transport (close|error)/);
  });

  it('is refused with rate_limited beyond SOCKET_CONNECTIONS_PER_IP on one node', async () => {
    const open = await Promise.all([0, 1, 2].map(() => connectClient(nodes[1])));
    try {
      const refused = await new Promise<Error>((resolve, reject) => {
        const extra = io(nodes[1], { transports: ['websocket'], reconnection: false, forceNew: true });
        extra.once('connect', () => reject(new Error('a fourth socket was accepted')));
        extra.once('connect_error', resolve);
      });
      expect(refused.message).toBe('rate_limited');
      // The other node counts its own.
      (await connectClient(nodes[0])).disconnect();
    } finally {
      for (const socket of open) socket.disconnect();
    }
  });
});
