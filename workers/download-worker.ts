/**
 * The worker process: takes download jobs from BullMQ, any number of them per machine and any
 * number of machines. Run with `npm run worker`. The composition root of a worker: builds its
 * context, waits until it takes jobs, and closes it on SIGINT/SIGTERM.
 */
import { loadConfig } from '../lib/infra/config';
import { createLogger } from '../lib/infra/logger';
import { onShutdown } from '../lib/infra/shutdown';
import { createWorkerContext } from './context';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('worker', config.logLevel);
  const context = await createWorkerContext(config, logger);
  await context.worker.waitUntilReady();
  logger.info({ concurrency: config.workerConcurrency }, 'worker ready');

  // On SIGTERM the worker takes no new job and hands each download under way back to the queue
  // with its partial file and resume point (see WorkerContext.close): another worker continues
  // it within moments. Should the process be killed instead, the job's lock expires and another
  // worker takes it over all the same, only later (see LOCK_DURATION_MS).
  onShutdown(logger, context.close);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
