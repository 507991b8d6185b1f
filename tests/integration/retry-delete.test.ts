import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { startWorker } from '../utils/app-processes';
import { fixtureSha256 } from '../utils/file-server';
import { latest, recordDeletions, recordUpdates, subscribe } from '../utils/job-client';
import { api, jobAction, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const MB = 1024 * 1024;

// No worker at first: a queued job stays queued until the test starts one.
const ctx = useWatchingApp({ workers: 0 });

async function ensureWorker(): Promise<void> {
  if (ctx.app.workers.length === 0) ctx.app.workers.push(await startWorker(ctx.app.settings.env));
}

const getJob = async (id: string) => (await api(ctx.app.server.url, `/api/jobs/${id}`)).body as JobView;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('when a queued job is cancelled while no worker runs', () => {
  let job: JobView;
  let updates: JobView[];
  let answer: { status: number; body: any };

  beforeAll(async () => {
    ({ body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${MB}?seed=queued-cancel`));
    updates = recordUpdates(ctx.tab, job.id);
    await subscribe(ctx.tab, job.id);
    answer = await jobAction(ctx.app.server.url, job.id, 'cancel');
  });

  it('is cancelled at once and its room is told', async () => {
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: job.id, status: 'cancelled', finishedAt: expect.any(String) });
    expect(answer.body.version).toBeGreaterThan(job.version);
    await waitFor('the cancelled event', () => latest(updates)?.status === 'cancelled', 2_000);
    expect(await getJob(job.id)).toEqual(answer.body);
  });

  it('is never taken by a worker that starts afterwards', async () => {
    await ensureWorker();
    await pause(1_500);
    expect(await getJob(job.id)).toEqual(answer.body);
    expect(existsSync(path.join(ctx.app.settings.dataDir, job.id))).toBe(false);
  }, 40_000);
});

describe('when a cancelled job is retried', () => {
  it('runs again under the same id and completes with the right file', async () => {
    await ensureWorker();
    const size = 2 * MB;
    const { body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${size}?rate=${MB}&seed=retried`);
    const updates = recordUpdates(ctx.tab, job.id);
    await subscribe(ctx.tab, job.id);
    await waitFor('bytes to arrive', () => updates.some((u) => u.bytesReceived > 0), 15_000);
    expect((await jobAction(ctx.app.server.url, job.id, 'cancel')).status).toBe(200);

    const retried = await jobAction(ctx.app.server.url, job.id, 'retry');
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id: job.id, status: 'queued', stage: 'waiting', bytesReceived: 0, progress: 0, error: null, attempt: 1, finishedAt: null });

    const final = await waitFor('the retried job to complete', () => (latest(updates)?.status === 'completed' ? latest(updates) : null), 20_000);
    expect(final).toMatchObject({ id: job.id, sha256: fixtureSha256(size, 'retried'), bytesReceived: size });
    // The API's answer to the job's owner also says it may control it, and gives the whole URL
    // (a room's states carry it without its query).
    expect(await getJob(job.id)).toEqual({ ...final, url: job.url, canControl: true });
  }, 60_000);
});

describe('when a job is deleted', () => {
  let job: JobView;
  let deletions: string[];
  let answer: { status: number; body: any };

  beforeAll(async () => {
    await ensureWorker();
    ({ body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${20 * MB}?rate=${MB}&seed=deleted`));
    const updates = recordUpdates(ctx.tab, job.id);
    deletions = recordDeletions(ctx.tab);
    await subscribe(ctx.tab, job.id);
    await waitFor('bytes to arrive', () => updates.some((u) => u.bytesReceived > 0), 15_000);
    answer = await jobAction(ctx.app.server.url, job.id, 'delete');
  }, 40_000);

  it('answers 204 with no body', () => {
    expect(answer).toEqual({ status: 204, body: null });
  });

  it('tells the watching tabs job:deleted', async () => {
    await waitFor('job:deleted', () => deletions.includes(job.id), 2_000);
  });

  it('is gone: GET answers 404', async () => {
    const { status, body } = await api(ctx.app.server.url, `/api/jobs/${job.id}`);
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  it('removes its folder, and nothing writes it back', async () => {
    const folder = path.join(ctx.app.settings.dataDir, job.id);
    await waitFor('the folder to go', () => !existsSync(folder), 2_000);
    await pause(1_500);
    expect(existsSync(folder)).toBe(false);
    expect((await api(ctx.app.server.url, `/api/jobs/${job.id}`)).status).toBe(404);
  });

  it('answers 404 to a second delete, and to an unknown id', async () => {
    expect((await jobAction(ctx.app.server.url, job.id, 'delete')).status).toBe(404);
    expect((await jobAction(ctx.app.server.url, randomUUID(), 'delete')).status).toBe(404);
    expect((await jobAction(ctx.app.server.url, 'not-a-job', 'cancel')).status).toBe(404);
  });
});
