/**
 * The worker process: takes download jobs from BullMQ, any number of them per machine and any
 * number of machines. Run with `npm run worker` (or `tsx workers/download-worker.ts`).
 */
import { MongoClient } from 'mongodb';
import { loadConfig } from '../lib/infra/config';
import { failAbandoned } from './abandoned';
import { subscribeControl } from '../lib/infra/control';
import { createDownloadProcessor } from './processor';
import { createDownloadWorker } from '../lib/infra/queue';
import { RunningJobs } from './running-jobs';
import { JobStore } from '../lib/infra/job-store';
import { createLogger } from '../lib/infra/logger';
import { createLiveStates } from '../lib/job-events/live-state';
import { createJobPublisher } from '../lib/job-events/redis';
import { createRedis } from '../lib/infra/redis';
import { onShutdown } from '../lib/infra/shutdown';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('worker', config.logLevel);

  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 10_000 });
  await mongo.connect();
  const jobs = new JobStore(mongo.db());
  const redis = createRedis(config.redisUrl);
  const publisher = createJobPublisher(redis, config.redisPrefix, { live: createLiveStates(redis, config.redisPrefix), logger });
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

  const processor = createDownloadProcessor({
    jobs,
    publisher,
    running,
    dataDir: config.dataDir,
    allowPrivateAddresses: config.allowPrivateAddresses,
    limits: config.limits,
    logger,
  });
  const worker = createDownloadWorker(processor, {
    connection: redis,
    prefix: config.redisPrefix,
    concurrency: config.workerConcurrency,
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('failed', (queued, err) => {
    failAbandoned({ jobs, publisher, logger, dataDir: config.dataDir }, queued, err).catch((failure: unknown) =>
      logger.error({ err: failure, jobId: queued?.data.jobId }, 'could not store a job the queue failed'),
    );
  });
  await worker.waitUntilReady();
  logger.info({ concurrency: config.workerConcurrency }, 'worker ready');

  // On SIGTERM the worker takes no new job and lets the downloads under way finish within the
  // grace period. One still running then is left as it is: its partial file stays, its lock
  // expires, and another worker takes it over and resumes from that file (see
  // LOCK_DURATION_MS). Stopping it instead would delete the partial file (an aborted download
  // cleans up after itself) and throw away what was received.
  onShutdown(logger, async () => {
    await worker.close();
    await control.close();
    await mongo.close();
    redis.disconnect();
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
