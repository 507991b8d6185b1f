/**
 * Sign-in with ACCESS_TOKEN, against a real server: no token, a wrong one and the right one,
 * over HTTP (bearer and session cookie), the event stream and socket.io; wrong tokens are
 * rate-limited per address; a server reachable from other machines will not start without it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { handshakeOutcome } from '../utils/job-client';
import { createTestSettings } from '../utils/app-processes';
import { createHttpClient } from '../utils/http-client';
import { openEventStream } from '../utils/sse-client';
import { startTestApp, type TestApp } from '../utils/test-app';

const TOKEN = 'correct-horse-battery-staple-42';
const WRONG = 'not-the-token-at-all-000000';
const json = { 'Content-Type': 'application/json' };

let app: TestApp;
let url: string;
let jobId: string;

beforeAll(async () => {
  app = await startTestApp({ workers: 0, env: { ACCESS_TOKEN: TOKEN, SIGN_IN_FAILURES_PER_15_MIN: '1000' } });
  url = app.server.url;
  const created = await createHttpClient().api(url, '/api/jobs', {
    method: 'POST',
    headers: { ...json, Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/file.bin' }),
  });
  expect(created.status).toBe(201);
  jobId = created.body.id;
}, 60_000);

afterAll(async () => {
  await app?.stop();
}, 30_000);

const unauthorized = { error: { code: 'unauthorized', message: expect.any(String) } };

describe('over HTTP', () => {
  it('refuses an API request without a token, or with a wrong one, with 401 unauthorized', async () => {
    const client = createHttpClient();
    expect(await client.api(url, `/api/jobs/${jobId}`)).toMatchObject({ status: 401, body: unauthorized });
    expect(await client.api(url, `/api/jobs/${jobId}`, { headers: { Authorization: `Bearer ${WRONG}` } })).toMatchObject({ status: 401, body: unauthorized });
    expect(await client.api(url, '/api/jobs', { method: 'POST', headers: json, body: JSON.stringify({ url: 'http://127.0.0.1:9/x' }) })).toMatchObject({
      status: 401,
    });
  });

  it('takes the token as a bearer token', async () => {
    const answer = await createHttpClient().api(url, `/api/jobs/${jobId}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(answer).toMatchObject({ status: 200, body: { id: jobId } });
  });

  it('sends a person opening a page to the sign-in page, which is open', async () => {
    const page = await fetch(`${url}/jobs/${jobId}`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/signin?next=${encodeURIComponent(`/jobs/${jobId}`)}`);
    const signIn = await fetch(`${url}${page.headers.get('location')}`, { headers: { Accept: 'text/html' } });
    expect(signIn.status).toBe(200);
    expect(await signIn.text()).toContain('Access token');
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
  });

  it('signs a browser in with a session cookie that opens pages and the API, and signs it out', async () => {
    const browser = createHttpClient();
    const wrong = await browser.api(url, '/api/session', { method: 'POST', headers: json, body: JSON.stringify({ token: WRONG }) });
    expect(wrong).toMatchObject({ status: 401, body: unauthorized });

    const signedIn = await browser.api(url, '/api/session', { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) });
    expect(signedIn.status).toBe(204);
    const cookie = signedIn.headers.getSetCookie().find((line) => line.startsWith('ld_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(await browser.api(url, `/api/jobs/${jobId}`)).toMatchObject({ status: 200, body: { id: jobId } });
    const page = await fetch(`${url}/jobs/${jobId}`, { headers: { Accept: 'text/html', Cookie: browser.cookies() }, redirect: 'manual' });
    expect(page.status).toBe(200);

    expect((await browser.api(url, '/api/session', { method: 'DELETE' })).status).toBe(204);
    expect((await browser.api(url, `/api/jobs/${jobId}`)).status).toBe(401);
  });

  it('refuses a forged session cookie', async () => {
    const forged = await fetch(`${url}/api/jobs/${jobId}`, { headers: { Cookie: `ld_session=x:${Date.now()}.forged-signature` } });
    expect(forged.status).toBe(401);
  });
});

describe('the event stream', () => {
  it('needs the token as well', async () => {
    const none = await openEventStream(url, jobId, {});
    expect(none).toMatchObject({ status: 401, json: unauthorized });
    const wrong = await openEventStream(url, jobId, { Authorization: `Bearer ${WRONG}` });
    expect(wrong.status).toBe(401);
    const right = await openEventStream(url, jobId, { Authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect(right.contentType).toMatch(/^text\/event-stream/);
    right.close();
  });
});

describe('socket.io', () => {
  const handshake = ({ token, cookie }: { token?: string; cookie?: string }) =>
    handshakeOutcome(url, { token, headers: cookie ? { Cookie: cookie } : {} });

  it('refuses a handshake without the token, or with a wrong one, with unauthorized', async () => {
    expect(await handshake({})).toBe('unauthorized');
    expect(await handshake({ token: WRONG })).toBe('unauthorized');
  });

  it('accepts auth.token, or the session cookie', async () => {
    expect(await handshake({ token: TOKEN })).toBe('connected');
    const browser = createHttpClient();
    await browser.api(url, '/api/session', { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) });
    expect(await handshake({ cookie: browser.cookies() })).toBe('connected');
  });
});

describe('wrong tokens from one address', () => {
  let limited: TestApp;

  beforeAll(async () => {
    limited = await startTestApp({ workers: 0, env: { ACCESS_TOKEN: TOKEN, SIGN_IN_FAILURES_PER_15_MIN: '3' } });
  }, 60_000);

  afterAll(async () => {
    await limited?.stop();
  }, 30_000);

  it('are refused with 429 rate_limited and Retry-After once there were too many, even the right one', async () => {
    const client = createHttpClient();
    const attempt = (token: string) => client.api(limited.server.url, '/api/session', { method: 'POST', headers: json, body: JSON.stringify({ token }) });
    for (let i = 0; i < 3; i++) expect((await attempt(WRONG)).status).toBe(401);
    const refused = await attempt(WRONG);
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(60);
    expect((await attempt(TOKEN)).status).toBe(429);
    // A wrong bearer token counts the same way, whatever route it is sent to.
    expect((await client.api(limited.server.url, '/api/jobs/x', { headers: { Authorization: `Bearer ${WRONG}` } })).status).toBe(429);
  });
});

describe('a server that other machines can reach', () => {
  it('will not start without ACCESS_TOKEN, and says why', async () => {
    const settings = await createTestSettings({ HOST: '0.0.0.0', PORT: '0', NODE_ENV: 'production' });
    const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, ...settings.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await settings.cleanup();
    expect(code).toBe(1);
    expect(output).toMatch(/HOST=0\.0\.0\.0.*ACCESS_TOKEN.*ALLOW_ANONYMOUS=true/s);
  }, 30_000);
});
