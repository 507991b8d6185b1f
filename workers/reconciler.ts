/**
 * Puts back in the queue every job that MongoDB holds open (`queued` or `active`) but BullMQ no
 * longer knows: after a Redis that keeps nothing on disk restarted, say, the waiting jobs are
 * gone from the queue and would stay `queued` for ever. Each goes back under its own id, with
 * the run it had, and the worker that takes it resumes from its partial file when there is one.
 *
 * It runs when a worker starts, every RECONCILE_INTERVAL_MS, and soon after the worker's Redis
 * connection comes back; on one worker at a time, under a lock in Redis.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobStore } from '../lib/infra/job-store';
import type { Logger } from '../lib/infra/logger';
import { enqueueDownload, type DownloadQueue, type RetryPolicy } from '../lib/infra/queue';
import { LOCK_CHECK_MS } from './lock-watch';

export const RECONCILE_INTERVAL_MS = 15_000;
/**
 * A `queued` job changed this recently may be between its insert and its queue add (see
 * lib/server/job-service submitJobs), milliseconds apart. Queueing it twice would do no harm,
 * since BullMQ adds no second job under one id, but it would be noise.
 */
const SETTLE_MS = 1_000;
/** After Redis comes back: time for every worker's lock watch to stop what it no longer holds. */
const AFTER_RECONNECT_MS = 4 * LOCK_CHECK_MS;
const MAX_JOBS_PER_ROUND = 1_000;
const LOCK_MS = 60_000;
/** Lets the lock go only if it is still this round's. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

export interface ReconcilerDeps {
  redis: Redis;
  queue: DownloadQueue;
  jobs: JobStore;
  retry: RetryPolicy;
  /** The key prefix of the app's own Redis keys. */
  redisPrefix: string;
  logger: Logger;
  intervalMs?: number;
}

export interface Reconciler {
  /** One round now; resolves with the ids it queued again (none if another worker holds the round). */
  reconcile(): Promise<string[]>;
  close(): void;
}

export function startReconciler(deps: ReconcilerDeps): Reconciler {
  const { redis, queue, jobs, logger } = deps;
  const lockKey = `${deps.redisPrefix}:reconcile:lock`;
  let round: Promise<string[]> | undefined;

  const reconcile = () =>
    (round ??= (async () => {
      const token = randomUUID();
      if ((await redis.set(lockKey, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return [];
      try {
        const open = await jobs.findOpen(new Date(Date.now() - SETTLE_MS), MAX_JOBS_PER_ROUND);
        if (open.length === 0) return [];
        const known = await redis.pipeline(open.map(({ id }) => ['exists', queue.toKey(id)])).exec();
        const lost = open.filter((_, i) => known?.[i]?.[1] === 0);
        for (const { id, owner } of lost) await enqueueDownload(queue, id, deps.retry, owner);
        if (lost.length > 0) logger.warn({ jobIds: lost.map(({ id }) => id) }, 'queued again jobs the queue had lost');
        return lost.map(({ id }) => id);
      } finally {
        await redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
      }
    })().finally(() => (round = undefined)));

  const inBackground = () => void reconcile().catch((err: unknown) => logger.warn({ err }, 'could not reconcile the queue with the store'));
  const timer = setInterval(inBackground, deps.intervalMs ?? RECONCILE_INTERVAL_MS);
  timer.unref();
  let reconnectTimer: NodeJS.Timeout | undefined;
  // 'ready' comes again after every reconnect; the round at start is the one below.
  const onReady = () => {
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(inBackground, AFTER_RECONNECT_MS);
  };
  redis.on('ready', onReady);
  inBackground();
  return {
    reconcile,
    close() {
      clearInterval(timer);
      clearTimeout(reconnectTimer);
      redis.off('ready', onReady);
    },
  };
}
