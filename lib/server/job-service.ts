/**
 * What the API does with jobs, independent of HTTP: the route handlers and tests call these.
 * Cancelling, retrying and deleting are in ./actions.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../infra/config';
import { AppError, notFound } from '../domain/errors';
import type { Logger } from '../infra/logger';
import type { LiveStates } from '../job-events/live-state';
import type { JobEventPublisher } from '../job-events/port';
import { isJobId } from '../domain/job-input';
import type { ControlPublisher } from '../infra/control';
import { enqueueDownload, type DownloadQueue, type RetryPolicy } from '../infra/queue';
import { nextVersion } from '../domain/job-state';
import type { JobStore } from '../infra/job-store';
import type { JobView } from '../domain/job';
import { publicUrl } from '../util/redact-url';

export interface JobServiceDeps {
  jobs: JobStore;
  queue: DownloadQueue;
  publisher: JobEventPublisher;
  control: ControlPublisher;
  live: LiveStates;
  logger: Logger;
  config: Pick<Config, 'dataDir' | 'downloadAttempts' | 'retryBackoffMs'>;
}

export interface NewJobOptions {
  maxAttempts?: number;
  now?: Date;
}

/** The state of a job no worker has started yet: a new one, or a failed or cancelled one run again. */
export function notStarted(maxAttempts: number) {
  return {
    status: 'queued',
    stage: 'waiting',
    progress: 0,
    bytesReceived: 0,
    bytesTotal: null,
    speed: 0,
    eta: null,
    sha256: null,
    error: null,
    attempt: 1,
    maxAttempts,
    retryAt: null,
    notice: null,
    finishedAt: null,
  } satisfies Partial<JobView>;
}

/** A queued job for `url`; its public `url` never carries the credentials `url` may hold. */
export function newJob(url: string, { maxAttempts = 1, now = new Date() }: NewJobOptions = {}): JobView {
  const at = now.toISOString();
  return {
    id: randomUUID(),
    url: publicUrl(url),
    ...notStarted(maxAttempts),
    fileName: null,
    run: 1,
    version: nextVersion(0, now.getTime()),
    createdAt: at,
    updatedAt: at,
  };
}

export function retryPolicy(config: JobServiceDeps['config']): RetryPolicy {
  return { attempts: config.downloadAttempts, backoffMs: config.retryBackoffMs };
}

const QUEUE_UNAVAILABLE = 'The download queue is unavailable. Try again in a moment.';

/**
 * Stores the job, then queues it. If the queue cannot take it the stored job is marked failed,
 * so nobody watches a job that no worker will ever see.
 */
export async function createJob(deps: JobServiceDeps, url: string, owner: string | null = null): Promise<JobView> {
  const job = newJob(url, { maxAttempts: deps.config.downloadAttempts });
  await deps.jobs.insert(job, url, owner);
  await enqueueOrFail(deps, job, owner);
  return job;
}

/** Queues the stored job; if that fails, stores it as failed, tells its room and throws 503. */
export async function enqueueOrFail(deps: JobServiceDeps, job: JobView, owner: string | null): Promise<void> {
  try {
    await enqueueDownload(deps.queue, job.id, retryPolicy(deps.config), owner);
  } catch (cause) {
    deps.logger.error({ err: cause, jobId: job.id }, 'could not enqueue job');
    const failed = await deps.jobs.update(job.id, () => ({
      status: 'failed',
      stage: 'done',
      error: { code: 'unavailable', message: QUEUE_UNAVAILABLE },
      finishedAt: new Date().toISOString(),
    }));
    if (failed) deps.publisher.publish(failed);
    throw new AppError('unavailable', QUEUE_UNAVAILABLE, { cause });
  }
}

/**
 * The job as its tabs see it now (the stored state, or the newer one last sent to its room),
 * or a not_found AppError for an unknown or malformed id.
 */
export async function getJob({ jobs, live }: Pick<JobServiceDeps, 'jobs' | 'live'>, id: string): Promise<JobView> {
  const job = isJobId(id) ? await jobs.find(id) : null;
  if (!job) throw notFound();
  return live.newest(job);
}
