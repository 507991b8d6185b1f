/**
 * Whether this worker still holds the lock of each job it runs. BullMQ renews a lock every few
 * seconds and only says afterwards that it could not; meanwhile the job may have gone to
 * another worker (a lock that expired while this process stalled, or a Redis that restarted
 * empty and a job the reconciler queued again). An attempt in that state must stop at once and
 * leave the job's files to their new owner: twice a second, one MGET reads every lock this
 * worker should hold, and each job whose lock holds another token, or none, is stopped with
 * HandsOff. While Redis does not answer, nothing is decided.
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
  running: RunningJobs;
  logger: Logger;
  intervalMs?: number;
}

export interface LockWatch {
  /** One check now; resolves with the ids of the jobs it stopped. */
  check(): Promise<string[]>;
  close(): void;
}

export function watchLocks({ redis, lockKey, running, logger, intervalMs = LOCK_CHECK_MS }: LockWatchDeps): LockWatch {
  let checking: Promise<string[]> | undefined;

  const check = () =>
    (checking ??= (async () => {
      const held = running.locked();
      if (held.length === 0) return [];
      const tokens = await redis.mget(held.map(({ jobId }) => lockKey(jobId)));
      const lost = held.filter(({ token }, i) => tokens[i] !== token);
      for (const { jobId } of lost) {
        logger.warn({ jobId }, "this worker no longer holds the job's lock; stopping its attempt");
        running.cancel(jobId, new HandsOff('Another attempt took this download over.'));
      }
      return lost.map(({ jobId }) => jobId);
    })().finally(() => (checking = undefined)));

  const timer = setInterval(() => {
    // One check at a time: while Redis is out of reach the one under way waits for it.
    if (!checking) check().catch((err: unknown) => logger.debug({ err }, 'could not check job locks'));
  }, intervalMs);
  timer.unref();
  return { check, close: () => clearInterval(timer) };
}
