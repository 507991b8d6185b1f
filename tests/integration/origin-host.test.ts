/**
 * The Host and Origin checks of the request pipeline, against a real server: one rule for
 * pages, API routes, the event stream and socket.io handshakes.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { handshakeOutcome } from '../utils/job-client';
import { startTestApp, type TestApp } from '../utils/test-app';

const FRIEND = 'http://friend.test:8080';
let app: TestApp;
let port: number;

beforeAll(async () => {
  app = await startTestApp({ workers: 0, env: { ALLOWED_ORIGINS: FRIEND } });
  port = Number(new URL(app.server.url).port);
}, 60_000);

afterAll(async () => {
  await app?.stop();
}, 30_000);

/** A raw request, so that Host and Origin say exactly what the test wants. */
function send(method: string, path: string, given: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  // `PORT` in a header stands for the app's port, unknown when the cases are listed.
  const headers = Object.fromEntries(Object.entries({ Host: `127.0.0.1:${port}`, ...given }).map(([k, v]) => [k, v.replace('PORT', String(port))]));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: res.headers['content-type']?.startsWith('application/json') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const job = JSON.stringify({ url: 'http://127.0.0.1:9/file.bin' });
const json = { 'Content-Type': 'application/json' };

describe('the Host header', () => {
  it.each(['/api/health', '/', '/api/jobs/00000000-0000-4000-8000-000000000000/events'])('must name the app for %s', async (path) => {
    const answer = await send('GET', path, { Host: `rebound.attacker.invalid:${port}` });
    expect(answer).toEqual({ status: 403, body: { error: { code: 'forbidden_host', message: expect.any(String) } } });
  });

  it.each(['localhost:PORT', '127.0.0.1:PORT', 'localhost'])('may be a loopback name (%s)', async (host) => {
    expect((await send('GET', '/api/health', { Host: host })).status).toBe(200);
  });
});

describe('a request that changes a job', () => {
  it.each([
    ['a foreign page', { ...json, Origin: 'http://evil.invalid' }],
    ['a foreign page, as a simple text/plain request', { 'Content-Type': 'text/plain', Origin: 'http://evil.invalid' }],
    ['another port of this machine', { ...json, Origin: 'http://127.0.0.1:1' }],
    ['an opaque origin', { ...json, Origin: 'null' }],
    ['a browser that sent no Origin but says cross-site', { ...json, 'Sec-Fetch-Site': 'cross-site' }],
    ['no page at all, with a body that is not JSON', { 'Content-Type': 'text/plain' }],
  ])('is refused from %s', async (_from, headers) => {
    const answer = await send('POST', '/api/jobs', headers, job);
    expect(answer).toEqual({ status: 403, body: { error: { code: 'forbidden_origin', message: expect.any(String) } } });
  });

  it.each([
    ["the app's own page", { ...json, Origin: 'http://127.0.0.1:PORT', 'Sec-Fetch-Site': 'same-origin' }],
    ['an allowed origin', { ...json, Origin: FRIEND }],
    ['a client that is no browser page (curl)', json],
  ])('is taken from %s', async (_from, headers) => {
    expect((await send('POST', '/api/jobs', headers, job)).status).toBe(201);
  });

  it('is refused from a foreign page even without a body (cancel)', async () => {
    const created = await send('POST', '/api/jobs', json, job);
    const answer = await send('POST', `/api/jobs/${created.body.id}/cancel`, { Origin: 'http://evil.invalid' });
    expect(answer.body.error.code).toBe('forbidden_origin');
    expect((await send('GET', `/api/jobs/${created.body.id}`, {})).body.status).toBe('queued');
  });
});

describe('a socket.io handshake', () => {
  const handshake = (headers: Record<string, string>) => handshakeOutcome(app.server.url, { headers });

  it('is refused from a foreign page, with the code as its message', async () => {
    expect(await handshake({ Origin: 'http://evil.invalid' })).toBe('forbidden_origin');
  });

  it('is refused under a host name that is not the app', async () => {
    expect(await handshake({ Host: `rebound.attacker.invalid:${port}`, Origin: `http://rebound.attacker.invalid:${port}` })).toBe('forbidden_host');
  });

  it("is taken from the app's own page, an allowed origin, or no page", async () => {
    expect(await handshake({ Origin: `http://127.0.0.1:${port}` })).toBe('connected');
    expect(await handshake({ Origin: FRIEND })).toBe('connected');
    expect(await handshake({})).toBe('connected');
  });
});
