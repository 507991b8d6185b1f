/**
 * Owners, against a real server: the browser that created a job may cancel, retry and delete
 * it; anyone else holding its link may watch it (without its URL's query) and gets 403
 * not_owner for each control route; the access token's holder may control every job.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectClient, subscribe, type JobSocket } from '../utils/job-client';
import { createHttpClient, type HttpClient } from '../utils/http-client';
import { startTestApp, type TestApp } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

const TOKEN = 'owners-test-access-token-0123456';
const SECRET_QUERY = 'X-Amz-Signature=very-secret-signature';
const json = { 'Content-Type': 'application/json' };

let app: TestApp;
let url: string;
let owner: HttpClient;
let stranger: HttpClient;

/** A signed-in browser of its own. */
async function browser(): Promise<HttpClient> {
  const client = createHttpClient();
  const signedIn = await client.api(url, '/api/session', { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) });
  expect(signedIn.status).toBe(204);
  return client;
}

async function createJob(): Promise<any> {
  const created = await owner.api(url, '/api/jobs', { method: 'POST', headers: json, body: JSON.stringify({ url: `http://127.0.0.1:9/report.pdf?${SECRET_QUERY}` }) });
  expect(created.status).toBe(201);
  return created.body;
}

const control = {
  cancel: (client: HttpClient, id: string, headers: Record<string, string> = {}) => client.api(url, `/api/jobs/${id}/cancel`, { method: 'POST', headers }),
  retry: (client: HttpClient, id: string, headers: Record<string, string> = {}) => client.api(url, `/api/jobs/${id}/retry`, { method: 'POST', headers }),
  delete: (client: HttpClient, id: string, headers: Record<string, string> = {}) => client.api(url, `/api/jobs/${id}`, { method: 'DELETE', headers }),
};

beforeAll(async () => {
  // No worker: jobs stay queued until the test moves them.
  app = await startTestApp({ workers: 0, env: { ACCESS_TOKEN: TOKEN } });
  url = app.server.url;
  owner = await browser();
  stranger = await browser();
}, 60_000);

afterAll(async () => {
  await app?.stop();
}, 30_000);

describe("a job's owner", () => {
  it('sees the whole URL and may control the job', async () => {
    const job = await createJob();
    expect(job).toMatchObject({ url: `http://127.0.0.1:9/report.pdf?${SECRET_QUERY}`, canControl: true });
    expect((await owner.api(url, `/api/jobs/${job.id}`)).body).toMatchObject({ url: job.url, canControl: true });
    expect((await control.cancel(owner, job.id)).body).toMatchObject({ status: 'cancelled', canControl: true });
    expect((await control.retry(owner, job.id)).body).toMatchObject({ status: 'queued', run: 2 });
    expect((await control.delete(owner, job.id)).status).toBe(204);
  });
});

describe('someone else with the link', () => {
  it.each(['cancel', 'retry', 'delete'] as const)('is refused %s with 403 not_owner, and the job is untouched', async (action) => {
    const job = await createJob();
    if (action === 'retry') expect((await control.cancel(owner, job.id)).status).toBe(200);
    const before = (await owner.api(url, `/api/jobs/${job.id}`)).body;
    const refused = await control[action](stranger, job.id);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'not_owner', message: expect.any(String) } } });
    expect((await owner.api(url, `/api/jobs/${job.id}`)).body).toEqual(before);
  });

  it('may watch, over the API, socket.io and its page, without the query of its URL', async () => {
    const job = await createJob();
    const hidden = 'http://127.0.0.1:9/report.pdf?…';
    const read = await stranger.api(url, `/api/jobs/${job.id}`);
    expect(read.body).toMatchObject({ id: job.id, url: hidden, canControl: false });
    expect(JSON.stringify(read.body)).not.toContain('very-secret');

    const socket = await connectClient(url, { cookie: stranger.cookies() });
    try {
      expect(await subscribe(socket, job.id)).toMatchObject({ ok: true, job: { url: hidden, canControl: false } });
    } finally {
      socket.disconnect();
    }
    const page = await fetch(`${url}/jobs/${job.id}`, { headers: { Accept: 'text/html', Cookie: stranger.cookies() } });
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain('very-secret');
  });

  it("never gets the query through the job's room either", async () => {
    const job = await createJob();
    const sockets: JobSocket[] = await Promise.all([connectClient(url, { cookie: owner.cookies() }), connectClient(url, { cookie: stranger.cookies() })]);
    try {
      const seen: any[] = [];
      for (const socket of sockets) socket.on('job:update', (state) => seen.push(state));
      await Promise.all(sockets.map((socket) => subscribe(socket, job.id)));
      await control.cancel(owner, job.id);
      await waitFor('both tabs to see the cancel', () => seen.filter((state) => state.status === 'cancelled').length === 2);
      for (const state of seen) {
        expect(state.url).toBe('http://127.0.0.1:9/report.pdf?…');
        expect(state.canControl).toBeUndefined();
      }
    } finally {
      for (const socket of sockets) socket.disconnect();
    }
  });
});

describe("the access token's holder", () => {
  it('may control every job, sent as a bearer token', async () => {
    const job = await createJob();
    const admin = createHttpClient();
    const bearer = { Authorization: `Bearer ${TOKEN}` };
    expect((await control.cancel(admin, job.id, bearer)).body).toMatchObject({ status: 'cancelled', canControl: true });
    expect((await control.retry(admin, job.id, bearer)).status).toBe(200);
    expect((await control.delete(admin, job.id, bearer)).status).toBe(204);
  });
});
