/**
 * Retention as a deployment runs it: real worker processes sweep on the maintenance queue's
 * schedule, with RETENTION_DAYS so small that a finished job expires within moments.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { JobView } from '../../lib/domain/job';
import { createMaintenanceQueue, RETENTION_SWEEP } from '../../lib/infra/maintenance-queue';
import { startWorker } from '../utils/app-processes';
import { latest, recordUpdates, subscribe } from '../utils/job-client';
import { api, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

/** 0.00002 days: about 1.7 s. */
const RETENTION_DAYS = '0.00002';
const MAX_AGE_MS = Math.round(Number(RETENTION_DAYS) * 86_400_000);
const SWEEP_MS = 1_000;
const KB = 1024;

// Two workers, so each sweep has two takers and every removal must still happen once.
const ctx = useWatchingApp({
  workers: 2,
  env: { RETENTION_DAYS, RETENTION_SWEEP_MS: String(SWEEP_MS), DOWNLOAD_ATTEMPTS: '1' },
});

const folderOf = (id: string) => path.join(ctx.app.settings.dataDir, id);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When each `job:deleted` reached the tab, by job id. */
const deletedAt = new Map<string, number>();

async function watch(fixturePath: string) {
  const { status, body } = await postJob(ctx.app.server.url, `${ctx.files.url}${fixturePath}`);
  if (status !== 201) throw new Error(`the server refused ${fixturePath}: ${status} ${JSON.stringify(body)}`);
  const job = body as JobView;
  const updates = recordUpdates(ctx.tab, job.id);
  await subscribe(ctx.tab, job.id);
  return { id: job.id, updates };
}

const waitForStatus = (job: { id: string; updates: JobView[] }, status: string, timeoutMs = 15_000) =>
  waitFor(`job ${job.id} to be ${status}`, () => (latest(job.updates)?.status === status ? latest(job.updates) : null), timeoutMs);

const waitForDeletion = (id: string) => waitFor(`job:deleted for ${id}`, () => deletedAt.has(id), 20_000);

/** How many times the workers logged removing the job. */
function removalsLogged(id: string): number {
  return ctx.app.workers
    .flatMap((worker) => worker.output().split('\n'))
    .filter((line) => line.includes('"expired job removed"') && line.includes(`"jobId":"${id}"`)).length;
}

describe('when RETENTION_DAYS have passed since jobs ended', () => {
  let held: Awaited<ReturnType<typeof watch>>;
  let completed: JobView;
  let failed: JobView;

  beforeAll(async () => {
    ctx.tab.on('job:deleted', (jobId) => {
      if (!deletedAt.has(jobId)) deletedAt.set(jobId, Date.now());
    });
    // Running before the others end, and for longer than they are kept.
    held = await watch(`/file/${256 * KB}?seed=held&gate=held&holdafter=${64 * KB}`);
    await waitForStatus(held, 'active');

    const done = await watch(`/file/${32 * KB}?seed=done`);
    const broken = await watch('/status/404');
    completed = await waitForStatus(done, 'completed');
    failed = await waitForStatus(broken, 'failed');
    await Promise.all([waitForDeletion(completed.id), waitForDeletion(failed.id)]);
  }, 60_000);

  it('removes each finished job, and tells its watchers job:deleted, not before its time', () => {
    for (const job of [completed, failed]) {
      expect(deletedAt.get(job.id)).toBeGreaterThanOrEqual(Date.parse(job.finishedAt!) + MAX_AGE_MS);
    }
  });

  it('leaves no record, no file and no folder behind', async () => {
    for (const job of [completed, failed]) {
      const { status, body } = await api(ctx.app.server.url, `/api/jobs/${job.id}`);
      expect(status).toBe(404);
      expect(body.error.code).toBe('not_found');
      expect(existsSync(folderOf(job.id))).toBe(false);
    }
    expect((await api(ctx.app.server.url, `/api/jobs/${completed.id}/file`)).status).toBe(404);
  });

  it('has one worker remove each job, once', async () => {
    for (const job of [completed, failed]) await waitFor(`the removal of ${job.id} to be logged`, () => removalsLogged(job.id) > 0, 5_000);
    expect(removalsLogged(completed.id)).toBe(1);
    expect(removalsLogged(failed.id)).toBe(1);
  });

  it('keeps a job that is still running, however long ago it started', async () => {
    const { status, body } = await api(ctx.app.server.url, `/api/jobs/${held.id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: held.id, status: 'active', finishedAt: null });
    expect(Date.now() - Date.parse(body.createdAt)).toBeGreaterThan(MAX_AGE_MS);
    expect(existsSync(folderOf(held.id))).toBe(true);
    expect(deletedAt.has(held.id)).toBe(false);
  });

  it('removes that job too once it has ended and its time has passed', async () => {
    ctx.files.release('held');
    const ended = await waitForStatus(held, 'completed');
    await waitForDeletion(held.id);
    expect(deletedAt.get(held.id)).toBeGreaterThanOrEqual(Date.parse(ended.finishedAt!) + MAX_AGE_MS);
    expect((await api(ctx.app.server.url, `/api/jobs/${held.id}`)).status).toBe(404);
    expect(existsSync(folderOf(held.id))).toBe(false);
  }, 30_000);
});

describe('when workers start with RETENTION_DAYS=0', () => {
  it('stops the sweeps and keeps finished jobs', async () => {
    await Promise.all(ctx.app.workers.map((worker) => worker.stop()));
    ctx.app.workers.length = 0;
    const worker = await startWorker({ ...ctx.app.settings.env, RETENTION_DAYS: '0' });
    ctx.app.workers.push(worker);
    expect(worker.output()).toContain('retention off');

    const redis = new Redis(String(ctx.app.settings.env.REDIS_URL), { maxRetriesPerRequest: null });
    const maintenance = createMaintenanceQueue({ connection: redis, prefix: String(ctx.app.settings.env.REDIS_PREFIX) });
    try {
      expect(await maintenance.getJobScheduler(RETENTION_SWEEP)).toBeUndefined();
    } finally {
      await maintenance.close();
      redis.disconnect();
    }

    const kept = await watch(`/file/${16 * KB}?seed=kept`);
    const done = await waitForStatus(kept, 'completed');
    // Nothing can announce that nothing happens: give it two sweeps beyond its time.
    await pause(MAX_AGE_MS + 2 * SWEEP_MS);
    expect((await api(ctx.app.server.url, `/api/jobs/${done.id}`)).status).toBe(200);
    expect(existsSync(folderOf(done.id))).toBe(true);
    expect(deletedAt.has(done.id)).toBe(false);
  }, 40_000);
});
