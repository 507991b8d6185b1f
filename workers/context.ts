/**
 * The worker process's context: what every process builds (see lib/shared-context) plus what
 * only a worker needs: the downloads it runs, the control channel that stops them, and the
 * BullMQ worker that feeds them. Built once by the entry point, download-worker.ts.
 */
import type { Config } from '../lib/infra/config';
import { cancelRecordKey, subscribeControl } from '../lib/infra/control';
import type { Logger } from '../lib/infra/logger';
import { createDownloadQueue, createDownloadWorker, retryPolicyOf, type DownloadWorker } from '../lib/infra/queue';
import { openSharedContext, type SharedContext } from '../lib/shared-context';
import { failAbandoned } from './abandoned';
import { watchLocks } from './lock-watch';
import { createDownloadProcessor } from './processor';
import { startRetention } from './retention';
import { startReconciler } from './reconciler';
import { RunningJobs } from './running-jobs';
import { startSlotShare } from './slot-share';

export interface WorkerContext extends SharedContext {
  running: RunningJobs;
  worker: DownloadWorker;
}

export async function createWorkerContext(config: Config, logger: Logger): Promise<WorkerContext> {
  const shared = await openSharedContext(config, logger);
  const { jobs, publisher, redis } = shared;
  const running = new RunningJobs();

  // Subscribed before the worker takes a job, so no cancel request can pass unseen.
  const control = await subscribeControl(
    redis,
    config.redisPrefix,
    (message) => {
      if (message.type === 'cancel' && running.cancel(message.jobId)) logger.info({ jobId: message.jobId }, 'cancel request: stopping');
    },
    logger,
  );

  // In the slot count before the worker below takes its first job.
  const slots = await startSlotShare({ redis, prefix: config.redisPrefix, concurrency: config.workerConcurrency, share: config.ownerSlotShare, logger });
  const processor = createDownloadProcessor({
    jobs,
    publisher,
    live: shared.live,
    running,
    slots,
    dataDir: config.dataDir,
    allowPrivateAddresses: config.allowPrivateAddresses,
    limits: config.limits,
    logger,
  });
  const worker = createDownloadWorker(processor, { connection: redis, prefix: config.redisPrefix, concurrency: config.workerConcurrency });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  slots.follow(worker);
  worker.on('failed', (queued, err) => {
    failAbandoned({ jobs, publisher, logger, dataDir: config.dataDir }, queued, err).catch((failure: unknown) =>
      logger.error({ err: failure, jobId: queued?.data.jobId }, 'could not store a job the queue failed'),
    );
  });
  // An attempt whose job went to another worker, or whose cancel this worker did not hear,
  // stops within a second (./lock-watch); a job the queue lost is queued again (./reconciler).
  const locks = watchLocks({
    redis,
    lockKey: (jobId) => worker.toKey(`${jobId}:lock`),
    cancelKey: (jobId) => cancelRecordKey(config.redisPrefix, jobId),
    running,
    logger,
  });
  const queue = createDownloadQueue({ connection: redis, prefix: config.redisPrefix });
  const reconciler = startReconciler({ redis, queue, jobs, retry: retryPolicyOf(config), redisPrefix: config.redisPrefix, logger });
  const retention = await startRetention({
    queue: { connection: redis, prefix: config.redisPrefix },
    ...config.retention,
    jobs,
    publisher,
    dataDir: config.dataDir,
    logger,
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      reconciler.close();
      // No new job, and every running one back to the queue with its resume point (see
      // handBack in ./processor): another worker goes on within moments.
      const closed = Promise.all([worker.close(), retention.close()]);
      running.handBackAll();
      await closed;
      locks.close();
      await queue.close();
      await slots.close();
      await control.close();
      await shared.close();
    })());
  return { ...shared, running, worker, close };
}
