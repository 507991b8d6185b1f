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
import { enqueueDownload, enqueueNotedDownloads, forgetQueuedDownloads, retryPolicyOf, type DownloadQueue } from '../infra/queue';
import { nextVersion } from '../domain/job-state';
import type { JobStore } from '../infra/job-store';
import type { JobView } from '../domain/job';
import { publicUrl, withoutQuery } from '../util/redact-url';
import type { Caller } from './identity';
import { admitJobs, type AdmissionSettings } from './job-admission';

export interface JobServiceDeps {
  jobs: JobStore;
  queue: DownloadQueue;
  publisher: JobEventPublisher;
  control: ControlPublisher;
  live: LiveStates;
  logger: Logger;
  config: Pick<Config, 'dataDir' | 'downloadAttempts' | 'retryBackoffMs'> & AdmissionSettings;
}

/** What submitting jobs uses. */
export type SubmitDeps = Pick<JobServiceDeps, 'jobs' | 'queue' | 'publisher' | 'logger' | 'config'>;

/** Who submits new jobs. */
export interface Submitter {
  owner: string | null;
  /** The client's address, for the per-address limit. */
  address: string;
  /** False for the access token's holder, whose jobs are not limited. */
  limited: boolean;
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

const QUEUE_UNAVAILABLE = 'The download queue is unavailable. Try again in a moment.';

/**
 * One new job per URL, all or none: admitted, stored, then queued. Whatever the number of URLs
 * that is three round trips, each waiting for the one before:
 * 1. one Redis script (./job-admission): the limits, the open-jobs count, the slot-share
 *    notes. It goes first so that a refused submit writes nothing to the store: running it
 *    beside the insert would make every refusal (a flood, say) cost a write and a removal.
 * 2. one MongoDB `insert` of every job. It goes before the queue add, because a worker that
 *    takes a job it cannot read skips it as deleted.
 * 3. one BullMQ `addBulk` (one pipeline). If the queue cannot take them the stored jobs are
 *    marked failed, so nobody watches a job that no worker will ever see.
 */
export async function submitJobs(deps: SubmitDeps, urls: readonly string[], submitter: Submitter): Promise<JobView[]> {
  const { owner } = submitter;
  if (urls.length === 0) return [];
  const jobs = urls.map((url) => newJob(url, { maxAttempts: deps.config.downloadAttempts }));
  const ids = jobs.map((job) => job.id);
  await admitJobs(deps.queue, deps.config, { jobIds: ids, ...submitter });
  try {
    await deps.jobs.insertMany(
      jobs.map((job, n) => ({ job, sourceUrl: urls[n] })),
      owner,
    );
  } catch (err) {
    // Not stored, so not queued: their notes would count as open jobs for a minute.
    await forgetNotes(deps, ids, owner);
    throw err;
  }
  try {
    await enqueueNotedDownloads(deps.queue, ids, retryPolicyOf(deps.config), owner);
  } catch (cause) {
    await forgetNotes(deps, ids, owner);
    return failUnqueued(deps, jobs, cause);
  }
  return jobs;
}

/** Queues the stored job; if that fails, stores it as failed, tells its room and throws 503. */
export async function enqueueOrFail(deps: JobServiceDeps, job: JobView, owner: string | null): Promise<void> {
  try {
    await enqueueDownload(deps.queue, job.id, retryPolicyOf(deps.config), owner);
  } catch (cause) {
    await failUnqueued(deps, [job], cause);
  }
}

/** Stores the jobs the queue did not take as failed, tells their rooms and throws 503. */
async function failUnqueued(deps: SubmitDeps, jobs: readonly JobView[], cause: unknown): Promise<never> {
  deps.logger.error({ err: cause, jobIds: jobs.map((job) => job.id) }, 'could not enqueue jobs');
  await Promise.all(
    jobs.map(async (job) => {
      const failed = await deps.jobs.update(job.id, () => ({
        status: 'failed',
        stage: 'done',
        error: { code: 'unavailable', message: QUEUE_UNAVAILABLE },
        finishedAt: new Date().toISOString(),
      }));
      if (failed) deps.publisher.publish(failed);
    }),
  );
  throw new AppError('unavailable', QUEUE_UNAVAILABLE, { cause });
}

/** Drops the slot-share notes of jobs that will not run; a failure only leaves them a minute longer. */
async function forgetNotes(deps: Pick<JobServiceDeps, 'queue' | 'logger'>, ids: readonly string[], owner: string | null): Promise<void> {
  await forgetQueuedDownloads(deps.queue, ids, owner).catch((err: unknown) => {
    // The open-jobs count drops them itself once they are a minute old (./job-admission).
    deps.logger.warn({ err, jobIds: ids }, 'could not forget the notes of jobs that were not queued');
  });
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
