/**
 * Retention: jobs that ended (completed, failed or cancelled) more than RETENTION_DAYS ago
 * are removed, file, queue record and stored record, and their watchers are told
 * `job:deleted`, as if a person had deleted them. Every worker takes part; the maintenance
 * queue's scheduler hands each sweep to one of them (see lib/infra/maintenance-queue).
 */
import type { JobStore } from '../lib/infra/job-store';
import { removeJobFiles } from '../lib/infra/job-files';
import type { Logger } from '../lib/infra/logger';
import {
  createMaintenanceQueue,
  createMaintenanceWorker,
  RETENTION_SWEEP,
  scheduleRetentionSweeps,
  unscheduleRetentionSweeps,
} from '../lib/infra/maintenance-queue';
import { createDownloadQueue, removeQueuedDownload, type DownloadQueue, type QueueSettings } from '../lib/infra/queue';
import type { JobEventPublisher } from '../lib/job-events/port';

/** How many jobs one query of a sweep reads at most; a sweep goes on batch after batch. */
export const SWEEP_BATCH = 500;

export interface SweepDeps {
  jobs: JobStore;
  publisher: JobEventPublisher;
  /** The download queue, whose record of a job may outlive it for a while. */
  downloads: DownloadQueue;
  dataDir: string;
  /** Jobs that ended longer ago than this go. */
  maxAgeMs: number;
  logger: Logger;
}

export interface SweepOptions {
  now?: number;
  batch?: number;
  /** Asked between two jobs: the process is shutting down, the rest waits for the next sweep. */
  shouldStop?: () => boolean;
}

/**
 * Removes every job that ended more than `maxAgeMs` before `now`, `batch` at a time; returns
 * how many went. The stored record goes first, and only if the job is still one that ended
 * before the cutoff: a job retried meanwhile is running again and keeps everything.
 */
export async function sweepExpiredJobs(deps: SweepDeps, { now = Date.now(), batch = SWEEP_BATCH, shouldStop = () => false }: SweepOptions = {}): Promise<number> {
  const { jobs, logger } = deps;
  const endedBefore = new Date(now - deps.maxAgeMs);
  let removed = 0;
  for (;;) {
    const ids = await jobs.findEndedBefore(endedBefore, batch);
    let removedNow = 0;
    for (const id of ids) {
      if (shouldStop()) return removed;
      try {
        if (await removeExpired(deps, id, endedBefore)) removedNow += 1;
      } catch (err) {
        logger.error({ err, jobId: id }, 'could not remove an expired job');
      }
    }
    removed += removedNow;
    // A short batch was the last; one where nothing went would only come back the same.
    if (ids.length < batch || removedNow === 0) break;
  }
  if (removed > 0) logger.info({ removed, endedBefore: endedBefore.toISOString() }, 'retention sweep done');
  else logger.debug({ endedBefore: endedBefore.toISOString() }, 'retention sweep: nothing to remove');
  return removed;
}

async function removeExpired({ jobs, publisher, downloads, dataDir, logger }: SweepDeps, id: string, endedBefore: Date): Promise<boolean> {
  if (!(await jobs.removeIfEndedBefore(id, endedBefore))) return false;
  // From here the job no longer exists for anyone: no retry can bring it back, so what
  // follows cannot take anything from a job that runs again.
  try {
    await removeQueuedDownload(downloads, id);
  } catch (err) {
    // BullMQ drops a finished job's record by itself after a while anyway.
    logger.warn({ err, jobId: id }, 'could not remove the queue record of an expired job');
  }
  await removeJobFiles(dataDir, id);
  publisher.deleted(id);
  logger.info({ jobId: id }, 'expired job removed');
  return true;
}

export interface RetentionSettings extends Omit<SweepDeps, 'downloads'> {
  queue: QueueSettings;
  sweepMs: number;
}

export interface Retention {
  /** Lets a sweep under way stop after its current job, then closes the queues; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Takes part in the sweeps: schedules them (idempotent) and takes them from the maintenance
 * queue. With retention off (`maxAgeMs` 0) it removes the schedule instead and takes nothing.
 */
export async function startRetention({ queue: settings, sweepMs, ...deps }: RetentionSettings): Promise<Retention> {
  const maintenance = createMaintenanceQueue(settings);
  if (deps.maxAgeMs === 0) {
    try {
      await unscheduleRetentionSweeps(maintenance);
    } finally {
      await maintenance.close();
    }
    deps.logger.info('retention off: finished jobs are kept');
    return { close: async () => {} };
  }

  const downloads = createDownloadQueue(settings);
  let stopping = false;
  const worker = createMaintenanceWorker(async (job) => {
    if (job.name === RETENTION_SWEEP) await sweepExpiredJobs({ ...deps, downloads }, { shouldStop: () => stopping });
  }, settings);
  worker.on('error', (err) => deps.logger.error({ err }, 'maintenance worker error'));
  worker.on('failed', (job, err) => deps.logger.error({ err, name: job?.name }, 'maintenance job failed'));

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      stopping = true;
      await worker.close();
      await downloads.close();
      await maintenance.close();
    })());
  try {
    await scheduleRetentionSweeps(maintenance, sweepMs);
  } catch (err) {
    await close();
    throw err;
  }
  deps.logger.info({ maxAgeMs: deps.maxAgeMs, sweepMs }, 'retention on');
  return { close };
}
