import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { startServer, type ServerProcess } from '../utils/app-processes';
import { fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';
import { connectClient, latest, recordUpdates, subscribe, type JobSocket } from '../utils/job-client';
import { closedPort } from '../utils/ports';
import { api, postJob, startTestApp, type TestApp } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

const MB = 1024 * 1024;

let app: TestApp;
/** A second server node on the same Redis and MongoDB: tabs may be spread over several. */
let otherNode: ServerProcess;
let files: FileServer;
const sockets: JobSocket[] = [];

beforeAll(async () => {
  files = await startFileServer();
  app = await startTestApp();
  otherNode = await startServer(app.settings.env);
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await otherNode?.stop();
  await app?.stop();
  await files?.close();
}, 30_000);

async function client(node: ServerProcess = app.server): Promise<JobSocket> {
  const socket = await connectClient(node.url);
  sockets.push(socket);
  return socket;
}

function finalOf(updates: JobView[]): JobView | undefined {
  const last = updates.at(-1);
  return last && ['completed', 'failed', 'cancelled'].includes(last.status) ? last : undefined;
}

describe('when two tabs on two server nodes watch a 20 MB download at a throttled rate', () => {
  const size = 20 * MB;
  const rate = 5 * MB; // about four seconds
  let job: JobView;
  let tabs: JobView[][];
  let bystanderEvents: string[];
  let started: number;
  let ended: number;

  beforeAll(async () => {
    const [first, second, bystander] = await Promise.all([client(), client(otherNode), client(otherNode)]);
    bystanderEvents = [];
    bystander.onAny((event: string) => bystanderEvents.push(event));

    started = Date.now();
    const created = await postJob(app.server.url, `${files.url}/file/${size}?rate=${rate}&seed=big`);
    expect(created.status).toBe(201);
    job = created.body;

    tabs = [recordUpdates(first, job.id), recordUpdates(second, job.id)];
    const acks = await Promise.all([subscribe(first, job.id), subscribe(second, job.id)]);
    for (const ack of acks) expect(ack).toMatchObject({ ok: true, job: { id: job.id } });

    await waitFor('both tabs to see the end', () => tabs.every(finalOf), 60_000);
    ended = Date.now();
  }, 90_000);

  it('ends completed, with the same final state in both tabs', () => {
    const [a, b] = tabs.map(finalOf);
    expect(a?.status).toBe('completed');
    expect(b).toEqual(a);
  });

  it('sends every tab strictly increasing versions', () => {
    for (const updates of tabs) {
      expect(updates.length).toBeGreaterThan(5);
      updates.forEach((u, i) => i > 0 && expect(u.version).toBeGreaterThan(updates[i - 1].version));
    }
  });

  it('never moves progress or bytes backwards', () => {
    for (const updates of tabs) {
      const progress = updates.map((u) => u.progress ?? 0);
      const bytes = updates.map((u) => u.bytesReceived);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
      expect(bytes).toEqual([...bytes].sort((x, y) => x - y));
    }
  });

  it('shows live progress with bytes, speed and time left along the way', () => {
    const midway = tabs[0].filter((u) => u.status === 'active' && u.bytesReceived > 0 && u.bytesReceived < size);
    expect(midway.length).toBeGreaterThan(3);
    expect(midway.every((u) => u.bytesTotal === size)).toBe(true);
    expect(midway.some((u) => u.speed > 0 && u.eta !== null && u.eta > 0)).toBe(true);
  });

  it('sends at most about ten progress events a second', () => {
    const seconds = (ended - started) / 1000;
    expect(tabs[0].length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 5);
  });

  it('stores a file whose SHA-256 equals the source', async () => {
    const final = finalOf(tabs[0])!;
    expect(final.sha256).toBe(fixtureSha256(size, 'big'));
    const stored = await readFile(path.join(app.settings.dataDir, job.id, final.fileName!));
    expect(stored.length).toBe(size);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(final.sha256);
  });

  it('returns the same final state from GET /api/jobs/:id', async () => {
    const { status, body } = await api(app.server.url, `/api/jobs/${job.id}`);
    expect(status).toBe(200);
    // The API's answer to the job's owner also says it may control it, and gives the whole URL
    // (a room's states carry it without its query).
    expect(body).toEqual({ ...finalOf(tabs[0]), url: job.url, canControl: true });
  });

  it('serves the finished file as an attachment', async () => {
    const response = await fetch(`${app.server.url}/api/jobs/${job.id}/file`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = Buffer.from(await response.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(fixtureSha256(size, 'big'));
  });

  it('sends nothing to a client that did not subscribe', () => {
    expect(bystanderEvents).toEqual([]);
  });

  describe('and a tab subscribes after the end', () => {
    it('gets the final state in the snapshot', async () => {
      const late = await client();
      const ack = await subscribe(late, job.id);
      expect(ack).toEqual({ ok: true, job: { ...finalOf(tabs[0]), url: job.url, canControl: true } });
    });
  });
});

describe('when the server does not say how big the file is', () => {
  it('reports bytes and speed without a percentage, then completes', async () => {
    const size = 3 * MB;
    const tab = await client();
    const created = await postJob(app.server.url, `${files.url}/file/${size}?rate=${MB}&nolength=1&seed=unknown`);
    const updates = recordUpdates(tab, created.body.id);
    await subscribe(tab, created.body.id);
    await waitFor('the end', () => finalOf(updates), 20_000);

    const midway = updates.filter((u) => u.status === 'active' && u.bytesReceived > 0);
    expect(midway.length).toBeGreaterThan(3);
    expect(midway.every((u) => u.progress === null && u.bytesTotal === null && u.eta === null)).toBe(true);
    expect(midway.some((u) => u.speed > 0)).toBe(true);
    expect(finalOf(updates)).toMatchObject({ status: 'completed', progress: 100, bytesTotal: size, sha256: fixtureSha256(size, 'unknown') });
  });
});

describe('when a job ends while its tab is still subscribing', () => {
  it('shows the end: in the snapshot or in an event, never stuck on an earlier state', async () => {
    // A 404 ends within milliseconds, racing the tab's subscribe after the POST returns (a
    // browser renders in between); the tabs wait different times to land anywhere in the race.
    const tabs = await Promise.all(Array.from({ length: 20 }, () => client()));
    const shown = await Promise.all(
      tabs.map(async (tab, i) => {
        const created = await postJob(app.server.url, `${files.url}/status/404`);
        const updates = recordUpdates(tab, created.body.id);
        await new Promise((resolve) => setTimeout(resolve, i * 3));
        const ack = await subscribe(tab, created.body.id);
        if (!ack.ok) throw new Error(ack.error.message);
        return () => latest([ack.job, ...updates])!;
      }),
    );
    await waitFor('every tab to show failed', () => shown.every((showing) => showing().status === 'failed'), 5_000);
  });
});

describe('when the download cannot be made', () => {
  async function runToEnd(url: string): Promise<JobView> {
    const created = await postJob(app.server.url, url);
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    return waitFor(`job ${id} to end`, async () => {
      const current = (await api(app.server.url, `/api/jobs/${id}`)).body as JobView;
      return current.status === 'failed' || current.status === 'completed' ? current : null;
    }, 20_000);
  }

  it('fails a remote 404 with http_error and says so', async () => {
    const job = await runToEnd(`${files.url}/status/404`);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('http_error');
    expect(job.error?.message).toMatch(/404/);
  });

  it('fails a refused connection with connection_refused, at the first attempt', async () => {
    const job = await runToEnd(`http://127.0.0.1:${await closedPort()}/file`);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('connection_refused');
    expect(job).toMatchObject({ attempt: 1, maxAttempts: 5 });
  });
});
