/**
 * Cancel, retry and delete: what a person may do to a job after submitting it. Each one
 * stores the new state first (the store is the truth every worker checks), then tells the
 * job's room, then the workers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, conflict, notFound } from '../domain/errors';
import { removeJobFiles } from '../infra/job-files';
import { forgetQueuedDownloads, removeQueuedDownload } from '../infra/queue';
import { enqueueOrFail, getJob, notStarted, type JobServiceDeps } from './job-service';
import { canRetry, isFinished } from '../domain/job-state';
import type { JobView } from '../domain/job';

/** How long a retry waits for the worker that held the job to let go of it. */
const RELEASE_WAIT_MS = 3_000;
const RELEASE_POLL_MS = 100;

const ended = (job: JobView) => conflict(`This download has already ended (${job.status}).`);

/**
 * Cancels a queued or active job: stored as `cancelled` at once, whoever runs it. A queued
 * job is taken out of the queue; the worker running an active one gets the request on the
 * control channel and stops within moments. 409 `conflict` if the job has already ended.
 * `owner` is the job's (see `assertMayControl`).
 */
export async function cancelJob(deps: JobServiceDeps, id: string, owner: string | null): Promise<JobView> {
  const job = await getJob(deps, id);
  if (isFinished(job.status)) throw ended(job);
  // Stored first: a worker that takes the job from now on reads `cancelled` and skips it, and
  // one that runs it refuses to overwrite it (the store keeps finished states).
  const cancelled = await deps.jobs.update(id, (current) => {
    if (isFinished(current.status)) throw ended(current);
    // The bytes as the tabs were last shown them: the store keeps only a checkpoint of a
    // running job's progress (up to 10 s old), which would make the card jump back.
    const shown = job.run === current.run ? { bytesReceived: job.bytesReceived, bytesTotal: job.bytesTotal, progress: job.progress, fileName: job.fileName } : {};
    return { ...shown, status: 'cancelled', stage: 'done', speed: 0, eta: null, retryAt: null, finishedAt: new Date().toISOString() };
  });
  if (!cancelled) throw notFound();
  deps.publisher.publish(cancelled);
  // Waiting or delayed (between attempts): gone from the queue. Held by a worker: it stops
  // when it gets the request below, removes the partial file and confirms `cancelled`.
  const removed = await removeQueuedDownload(deps.queue, id);
  // Between attempts, a partial file may be kept for the next one, which will not come now.
  // Its slot-share note goes too, so it stops counting among its owner's open jobs at once.
  if (removed) await Promise.all([removeJobFiles(deps.config.dataDir, id), forgetNote(deps, id, owner)]);
  else await deps.control.send({ type: 'cancel', jobId: id, run: cancelled.run });
  deps.logger.info({ jobId: id, wasActive: !removed }, 'job cancelled');
  return cancelled;
}

/** Drops the slot-share note of a job taken out of the queue; one left behind goes within a minute. */
async function forgetNote(deps: JobServiceDeps, id: string, owner: string | null): Promise<void> {
  await forgetQueuedDownloads(deps.queue, [id], owner).catch((err: unknown) => {
    deps.logger.warn({ err, jobId: id }, 'could not forget the slot-share note of a cancelled job');
  });
}

/**
 * Runs a failed or cancelled job again under the same id, from the start: progress and error
 * reset, status `queued`, the next run (see `JobStore.update`), a new BullMQ job. 409 `conflict`
 * for any other status, or while the worker that ran it has not let go of it yet. `owner` is the
 * job's (see `assertMayControl`), carried into its queue payload.
 */
export async function retryJob(deps: JobServiceDeps, id: string, owner: string | null): Promise<JobView> {
  const job = await getJob(deps, id);
  if (!canRetry(job.status)) throw conflict(`Only a failed or cancelled download can be retried; this one is ${job.status}.`);
  // BullMQ adds no job under an id it still holds: the old record goes first.
  if (!(await waitForRelease(deps, id))) {
    throw conflict('The download is still stopping. Try again in a moment.');
  }
  const queued = await deps.jobs.update(
    id,
    (current) => {
      if (!canRetry(current.status)) throw conflict(`Only a failed or cancelled download can be retried; this one is ${current.status}.`);
      return notStarted(deps.config.downloadAttempts);
    },
    { retry: true },
  );
  if (!queued) throw notFound();
  await enqueueOrFail(deps, queued, owner);
  deps.publisher.publish(queued);
  deps.logger.info({ jobId: id }, 'job queued again');
  return queued;
}

/** Removes the job's BullMQ record, giving a worker that is stopping it a moment to let go. */
async function waitForRelease(deps: JobServiceDeps, id: string): Promise<boolean> {
  for (let waited = 0; ; waited += RELEASE_POLL_MS) {
    if (await removeQueuedDownload(deps.queue, id)) return true;
    if (waited >= RELEASE_WAIT_MS) return false;
    await sleep(RELEASE_POLL_MS);
  }
}

/**
 * Deletes the job: cancels it if it is still running, removes its folder (file or partial
 * file) and its record, and tells its room `job:deleted`. 404 for an unknown id. `owner` is
 * the job's (see `assertMayControl`).
 */
export async function deleteJob(deps: JobServiceDeps, id: string, owner: string | null): Promise<void> {
  const job = await getJob(deps, id);
  if (!isFinished(job.status)) await cancelIfRunning(deps, id, owner);
  // A finished job's record may linger in BullMQ (kept for a while after it ends).
  await removeQueuedDownload(deps.queue, id);
  await removeJobFiles(deps.config.dataDir, id);
  await deps.jobs.remove(id);
  deps.publisher.deleted(id);
  deps.logger.info({ jobId: id }, 'job deleted');
}

async function cancelIfRunning(deps: JobServiceDeps, id: string, owner: string | null): Promise<void> {
  try {
    await cancelJob(deps, id, owner);
  } catch (err) {
    // It ended on its own meanwhile: nothing left to stop, and the deletion goes on.
    if (!(err instanceof AppError && err.code === 'conflict')) throw err;
  }
}
