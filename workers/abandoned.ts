/**
 * Jobs that BullMQ fails without running the processor: one whose workers died more often
 * than MAX_STALLED_COUNT allows. The store still says `active`; this ends it as `failed`.
 */
import { jobError } from '../lib/domain/errors';
import type { Logger } from '../lib/infra/logger';
import { removeJobFiles } from '../lib/infra/job-files';
import type { JobEventPublisher } from '../lib/job-events/port';
import type { QueuedDownload } from '../lib/infra/queue';
import { isFinished } from '../lib/domain/job-state';
import type { JobStore } from '../lib/infra/job-store';

export interface AbandonedDeps {
  jobs: JobStore;
  dataDir: string;
  publisher: JobEventPublisher;
  logger: Logger;
}

/**
 * For BullMQ's `failed` event. A job the processor failed is already stored as finished, and
 * one that only failed an attempt is not finished in BullMQ (no `finishedOn`): both are left.
 */
export async function failAbandoned(deps: AbandonedDeps, queued: QueuedDownload | undefined, reason: Error): Promise<void> {
  if (!queued?.finishedOn) return;
  const jobId = queued.data.jobId;
  const failed = await deps.jobs.update(jobId, (current) =>
    isFinished(current.status)
      ? null
      : {
          status: 'failed',
          stage: 'done',
          speed: 0,
          eta: null,
          retryAt: null,
          error: jobError('interrupted'),
          finishedAt: new Date().toISOString(),
        },
  );
  if (!failed) return;
  // No attempt will continue the partial file now.
  await removeJobFiles(deps.dataDir, jobId);
  deps.logger.warn({ jobId, reason: reason.message }, 'job failed by the queue');
  deps.publisher.publish(failed);
}
