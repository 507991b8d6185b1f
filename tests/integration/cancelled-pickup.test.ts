/**
 * A worker that takes a job from the queue which has already ended. It happens when a cancel
 * lands while a worker still holds the job's lock between two attempts: the API stores
 * `cancelled` but cannot take the job out of the queue, so a worker takes it up when its
 * backoff ends. Here that state is set up directly (the job queued through the API, then
 * stored as ended with its files on disk, no worker running yet), and then a worker starts.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { jobDirectory } from '../../lib/infra/job-files';
import { JobStore } from '../../lib/infra/job-store';
import type { JobPatch, JobView } from '../../lib/domain/job';
import { startWorker } from '../utils/app-processes';
import { hasLogged } from '../utils/log-lines';
import { api, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const SKIPPED = 'job cancelled or gone; skipping';

const ctx = useWatchingApp({ workers: 0, env: { DOWNLOAD_ATTEMPTS: '3' } });
let mongo: MongoClient;
let cancelled: JobView;
let completed: JobView;

beforeAll(async () => {
  mongo = await new MongoClient(String(ctx.app.settings.env.MONGODB_URI)).connect();
  const jobs = new JobStore(mongo.db());
  // A first attempt cut off mid-body, waiting for the second, then cancelled. It leaves what the
  // next attempt would continue from: the bytes, and the note on how to continue them.
  const retryAt = new Date(Date.now() + 60_000).toISOString();
  cancelled = await endedJob(
    jobs,
    '/file/4096?seed=cancelled-between',
    [DOWNLOADING, { status: 'queued', stage: 'retrying', attempt: 2, retryAt }, { status: 'cancelled', stage: 'done', retryAt: null, finishedAt: retryAt }],
    { 'file.bin.part': Buffer.alloc(1024), '.partial.json': JSON.stringify({ fileName: 'file.bin', validator: '"v1"', bytesTotal: 4096 }) },
  );
  // Stored as completed by a worker that died before the queue heard of it.
  completed = await endedJob(
    jobs,
    '/file/16?seed=completed-twice',
    [DOWNLOADING, { status: 'completed', stage: 'done', progress: 100, bytesReceived: 16, finishedAt: retryAt }],
    { 'file.bin': Buffer.alloc(16) },
  );
  const worker = await startWorker(ctx.app.settings.env);
  ctx.app.workers.push(worker);
  await waitFor('the worker to take both jobs', () => [cancelled, completed].every((job) => hasLogged(worker.output(), SKIPPED, job.id)), 15_000);
}, 60_000);

afterAll(() => mongo?.close());

const DOWNLOADING: JobPatch = { status: 'active', stage: 'downloading', fileName: 'file.bin', bytesTotal: 4096, bytesReceived: 1024 };

/** A job queued through the API, taken through `states` as a worker and the API would, with `files` in its folder. */
async function endedJob(jobs: JobStore, fixturePath: string, states: JobPatch[], files: Record<string, Buffer | string>): Promise<JobView> {
  const { status, body } = await postJob(ctx.app.server.url, `${ctx.files.url}${fixturePath}`);
  if (status !== 201) throw new Error(`the server refused the job: ${status} ${JSON.stringify(body)}`);
  const directory = jobDirectory(ctx.app.settings.dataDir, body.id);
  await mkdir(directory, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(directory, name), content);
  let stored: JobView | null = null;
  for (const state of states) {
    stored = await jobs.update(body.id, () => state);
    if (!stored) throw new Error(`job ${body.id} could not be stored as ${state.status}`);
  }
  return stored!;
}

describe('when a worker takes a job that was cancelled between attempts', () => {
  it('removes the partial file kept for the attempt that will not come', () => {
    expect(existsSync(jobDirectory(ctx.app.settings.dataDir, cancelled.id))).toBe(false);
  });

  it('leaves it cancelled, and does not download', async () => {
    expect((await api(ctx.app.server.url, `/api/jobs/${cancelled.id}`)).body).toMatchObject({ status: 'cancelled', version: cancelled.version });
    expect(ctx.files.requests.filter((r) => r.path.includes('cancelled-between'))).toEqual([]);
  });
});

describe('when a worker takes a job that has already completed', () => {
  it('keeps its file', () => {
    expect(existsSync(path.join(jobDirectory(ctx.app.settings.dataDir, completed.id), 'file.bin'))).toBe(true);
  });

  it('leaves it completed, and does not download again', async () => {
    expect((await api(ctx.app.server.url, `/api/jobs/${completed.id}`)).body).toMatchObject({ status: 'completed', version: completed.version });
    expect(ctx.files.connections).toBe(0);
  });
});
