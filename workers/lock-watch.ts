/**
 * Whether each attempt this worker runs may go on, read twice a second in one MGET:
 * - Its lock. BullMQ renews a lock every few seconds and only says afterwards that it could
 *   not; meanwhile the job may have gone to another worker (a lock that expired while this
 *   process stalled, or a Redis that restarted empty and a job the reconciler queued again).
 *   Such an attempt must stop at once and leave the job's files to their new owner: each job
 *   whose lock holds another token, or none, is stopped with HandsOff.
 * - Its cancel record (lib/infra/control cancelRecordKey). The control channel's message stops
 *   an attempt at once, but one sent while this worker's subscription was reconnecting is lost;
 *   the record of a cancel of the attempt's run stops it here instead.
 * While Redis does not answer, nothing is decided.
 */
import type { Redis } from 'ioredis';
import { HandsOff } from '../lib/engine/hands-off';
import type { Logger } from '../lib/infra/logger';
import type { RunningJobs } from './running-jobs';

export const LOCK_CHECK_MS = 500;

export interface LockWatchDeps {
  redis: Redis;
  /** The Redis key of a job's lock (BullMQ's `<prefix>:<queue>:<id>:lock`). */
  lockKey(jobId: string): string;
  /** The Redis key of a job's cancel record. */
  cancelKey(jobId: string): string;
  running: RunningJobs;
  logger: Logger;
  intervalMs?: number;
}

export interface LockWatch {
  /** One check now; resolves with the ids of the jobs it stopped. */
  check(): Promise<string[]>;
  close(): void;
}

export function watchLocks({ redis, lockKey, cancelKey, running, logger, intervalMs = LOCK_CHECK_MS }: LockWatchDeps): LockWatch {
  let checking: Promise<string[]> | undefined;

  const check = () =>
    (checking ??= (async () => {
      const held = running.locked();
      if (held.length === 0) return [];
      const values = await redis.mget(held.flatMap(({ jobId }) => [lockKey(jobId), cancelKey(jobId)]));
      const stopped: string[] = [];
      held.forEach(({ jobId, token, run }, i) => {
        const [lock, cancelledRun] = [values[2 * i], values[2 * i + 1]];
        if (lock !== token) {
          logger.warn({ jobId }, "this worker no longer holds the job's lock; stopping its attempt");
          running.cancel(jobId, new HandsOff('Another attempt took this download over.'));
        } else if (run !== undefined && cancelledRun === String(run)) {
          logger.info({ jobId }, 'cancel recorded: stopping');
          running.cancel(jobId);
        } else return;
        stopped.push(jobId);
      });
      return stopped;
    })().finally(() => (checking = undefined)));

  const timer = setInterval(() => {
    // One check at a time: while Redis is out of reach the one under way waits for it.
    if (!checking) check().catch((err: unknown) => logger.debug({ err }, 'could not check job locks'));
  }, intervalMs);
  timer.unref();
  return { check, close: () => clearInterval(timer) };
}
