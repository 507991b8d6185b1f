/**
 * `POST /api/jobs` is answered by the server itself, not by Next (lib/server/fast-api.ts): the
 * same answers and headers as any other API answer, the pipeline's checks before it, and every
 * other request to the same path still handled by Next. What the API answers to each body is in
 * ./api-contract.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SECURITY_HEADERS } from '../../lib/server/security-headers';
import { api, startTestApp, type TestApp } from '../utils/test-app';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ workers: 0 });
}, 60_000);

afterAll(async () => {
  await app?.stop();
}, 30_000);

const post = (path: string, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
  api(app.server.url, path, { method: 'POST', headers, body });

const securityHeadersOf = (headers: Headers) => Object.fromEntries(Object.keys(SECURITY_HEADERS).map((name) => [name, headers.get(name)]));

describe('POST /api/jobs', () => {
  it("answers without Next's router, with the security headers and the job's Location", async () => {
    const { status, body, headers } = await post('/api/jobs', JSON.stringify({ url: 'http://127.0.0.1:9/a.bin' }));
    expect(status).toBe(201);
    expect(headers.get('location')).toBe(`/api/jobs/${body.id}`);
    expect(headers.get('content-type')).toBe('application/json');
    expect(securityHeadersOf(headers)).toEqual(SECURITY_HEADERS);
    // Next's router marks every answer it gives with the headers its page cache varies on.
    expect(headers.get('vary')).toBeNull();
    // The job as its owner reads it back.
    expect((await api(app.server.url, headers.get('location')!)).body).toEqual(body);
  });

  it('answers a refusal with the JSON error, the security headers and no caching', async () => {
    const { status, body, headers } = await post('/api/jobs', '');
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_json');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(securityHeadersOf(headers)).toEqual(SECURITY_HEADERS);
  });

  it('closes the connection after refusing a body too large, so its rest is not read as a request', async () => {
    const { status, headers } = await post('/api/jobs', JSON.stringify({ url: `https://example.invalid/${'a'.repeat(300 * 1024)}` }));
    expect(status).toBe(413);
    expect(headers.get('connection')).toBe('close');
  });

  it('takes a query string as Next would, and leaves the pipeline its checks', async () => {
    expect((await post('/api/jobs?from=test', JSON.stringify({ url: 'http://127.0.0.1:9/b.bin' }))).status).toBe(201);
    const foreign = await post('/api/jobs', JSON.stringify({ url: 'http://127.0.0.1:9/c.bin' }), { 'Content-Type': 'text/plain' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('forbidden_origin');
  });
});

describe('every other request to /api/jobs', () => {
  it('goes to Next, which answers what the route allows, with the same security headers', async () => {
    const get = await api(app.server.url, '/api/jobs');
    expect(get.status).toBe(405);
    expect(securityHeadersOf(get.headers)).toEqual(SECURITY_HEADERS);
    const options = await api(app.server.url, '/api/jobs', { method: 'OPTIONS' });
    expect(options.headers.get('allow')).toContain('POST');
  });
});
