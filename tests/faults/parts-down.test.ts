/**
 * Faults 3 and 4: a part the app needs goes away and comes back. While it is away the API
 * answers 503 `unavailable` at once and `GET /api/health` names the part; when it is back,
 * every job carries on without anyone acting and ends completed, in MongoDB, in every watcher
 * and on disk.
 * - Redis restarts without persistence while 10 jobs run or wait: the queue forgets them all,
 *   the workers stop the attempts whose locks are gone, and the reconciler queues every job
 *   again from MongoDB; each resumes from its partial file.
 * - The MongoDB-wire server is out of reach for 10 s mid-download: the workers keep each job's
 *   newest state and store it once the store is back.
 * Fault 5 too: a running job's lock key is deleted. The attempt that held it stops within a
 * second and leaves the files alone; the one that takes the job over finishes the file.
 */
import { describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { JobView } from '../../lib/domain/job';
import { fixtureSha256 } from '../utils/file-server';
import { waitFor } from '../utils/wait-for';
import { clusterForFile, expectCompletedEverywhere } from './cluster';

const KB = 1024;
const shared = clusterForFile();


/** A submit, and how long its answer took. */
async function timedSubmit(url: string): Promise<{ status: number; code?: string; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${shared.cluster.servers[0].url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url }) });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code, ms: Date.now() - started };
}

async function health(): Promise<{ status: number; parts: Record<string, string> }> {
  const response = await fetch(`${shared.cluster.servers[1].url}/api/health`);
  return { status: response.status, parts: ((await response.json()) as { parts: Record<string, string> }).parts };
}

/** Submits `count` jobs held at `gate` after their first `holdAfter` bytes; each with two watchers. */
async function submitHeld(count: number, size: number, gate: string, holdAfter: number) {
  const jobs: JobView[] = [];
  for (let i = 0; i < count; i++) jobs.push(await shared.cluster.submit(`${shared.files.url}/file/${size}?seed=${gate}-${i}&gate=${gate}&holdafter=${holdAfter}`, i % 2));
  return jobs.map((job, i) => ({ job, sha256: fixtureSha256(size, `${gate}-${i}`), watchers: shared.cluster.watch(job.id, 2) }));
}

async function expectAllCompleted(fault: string, held: Awaited<ReturnType<typeof submitHeld>>, since: number): Promise<void> {
  const ids = held.map(({ job }) => job.id);
  await waitFor(
    'every job to be stored completed',
    async () => (await Promise.all(ids.map(async (id) => (await shared.cluster.stored(id))?.status))).every((status) => status === 'completed'),
    90_000,
  );
  await shared.record(fault, ids, since);
  await waitFor('every watcher on the final state', () => held.every(({ watchers }) => watchers.every((shown) => shown()?.status === 'completed')), 10_000);
  for (const { job, watchers, sha256 } of held) await expectCompletedEverywhere(shared.cluster, job, watchers, sha256);
}

describe('a part out of reach', () => {
  it('Redis restarts empty while 10 jobs run or wait: 503 meanwhile, then every job completes', async () => {
    const held = await submitHeld(10, 512 * KB, 'redis-restart', 128 * KB);
    // Both workers' slots are busy (2 × 4), the rest wait: the restart meets both kinds.
    await waitFor('8 jobs under way', () => held.filter(({ watchers }) => (watchers[0]()?.bytesReceived ?? 0) > 0).length >= 8, 30_000);

    await shared.cluster.redis.kill();
    const refused = await timedSubmit(`${shared.files.url}/file/1024?seed=refused`);
    expect(refused).toMatchObject({ status: 503, code: 'unavailable' });
    expect(refused.ms).toBeLessThan(2_000);
    expect(await health()).toEqual({ status: 503, parts: { redis: 'down', store: 'up' } });
    // Every tab is told, so it says "Reconnecting…" rather than show a download standing still.
    await waitFor('every watcher told that live updates paused', () => shared.cluster.pausedWatchers() === held.length * 2, 5_000);

    await shared.cluster.redis.start();
    const back = Date.now();
    shared.files.release('redis-restart');
    await waitFor('the health check to pass', async () => (await health()).status === 200, 20_000);
    await expectAllCompleted('Redis restarted empty', held, back);
  }, 150_000);

  it('the store is out of reach for 10 s mid-download: 503 meanwhile, then every job completes and is stored', async () => {
    const held = await submitHeld(4, 512 * KB, 'store-down', 128 * KB);
    await waitFor('every job under way', () => held.every(({ watchers }) => (watchers[0]()?.bytesReceived ?? 0) > 0), 30_000);

    await shared.cluster.store.cut();
    const cutAt = Date.now();
    // The downloads end while the store is away: their final states wait in the workers.
    shared.files.release('store-down');
    const refused = await timedSubmit(`${shared.files.url}/file/1024?seed=refused-store`);
    expect(refused).toMatchObject({ status: 503, code: 'unavailable' });
    expect(await health()).toEqual({ status: 503, parts: { redis: 'up', store: 'down' } });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - cutAt))));
    expect((await shared.cluster.stored(held[0].job.id))?.status).toBe('active');

    await shared.cluster.store.restore();
    await expectAllCompleted('store away for 10 s', held, Date.now());
    // Each finished in its first attempt: the outage cost no attempt, it only delayed the write.
    for (const { job } of held) expect(await shared.cluster.stored(job.id)).toMatchObject({ attempt: 1 });
  }, 150_000);
});

describe('a lock lost', () => {
  it("a running job's lock key deleted: the attempt stops, the next one finishes the file, and it matches its hash", async () => {
    const size = 2 * 1024 * KB;
    const [{ job, sha256, watchers }] = await submitHeld(1, size, 'lock-lost', 512 * KB);
    await waitFor('the download under way', () => (watchers[0]()?.bytesReceived ?? 0) > 0, 30_000);
    const holder = await waitFor('the worker with the job', () => shared.cluster.workers.find((worker) => worker.output().includes(`"jobId":"${job.id}"`)), 10_000);
    const redis = new Redis(shared.cluster.redis.url);
    try {
      expect(await redis.del(`faults:downloads:${job.id}:lock`)).toBe(1);
    } finally {
      redis.disconnect();
    }
    const deleted = Date.now();
    const stopped = () => holder.output().split('\n').some((line) => line.includes(job.id) && line.includes('no longer holds the job'));
    await waitFor('the attempt to stop', stopped, 5_000);
    expect(Date.now() - deleted).toBeLessThan(1_500);
    shared.files.release('lock-lost');
    await expectAllCompleted('lock key deleted', [{ job, sha256, watchers }], deleted);
  }, 120_000);
});
