/**
 * The small BullMQ queue of housekeeping that one worker, whichever, runs per period: the
 * retention sweep. A job scheduler makes its jobs, one per period however many workers there
 * are; every worker upserts the same scheduler on start (the same id and period change
 * nothing), and whichever worker is free takes each job.
 */
import { Queue, Worker, type Job, type Processor } from 'bullmq';
import type { QueueSettings } from './queue';

export const MAINTENANCE_QUEUE = 'maintenance';

/** The one job scheduler of the retention sweep, and the name of the jobs it makes. */
export const RETENTION_SWEEP = 'retention-sweep';

export type MaintenanceJobName = typeof RETENTION_SWEEP;
export type MaintenanceQueue = Queue<Record<string, never>, void, MaintenanceJobName>;
export type MaintenanceJob = Job<Record<string, never>, void, MaintenanceJobName>;
export type MaintenanceWorker = Worker<Record<string, never>, void, MaintenanceJobName>;

export function createMaintenanceQueue({ connection, prefix }: QueueSettings): MaintenanceQueue {
  return new Queue<Record<string, never>, void, MaintenanceJobName>(MAINTENANCE_QUEUE, { connection, prefix });
}

/**
 * Runs the retention sweep every `everyMs`, the first one now; safe to call from every worker
 * on every start: the scheduler exists once, and its next run stays where it was.
 */
export async function scheduleRetentionSweeps(queue: MaintenanceQueue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    RETENTION_SWEEP,
    { every: everyMs },
    // A sweep that fails is simply the next one's work: no retry, and only a few kept to look at.
    { name: RETENTION_SWEEP, data: {}, opts: { removeOnComplete: true, removeOnFail: { count: 20 } } },
  );
}

/** Stops the sweeps (retention turned off); fine if there were none. */
export async function unscheduleRetentionSweeps(queue: MaintenanceQueue): Promise<void> {
  await queue.removeJobScheduler(RETENTION_SWEEP);
}

/** One sweep at a time per worker process; the scheduler makes one job per period anyway. */
export function createMaintenanceWorker(
  processor: Processor<Record<string, never>, void, MaintenanceJobName>,
  { connection, prefix }: QueueSettings,
): MaintenanceWorker {
  return new Worker<Record<string, never>, void, MaintenanceJobName>(MAINTENANCE_QUEUE, processor, { connection, prefix, concurrency: 1 });
}
