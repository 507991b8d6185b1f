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
import { publicUrl, withoutQuery } from '../util/redact-url';
import type { Caller } from './identity';

export interface JobServiceDeps {
  jobs: JobStore;
  queue: DownloadQueue;
  publisher: JobEventPublisher;
  control: ControlPublisher;
  live: LiveStates;
  logger: Logger;
  config: Pick<Config, 'dataDir' | 'downloadAttempts' | 'retryBackoffMs'> & { quotas: Pick<Config['quotas'], 'maxOpenJobs'> };
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

/** Whether `caller` may cancel, retry or delete a job of `owner`: its owner, or the token's holder. */
export function mayControl(caller: Caller, owner: string | null): boolean {
  return caller.admin || (owner !== null && owner === caller.owner);
}

/** The job as `caller` may see it: `canControl` set, and the query hidden from all but its owner. */
export function viewFor(job: JobView, caller: Caller, owner: string | null): JobView {
  const canControl = mayControl(caller, owner);
  return { ...job, url: owner !== null && owner === caller.owner ? job.url : withoutQuery(job.url), canControl };
}

/** `getJob`, as `caller` may see it. */
export async function viewJob(deps: Pick<JobServiceDeps, 'jobs' | 'live'>, id: string, caller: Caller): Promise<JobView> {
  const found = isJobId(id) ? await deps.jobs.findOwned(id) : null;
  if (!found) throw notFound();
  // The stored URL: states sent to the room (and kept live) carry it without its query.
  return viewFor({ ...(await deps.live.newest(found.job)), url: found.job.url }, caller, found.owner);
}

/**
 * Refuses with `not_owner` unless `caller` may control the job (`not_found` for no job);
 * returns the job's owner.
 */
export async function assertMayControl(deps: Pick<JobServiceDeps, 'jobs'>, id: string, caller: Caller): Promise<string | null> {
  const owner = isJobId(id) ? await deps.jobs.ownerOf(id) : undefined;
  if (owner === undefined) throw notFound();
  if (!mayControl(caller, owner)) throw new AppError('not_owner');
  return owner;
}

/** How long an owner at `MAX_OPEN_JOBS` is told to wait: about as long as a download slot takes to free. */
const OPEN_JOBS_RETRY_AFTER_S = 30;

/** Refuses with `too_many_jobs` when the owner already has `MAX_OPEN_JOBS` jobs queued or active. */
export async function assertMayOpenJob(deps: Pick<JobServiceDeps, 'jobs' | 'config'>, owner: string | null): Promise<void> {
  const max = deps.config.quotas.maxOpenJobs;
  if (max === 0 || owner === null) return;
  if ((await deps.jobs.countOpen(owner)) >= max) {
    throw new AppError('too_many_jobs', `You have ${max} downloads queued or running, the most this server allows. Wait for some of them to finish.`, {
      retryAfterS: OPEN_JOBS_RETRY_AFTER_S,
    });
  }
}
