/**
 * Two gaps between attempts and the people watching them:
 * - an attempt that takes a job over outranks every state an earlier attempt sent, even one
 *   stamped by a machine whose clock runs ahead, so tabs follow it at once;
 * - a cancel the worker did not hear (its control subscription was reconnecting) still stops
 *   the attempt, from the cancel record it reads twice a second.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import type { JobView } from '../../lib/domain/job';
import { cancelRecordKey } from '../../lib/infra/control';
import { JobStore } from '../../lib/infra/job-store';
import { startWorker } from '../utils/app-processes';
import { fixtureSha256 } from '../utils/file-server';
import { latest, recordUpdates, subscribe } from '../utils/job-client';
import { jobAction, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const MB = 1024 * 1024;
// No worker at first: each test starts the one it needs.
const ctx = useWatchingApp({ workers: 0 });

const env = () => ctx.app.settings.env;
const withRedis = async <T>(use: (redis: Redis) => Promise<T>): Promise<T> => {
  const redis = new Redis(String(env().REDIS_URL));
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
};

async function submit(seed: string, query: string): Promise<{ job: JobView; updates: JobView[] }> {
  const { body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${2 * MB}?seed=${seed}${query}`);
  const updates = recordUpdates(ctx.tab, job.id);
  await subscribe(ctx.tab, job.id);
  return { job, updates };
}

describe('a worker that takes a job over', () => {
  it("sends states that outrank the earlier attempt's, even from a clock an hour ahead", async () => {
    const { job, updates } = await submit('outrank', '&rate=4194304');
    // What an earlier attempt on a machine an hour ahead left as the job's newest live state.
    const ahead: JobView = { ...job, status: 'active', stage: 'downloading', bytesReceived: 1000, version: Date.now() + 3_600_000 };
    await withRedis((redis) => redis.set(`${env().REDIS_PREFIX}:live-job:${job.id}`, JSON.stringify(ahead), 'PX', 60_000));

    ctx.app.workers.push(await startWorker(env()));
    await waitFor('the job to complete', () => latest(updates)?.status === 'completed', 30_000);
    const fromThisAttempt = updates.filter((u) => u.status === 'active');
    expect(fromThisAttempt.length).toBeGreaterThan(0);
    for (const state of fromThisAttempt) expect(state.version).toBeGreaterThan(ahead.version);
    expect(latest(updates)).toMatchObject({ sha256: fixtureSha256(2 * MB, 'outrank') });
  }, 60_000);
});

describe('a cancel', () => {
  beforeAll(async () => {
    if (ctx.app.workers.length === 0) ctx.app.workers.push(await startWorker(env()));
  }, 30_000);

  it('is recorded with the run it cancels', async () => {
    const { job, updates } = await submit('recorded', '&rate=262144');
    await waitFor('bytes', () => (latest(updates)?.bytesReceived ?? 0) > 0, 15_000);
    expect((await jobAction(ctx.app.server.url, job.id, 'cancel')).status).toBe(200);
    expect(await withRedis((redis) => redis.get(cancelRecordKey(String(env().REDIS_PREFIX), job.id)))).toBe(String(job.run));
  }, 30_000);

  it('that the worker never heard stops the attempt within a second, from its record', async () => {
    const { job, updates } = await submit('unheard', '&rate=262144');
    await waitFor('bytes', () => (latest(updates)?.bytesReceived ?? 0) > 0, 15_000);
    // What the API does, less the message on the control channel: stored, then recorded.
    const mongo = await new MongoClient(String(env().MONGODB_URI)).connect();
    try {
      await new JobStore(mongo.db()).update(job.id, () => ({ status: 'cancelled', stage: 'done', speed: 0, eta: null, finishedAt: new Date().toISOString() }));
    } finally {
      await mongo.close();
    }
    const recorded = Date.now();
    await withRedis((redis) => redis.set(cancelRecordKey(String(env().REDIS_PREFIX), job.id), String(job.run), 'EX', 60));
    const folder = path.join(ctx.app.settings.dataDir, job.id);
    await waitFor('the attempt to stop and its partial file to go', () => !existsSync(folder), 5_000);
    expect(Date.now() - recorded).toBeLessThan(1_500);
    expect(ctx.app.workers.some((worker) => worker.output().includes('cancel recorded: stopping'))).toBe(true);
    await waitFor('the tab to show cancelled', () => latest(updates)?.status === 'cancelled', 5_000);
  }, 30_000);
});
