/**
 * A job that BullMQ fails by itself (its workers died more often than allowed) is ended in
 * the store, its room is told, and the partial file it left goes. Against a real
 * MongoDB-wire server; the queue's job is the shape BullMQ hands to the `failed` event.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { failAbandoned } from '../../workers/abandoned';
import { jobDirectory } from '../../lib/infra/job-files';
import type { QueuedDownload } from '../../lib/infra/queue';
import { newJob } from '../../lib/server/job-service';
import { JobStore } from '../../lib/infra/job-store';
import type { JobView } from '../../lib/domain/job';
import { createLogger } from '../../lib/infra/logger';
import { dropDatabase } from '../utils/cleanup';
import { testMongoUri } from '../utils/services-env';

const uri = testMongoUri(`test_abandoned_${process.pid}`);
let mongo: MongoClient;
let jobs: JobStore;
let dataDir: string;
const published: JobView[] = [];

beforeAll(async () => {
  mongo = await new MongoClient(uri).connect();
  jobs = new JobStore(mongo.db());
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'abandoned-'));
});

afterAll(async () => {
  await mongo?.close();
  await dropDatabase(uri);
  await rm(dataDir, { recursive: true, force: true });
});

const deps = () => ({ jobs, dataDir, logger: createLogger('test', 'silent'), publisher: { publish: (j: JobView) => void published.push(j), deleted: () => undefined } });
const queuedFor = (jobId: string, finishedOn?: number) => ({ data: { jobId }, finishedOn }) as unknown as QueuedDownload;

async function activeJobWithPartial(): Promise<JobView> {
  const job = { ...newJob('http://files.test/a.iso', { maxAttempts: 5 }), status: 'active' as const, stage: 'downloading' as const, bytesReceived: 1000 };
  await jobs.insert(job, job.url);
  await mkdir(jobDirectory(dataDir, job.id), { recursive: true });
  await writeFile(path.join(jobDirectory(dataDir, job.id), 'a.iso.part'), Buffer.alloc(1000));
  return job;
}

describe('when the queue fails a job whose workers kept dying', () => {
  it('stores it as failed with code interrupted, tells its room, and removes the partial file', async () => {
    const job = await activeJobWithPartial();
    await failAbandoned(deps(), queuedFor(job.id, Date.now()), new Error('job stalled more than allowable limit'));
    const stored = await jobs.find(job.id);
    expect(stored).toMatchObject({ status: 'failed', stage: 'done', error: { code: 'interrupted' } });
    expect(published.at(-1)).toEqual(stored);
    expect(existsSync(jobDirectory(dataDir, job.id))).toBe(false);
  });

  it('leaves a job alone when only an attempt failed (BullMQ will run the next)', async () => {
    const job = await activeJobWithPartial();
    await failAbandoned(deps(), queuedFor(job.id), new Error('503'));
    expect((await jobs.find(job.id))?.status).toBe('active');
    expect(existsSync(jobDirectory(dataDir, job.id))).toBe(true);
  });
});
