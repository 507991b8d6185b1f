/**
 * The owner's share of the worker slots (OWNER_SLOT_SHARE), with a real worker process of four
 * slots and a share of one half: two slots. Jobs are stored and queued the way the API does it,
 * under owners A and B, each held at its own gate of the fixture until the test lets it end, so
 * which jobs run is fixed while the test looks. States are read from MongoDB.
 *
 * The steps run in order and build on each other: A alone fills every slot; B's jobs then take
 * the slots A's jobs free, although A's own jobs waited first, until A is down to its share.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import type { Redis } from 'ioredis';
import type { JobStatus, JobView } from '../../lib/domain/job';
import { JobStore } from '../../lib/infra/job-store';
import { createDownloadQueue, enqueueDownload, type DownloadQueue } from '../../lib/infra/queue';
import { createRedis } from '../../lib/infra/redis';
import { newJob } from '../../lib/server/job-service';
import { createTestSettings, startWorker, type AppProcess, type TestSettings } from '../utils/app-processes';
import { deleteRedisPrefix, dropDatabase } from '../utils/cleanup';
import { fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';
import { waitFor } from '../utils/wait-for';

const KB = 1024;
const SIZE = 256 * KB;
const ATTEMPTS = 3;

let settings: TestSettings;
let files: FileServer;
let mongo: MongoClient;
let jobs: JobStore;
let redis: Redis;
let queue: DownloadQueue;
let worker: AppProcess;

/** Each job by its gate's name (a1…a6 of owner A, b1, b2 of owner B), as stored when queued. */
const queued = new Map<string, JobView>();

beforeAll(async () => {
  settings = await createTestSettings({
    WORKER_CONCURRENCY: '4',
    OWNER_SLOT_SHARE: '0.5',
    // Held jobs send nothing for a while; nothing here is about slow sources.
    IDLE_TIMEOUT_MS: '120000',
    MIN_SPEED_BYTES_PER_S: '0',
  });
  files = await startFileServer();
  worker = await startWorker(settings.env);
  mongo = await new MongoClient(settings.env.MONGODB_URI!).connect();
  jobs = new JobStore(mongo.db());
  redis = createRedis(settings.env.REDIS_URL!);
  queue = createDownloadQueue({ connection: redis, prefix: settings.env.REDIS_PREFIX! });
}, 40_000);

afterAll(async () => {
  for (const name of queued.keys()) files?.release(name);
  await worker?.stop();
  await queue?.close();
  redis?.disconnect();
  await mongo?.close();
  await files?.close();
  if (settings) {
    await dropDatabase(settings.env.MONGODB_URI!);
    await deleteRedisPrefix(settings.env.REDIS_URL!, settings.env.REDIS_PREFIX!);
    await settings.cleanup();
  }
}, 30_000);

/** Stores and queues a job of `owner` whose bytes after the first 64 KiB wait for `release(name)`. */
async function submit(owner: string, name: string): Promise<void> {
  const url = `${files.url}/file/${SIZE}?seed=${name}&gate=${name}&holdafter=${64 * KB}`;
  const job = newJob(url, { maxAttempts: ATTEMPTS });
  await jobs.insert(job, url, owner);
  await enqueueDownload(queue, job.id, { attempts: ATTEMPTS, backoffMs: 100 }, owner);
  queued.set(name, job);
}

const stored = async (name: string) => (await jobs.find(queued.get(name)!.id))!;

/** The names whose stored status is `status`, in order. */
async function withStatus(names: string[], status: JobStatus): Promise<string[]> {
  const found = await Promise.all(names.map(async (name) => ((await stored(name)).status === status ? name : null)));
  return found.filter((name): name is string => name !== null);
}

const A = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
const B = ['b1', 'b2'];

/** Log lines of the worker that handed `name`'s job back to the queue. */
const handedBack = (name: string) =>
  worker
    .output()
    .split('\n')
    .filter((line) => line.includes('job handed back') && line.includes(queued.get(name)!.id));

describe('when one owner has more jobs than its share of the slots', () => {
  it('lets the owner use every slot while no other owner has a job waiting', async () => {
    for (const name of A) await submit('owner-a', name);
    await waitFor("four of A's jobs to run", async () => (await withStatus(A, 'active')).length === 4, 15_000);
    expect(await withStatus(A, 'active')).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(await withStatus(A, 'queued')).toEqual(['a5', 'a6']);
  }, 20_000);

  it("gives a freed slot to another owner's waiting job, not to the owner's next one", async () => {
    for (const name of B) await submit('owner-b', name);
    files.release('a1');
    await waitFor('b1 to run', async () => (await stored('b1')).status === 'active', 10_000);
    // A's next job was taken and handed back, not run: A holds three slots, over its share.
    expect(await withStatus(A, 'active')).toEqual(['a2', 'a3', 'a4']);
    expect(handedBack('a5').length).toBeGreaterThan(0);
  }, 15_000);

  it('keeps the owner at its share while the other owner still has a job waiting', async () => {
    files.release('a2');
    await waitFor('b2 to run', async () => (await stored('b2')).status === 'active', 10_000);
    expect(await withStatus(A, 'active')).toEqual(['a3', 'a4']);
    expect(await withStatus(A, 'completed')).toEqual(['a1', 'a2']);
    expect(await withStatus(B, 'active')).toEqual(['b1', 'b2']);
  }, 15_000);

  it('leaves a job handed back exactly as queued: nothing stored, no attempt counted', async () => {
    for (const name of ['a5', 'a6']) {
      const now = await stored(name);
      expect(now).toMatchObject({ status: 'queued', stage: 'waiting', attempt: 1, version: queued.get(name)!.version });
    }
  });

  it('runs every job to the end, each in its first attempt, once the gates open', async () => {
    for (const name of [...A, ...B]) files.release(name);
    await waitFor('every job to complete', async () => (await withStatus([...A, ...B], 'completed')).length === 8, 15_000);
    for (const name of [...A, ...B]) {
      expect(await stored(name)).toMatchObject({ status: 'completed', attempt: 1, sha256: fixtureSha256(SIZE, name) });
    }
  }, 20_000);
});
