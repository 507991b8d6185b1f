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

  // On SIGTERM the worker takes no new job and lets the downloads under way finish within the
  // grace period. One still running then is left as it is: its partial file stays, its lock
  // expires, and another worker takes it over and resumes from that file (see
  // LOCK_DURATION_MS). Stopping it instead would delete the partial file (an aborted download
  // cleans up after itself) and throw away what was received.
  onShutdown(logger, context.close);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
