/**
 * The store's guard: whatever order writes arrive in, from workers, the API or a worker of
 * an earlier run, the stored job never moves backwards. Against a real MongoDB-wire server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { newJob } from '../../lib/server/job-service';
import { JOBS_COLLECTION, JobStore, toStateDocument, type JobDocument } from '../../lib/infra/job-store';
import type { JobView } from '../../lib/domain/job';
import { dropDatabase } from '../utils/cleanup';
import { testMongoUri } from '../utils/services-env';

const uri = testMongoUri(`test_store_${process.pid}`);
let mongo: MongoClient;
let jobs: JobStore;

beforeAll(async () => {
  mongo = await new MongoClient(uri).connect();
  jobs = new JobStore(mongo.db());
});

afterAll(async () => {
  await mongo?.close();
  await dropDatabase(uri);
});

async function storedJob(): Promise<JobView> {
  const job = newJob('http://files.test/a.iso');
  await jobs.insert(job, job.url);
  return job;
}

const progressed = (job: JobView, by: number, bytesReceived: number): JobView => ({
  ...job,
  status: 'active',
  stage: 'downloading',
  bytesReceived,
  version: job.version + by,
});

describe('when writes arrive out of order', () => {
  it('keeps the higher version', async () => {
    const job = await storedJob();
    expect(await jobs.save(progressed(job, 20, 2000))).toBe(true);
    expect(await jobs.save(progressed(job, 10, 1000))).toBe(false);
    expect(await jobs.find(job.id)).toMatchObject({ bytesReceived: 2000, version: job.version + 20 });
  });
});

describe('when the job was cancelled', () => {
  it("refuses the worker's later progress but takes its confirmation", async () => {
    const job = await storedJob();
    const cancelled = await jobs.update(job.id, () => ({ status: 'cancelled', stage: 'done' }));
    expect(cancelled).not.toBeNull();
    const later = cancelled!.version + 5;
    expect(await jobs.save({ ...progressed(job, 0, 3000), version: later })).toBe(false);
    expect(await jobs.save({ ...cancelled!, bytesReceived: 3000, version: later + 1 })).toBe(true);
    expect(await jobs.find(job.id)).toMatchObject({ status: 'cancelled', bytesReceived: 3000 });
  });
});

describe('when the job is retried', () => {
  it('moves it to its next run, where writes of the earlier run no longer land', async () => {
    const job = await storedJob();
    const failed = await jobs.update(job.id, () => ({ status: 'failed', stage: 'done' }));
    const retried = await jobs.update(job.id, (current) => ({ status: 'queued', stage: 'waiting', run: current.run + 1 }), { retry: true });
    expect(retried).toMatchObject({ status: 'queued', run: 2 });
    expect(retried!.version).toBeGreaterThan(failed!.version);
    // A worker of run 1, far ahead in versions, and one of run 2.
    expect(await jobs.save({ ...progressed(job, 0, 500), version: retried!.version + 1000 })).toBe(false);
    expect(await jobs.save({ ...progressed(retried!, 1, 700) })).toBe(true);
    expect(await jobs.find(job.id)).toMatchObject({ run: 2, bytesReceived: 700 });
  });

  it('refuses a retry of a job that has not ended', async () => {
    const job = await storedJob();
    const retried = await jobs.update(job.id, (current) => ({ status: 'queued', run: current.run + 1 }), { retry: true }).catch((err: Error) => err);
    expect(retried).toBeInstanceOf(Error);
    expect(await jobs.find(job.id)).toMatchObject({ run: 1, status: 'queued' });
  });
});

describe('when the states of several jobs are stored in one batch', () => {
  it('guards each one on its own, and says which were stored', async () => {
    const moving = await storedJob();
    const behind = await storedJob();
    expect(await jobs.save(progressed(behind, 20, 2000))).toBe(true);
    const cancelled = await jobs.update((await storedJob()).id, () => ({ status: 'cancelled', stage: 'done' }));
    const failed = await jobs.update((await storedJob()).id, () => ({ status: 'failed', stage: 'done' }));
    const retried = await jobs.update(failed!.id, () => ({ status: 'queued', stage: 'waiting' }), { retry: true });
    const deleted = newJob('http://files.test/gone.iso');

    const outcomes = await jobs.saveMany([
      progressed(moving, 1, 100),
      progressed(behind, 10, 1000), // older than the one stored
      { ...progressed(cancelled!, 0, 3000), version: cancelled!.version + 1 }, // active after the API's cancel
      { ...progressed(failed!, 0, 500), version: retried!.version + 1000 }, // the earlier run
      progressed(deleted, 1, 100),
    ]);

    expect(outcomes).toEqual([true, false, false, false, false].map((value) => ({ status: 'fulfilled', value })));
    expect(await jobs.find(moving.id)).toMatchObject({ status: 'active', bytesReceived: 100 });
    expect(await jobs.find(behind.id)).toMatchObject({ bytesReceived: 2000 });
    expect(await jobs.find(cancelled!.id)).toMatchObject({ status: 'cancelled', version: cancelled!.version });
    expect(await jobs.find(retried!.id)).toMatchObject({ run: 2, status: 'queued', version: retried!.version });
    expect(await jobs.find(deleted.id)).toBeNull();
  });

  it('answers every one at once when all or none were stored', async () => {
    const [a, b] = [await storedJob(), await storedJob()];
    const all = await jobs.saveMany([progressed(a, 5, 10), progressed(b, 5, 20)]);
    expect(all).toEqual([true, true].map((value) => ({ status: 'fulfilled', value })));
    const none = await jobs.saveMany([progressed(a, 4, 30), progressed(b, 5, 40)]);
    expect(none).toEqual([false, false].map((value) => ({ status: 'fulfilled', value })));
    expect(await jobs.find(a.id)).toMatchObject({ bytesReceived: 10 });
    expect(await jobs.find(b.id)).toMatchObject({ bytesReceived: 20 });
  });

  it('fails a state the server cannot write, and answers the others by what is stored', async () => {
    const [before, broken, after] = [await storedJob(), await storedJob(), await storedJob()];
    // A field name the server refuses in an update: this one write fails.
    const unwritable = { ...progressed(broken, 1, 1), ['$unwritable']: 1 } as JobView;
    const outcomes = await jobs.saveMany([progressed(before, 1, 100), unwritable, progressed(after, 1, 300)]);

    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: true });
    expect(outcomes[1].status).toBe('rejected');
    expect(await jobs.find(before.id)).toMatchObject({ bytesReceived: 100 });
    expect(await jobs.find(broken.id)).toMatchObject({ bytesReceived: 0, version: broken.version });
    // A real MongoDB writes the ops after a failed one (unordered); FerretDB stops there. Either
    // way the answer is what is stored.
    const third = await jobs.find(after.id);
    if (third!.version === after.version + 1) expect(outcomes[2]).toEqual({ status: 'fulfilled', value: true });
    else expect(outcomes[2].status).toBe('rejected');
  });
});

describe('when jobs were stored before runs existed', () => {
  it('puts them in their first run, where their worker can still write', async () => {
    const job = newJob('http://files.test/old.iso');
    const { run: _run, ...old } = toStateDocument(job);
    await mongo.db().collection<Omit<JobDocument, 'run'>>(JOBS_COLLECTION).insertOne({ ...old, sourceUrl: job.url });
    await jobs.prepare();
    expect(await jobs.find(job.id)).toMatchObject({ run: 1 });
    expect(await jobs.save(progressed(job, 1, 100))).toBe(true);
  });
});

describe('when finished jobs are old enough for retention', () => {
  const cutoff = Date.parse('2026-01-10T00:00:00Z');

  async function endedAt(status: JobView['status'], finishedAt: number): Promise<string> {
    const job: JobView = { ...newJob('http://files.invalid/old.iso'), status, stage: status === 'active' ? 'downloading' : 'done', finishedAt: new Date(finishedAt).toISOString() };
    await jobs.insert(job, job.url);
    return job.id;
  }

  it('finds those that ended before the cutoff, oldest first, a batch at a time, and no other', async () => {
    const oldest = await endedAt('failed', cutoff - 3000);
    const older = await endedAt('completed', cutoff - 2000);
    const old = await endedAt('cancelled', cutoff - 1000);
    await endedAt('completed', cutoff + 1000);
    // Not finished, whatever its dates say.
    await endedAt('active', cutoff - 5000);
    expect(await jobs.findEndedBefore(new Date(cutoff), 2)).toEqual([oldest, older]);
    expect(await jobs.findEndedBefore(new Date(cutoff), 10)).toEqual([oldest, older, old]);
  });

  it('removes a job only while it still is one that ended before the cutoff', async () => {
    const done = await endedAt('completed', cutoff - 1000);
    expect(await jobs.removeIfEndedBefore(done, new Date(cutoff))).toBe(true);
    expect(await jobs.find(done)).toBeNull();
    expect(await jobs.removeIfEndedBefore(done, new Date(cutoff))).toBe(false);

    const retried = await endedAt('failed', cutoff - 1000);
    await jobs.update(retried, () => ({ status: 'queued', stage: 'waiting', finishedAt: null }), { retry: true });
    expect(await jobs.removeIfEndedBefore(retried, new Date(cutoff))).toBe(false);
    expect(await jobs.find(retried)).toMatchObject({ status: 'queued', run: 2 });
  });
});
