/**
 * The submit path's cost, on real Redis and a real MongoDB-wire store: `submitJobs` (what
 * `POST /api/jobs` runs) makes one MongoDB insert and no read, and two Redis round trips (the
 * admission script, then BullMQ's add), whatever the number of URLs; a refusal costs one Redis
 * round trip and writes nothing. And the open-jobs count it keeps in Redis follows the queue.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { AppError } from '../../lib/domain/errors';
import { JobStore } from '../../lib/infra/job-store';
import { createDownloadQueue, createDownloadWorker, forgetQueuedDownloads, removeQueuedDownload, type DownloadQueue } from '../../lib/infra/queue';
import { createRedis } from '../../lib/infra/redis';
import { submitJobs, type SubmitDeps, type Submitter } from '../../lib/server/job-service';
import { deleteRedisPrefix, dropDatabase } from '../utils/cleanup';
import { countRoundTrips, type RoundTripCounter } from '../utils/round-trips';
import { testMongoUri, testRedisUrl } from '../utils/services-env';
import { waitFor } from '../utils/wait-for';

const prefix = `test-submit-${randomUUID().slice(0, 8)}`;
const mongoUri = testMongoUri(`test_submit_${process.pid}`);
let redis: Redis;
let mongo: MongoClient;
let jobs: JobStore;
let queue: DownloadQueue;
let counter: RoundTripCounter;

const QUOTAS = { jobsPerMinute: 1000, jobsPerMinutePerIp: 1000, maxOpenJobs: 1000 };

function deps(quotas: Partial<typeof QUOTAS> = {}): SubmitDeps {
  return {
    jobs,
    queue,
    publisher: { publish: () => undefined, deleted: () => undefined },
    logger: pino({ level: 'silent' }),
    config: { dataDir: tmpdir(), downloadAttempts: 3, retryBackoffMs: 100, redisPrefix: prefix, quotas: { ...QUOTAS, ...quotas } },
  };
}

const submitter = (owner: string): Submitter => ({ owner, address: '127.0.0.1', limited: true });
const urls = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `https://files.invalid/${tag}-${i}.bin`);

/** The AppError `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  redis = createRedis(testRedisUrl());
  mongo = await new MongoClient(mongoUri, { monitorCommands: true }).connect();
  jobs = new JobStore(mongo.db());
  await jobs.prepare();
  queue = createDownloadQueue({ connection: redis, prefix });
  counter = countRoundTrips(redis, mongo);
  // Connections open, scripts loaded: what a server that has taken one job is like.
  await submitJobs(deps(), urls(2, 'warm-up'), submitter('warm-up'));
});

afterAll(async () => {
  counter?.detach();
  await queue?.close();
  redis?.disconnect();
  await mongo?.close();
  await deleteRedisPrefix(testRedisUrl(), prefix);
  await dropDatabase(mongoUri);
});

describe('a submit', () => {
  it.each([1, 3, 100])('of %i URL(s) is one MongoDB insert and two Redis round trips, one after the other', async (n) => {
    counter.start();
    const created = await submitJobs(deps(), urls(n, `batch-${n}`), submitter('alice'));
    const trace = counter.stop();

    // One write, no read: no count of open jobs, no lookup.
    expect(trace.mongo.map((event) => event.commandName)).toEqual(['insert']);
    expect(trace.mongo[0].command.documents).toHaveLength(n);
    // The admission script (limits, open jobs, slot-share notes), then BullMQ's add of every
    // job in one pipeline.
    expect(trace.redis).toEqual(Array(1 + n).fill('evalsha'));
    expect(trace.roundTrips).toEqual({ redis: 2, mongo: 1, total: 3 });

    expect(created).toHaveLength(n);
    for (const job of [created[0], created[n - 1]]) {
      expect(await jobs.find(job.id)).toEqual(job);
      expect(await queue.getJobState(job.id)).toBe('waiting');
    }
  });

  it('that is refused writes nothing and costs one Redis round trip', async () => {
    await submitJobs(deps({ maxOpenJobs: 2 }), urls(1, 'bob-first'), submitter('bob'));
    const before = await mongo.db().collection('jobs').countDocuments();

    counter.start();
    const refused = await refusal(submitJobs(deps({ maxOpenJobs: 2 }), urls(2, 'bob-batch'), submitter('bob')));
    const trace = counter.stop();

    expect(refused).toMatchObject({ code: 'too_many_jobs', retryAfterS: 30 });
    expect(refused.message).toMatch(/You have 1 downloads queued or running: these 2 more would pass the 2/);
    expect(trace).toEqual({ redis: ['evalsha'], mongo: [], roundTrips: { redis: 1, mongo: 0, total: 1 } });
    expect(await mongo.db().collection('jobs').countDocuments()).toBe(before);
    // Counted whole: one more still fits.
    expect(await submitJobs(deps({ maxOpenJobs: 2 }), urls(1, 'bob-second'), submitter('bob'))).toHaveLength(1);
  });

  it('refuses a batch over the per-minute limit whole, with what is left of the minute', async () => {
    const limited = deps({ jobsPerMinute: 5 });
    await submitJobs(limited, urls(3, 'carol-first'), submitter('carol'));
    const refused = await refusal(submitJobs(limited, urls(3, 'carol-batch'), submitter('carol')));
    expect(refused.code).toBe('rate_limited');
    expect(refused.retryAfterS).toBeGreaterThan(50);
    expect(refused.retryAfterS).toBeLessThanOrEqual(60);
  });
});

describe('the open-jobs count', () => {
  it('admits no more than MAX_OPEN_JOBS, even when the submits come at once', async () => {
    const answers = await Promise.allSettled(Array.from({ length: 6 }, (_, n) => submitJobs(deps({ maxOpenJobs: 2 }), urls(1, `erin-${n}`), submitter('erin'))));
    expect(answers.filter((answer) => answer.status === 'fulfilled')).toHaveLength(2);
  });

  it('follows the queue: a job taken out of it, or finished, stops counting at once', async () => {
    const limited = deps({ maxOpenJobs: 3 });
    const dave = submitter('dave');
    const [first] = await submitJobs(limited, urls(3, 'dave-a'), dave);
    expect((await refusal(submitJobs(limited, urls(1, 'dave-b'), dave))).code).toBe('too_many_jobs');

    // Cancelled while it waits: out of the queue, and its note forgotten.
    expect(await removeQueuedDownload(queue, first.id)).toBe(true);
    await forgetQueuedDownloads(queue, [first.id], 'dave');
    await submitJobs(limited, urls(1, 'dave-c'), dave);
    expect((await refusal(submitJobs(limited, urls(1, 'dave-d'), dave))).code).toBe('too_many_jobs');

    // Finished by a worker that keeps no slot-share books: BullMQ's record is what counts.
    const worker = createDownloadWorker(async () => undefined, { connection: redis, prefix, concurrency: 16 });
    try {
      await waitFor('every job to finish', async () => (await queue.getWaitingCount()) + (await queue.getActiveCount()) === 0);
    } finally {
      await worker.close();
    }
    expect(await submitJobs(limited, urls(3, 'dave-e'), dave)).toHaveLength(3);
    // The notes of the finished ones went as they were counted.
    expect(await redis.zcard(`${prefix}:slot-share:jobs:owner=dave`)).toBe(3);
  });
});
