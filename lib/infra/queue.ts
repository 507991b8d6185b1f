/**
 * Every BullMQ call: the queue's name, its typed payload, how a job is enqueued, retried and
 * removed, and how a worker is built. The payload carries only the id: MongoDB holds the job.
 */
import { Backoffs, Queue, Worker, type ConnectionOptions, type Job, type JobsOptions, type Processor } from 'bullmq';
import { forgetQueuedJobs, noteQueuedJob } from './slot-share-keys';

export const DOWNLOAD_QUEUE = 'downloads';

export interface DownloadJobData {
  jobId: string;
  /** Whose job it is (null for none), so workers can share their slots out among owners. */
  owner?: string | null;
}

export type DownloadQueue = Queue<DownloadJobData, void, 'download'>;
export type DownloadProcessor = Processor<DownloadJobData, void, 'download'>;
export type QueuedDownload = Job<DownloadJobData, void, 'download'>;
export type DownloadWorker = Worker<DownloadJobData, void, 'download'>;

export interface QueueSettings {
  connection: ConnectionOptions;
  prefix: string;
}

/** How often a failure that may pass is tried again, and how long to wait before the first retry. */
export interface RetryPolicy {
  attempts: number;
  /** Doubles for every further retry. */
  backoffMs: number;
}

/** The retry policy the settings ask for. */
export function retryPolicyOf(config: { downloadAttempts: number; retryBackoffMs: number }): RetryPolicy {
  return { attempts: config.downloadAttempts, backoffMs: config.retryBackoffMs };
}

/**
 * How a worker that dies (killed, machine lost) hands its downloads on: it renews its lock on
 * each job every LOCK_DURATION_MS / 2; once a lock has expired, the next stalled-job check of
 * any live worker (every STALLED_INTERVAL_MS) puts the job back in the queue, and the worker
 * that takes it resumes from the partial file. So a download stands still for about 10–15 s.
 * A shorter lock would risk taking a job from a worker that is only busy for a moment.
 * BullMQ's defaults (30 s and 30 s) would leave it for up to a minute.
 */
export const LOCK_DURATION_MS = 10_000;
export const STALLED_INTERVAL_MS = 5_000;
/**
 * How many times a job may be handed on that way before it fails. One is BullMQ's default;
 * a worker stopped with a download still running beyond the shutdown grace period counts too,
 * so a rolling restart of three workers must not fail the job.
 */
export const MAX_STALLED_COUNT = 3;

export function createDownloadQueue({ connection, prefix }: QueueSettings): DownloadQueue {
  return new Queue<DownloadJobData, void, 'download'>(DOWNLOAD_QUEUE, { connection, prefix });
}

/** Every download is queued with these: under the job's own id, so queueing twice never downloads twice. */
function downloadJobOptions(jobId: string, retry: RetryPolicy): JobsOptions {
  return {
    jobId,
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: { age: 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Enqueues under the job's own id, so enqueueing twice never downloads twice. */
export async function enqueueDownload(queue: DownloadQueue, jobId: string, retry: RetryPolicy, owner: string | null = null): Promise<void> {
  // Noted first: a note whose job never got queued is dropped when a worker reads it.
  await noteQueuedJob(await queue.getBackend().client, queue.opts.prefix ?? 'bull', jobId, owner);
  await queue.add('download', { jobId, owner }, downloadJobOptions(jobId, retry));
}

/**
 * Enqueues new jobs of one owner in one round trip (BullMQ's `addBulk`, one pipeline, or `add`
 * for a single job), with `enqueueDownload`'s options. Their slot-share notes must be written
 * already: the API writes them in its admission script (lib/server/job-admission.ts).
 */
export async function enqueueNotedDownloads(queue: DownloadQueue, jobIds: readonly string[], retry: RetryPolicy, owner: string | null): Promise<void> {
  // One job without a pipeline: ioredis copies every script BullMQ defines onto each new
  // pipeline, which cost more CPU than the add itself.
  if (jobIds.length === 1) return void (await queue.add('download', { jobId: jobIds[0], owner }, downloadJobOptions(jobIds[0], retry)));
  await queue.addBulk(jobIds.map((jobId) => ({ name: 'download' as const, data: { jobId, owner }, opts: downloadJobOptions(jobId, retry) })));
}

/** Drops the slot-share notes of jobs that will not run (see `forgetQueuedJobs`). */
export async function forgetQueuedDownloads(queue: DownloadQueue, jobIds: readonly string[], owner: string | null): Promise<void> {
  await forgetQueuedJobs(await queue.getBackend().client, queue.opts.prefix ?? 'bull', jobIds, owner);
}

/**
 * Removes the job's BullMQ record, waiting or delayed, so no worker takes it. Returns false if
 * a worker holds it (its lock is alive): then only that worker can stop it.
 */
export async function removeQueuedDownload(queue: DownloadQueue, jobId: string): Promise<boolean> {
  return (await queue.remove(jobId)) === 1;
}

/** The attempt a worker is running now, 1-based, and how many there may be. */
export function attemptOf(queued: QueuedDownload): { attempt: number; maxAttempts: number } {
  return { attempt: queued.attemptsMade + 1, maxAttempts: Math.max(1, queued.opts.attempts ?? 1) };
}

/** How long BullMQ will wait before the next attempt after this one fails with `error`. */
export async function nextAttemptDelayMs(queued: QueuedDownload, error: Error): Promise<number> {
  const backoff = queued.opts.backoff === undefined ? undefined : Backoffs.normalize(queued.opts.backoff);
  if (!backoff) return 0;
  // The same call, with the same count, that BullMQ makes when the processor throws.
  const delay = await Backoffs.calculate(backoff, queued.attemptsMade + 1, error, queued);
  return typeof delay === 'number' && delay > 0 ? delay : 0;
}

export function createDownloadWorker(
  processor: DownloadProcessor,
  settings: QueueSettings & { concurrency: number },
): DownloadWorker {
  return new Worker<DownloadJobData, void, 'download'>(DOWNLOAD_QUEUE, processor, {
    connection: settings.connection,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    lockDuration: LOCK_DURATION_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
  });
}
