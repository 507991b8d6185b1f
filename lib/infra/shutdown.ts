import type { Logger } from './logger';

/** How long a process may take to close before it exits anyway. */
const GRACE_MS = 10_000;

/**
 * Runs `close` once on SIGINT or SIGTERM, then exits; a second signal, or a close that takes
 * longer than the grace period, exits at once.
 */
export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.warn('shutdown took too long; exiting');
      process.exit(1);
    }, GRACE_MS).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
