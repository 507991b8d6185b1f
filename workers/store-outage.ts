/**
 * How a worker meets a store that is out of reach: it waits for it, since its downloads go on
 * without it and their states can be stored later, rather than failing a job that is fine.
 */
import type { Logger } from '../lib/infra/logger';
import { outageOf } from '../lib/infra/outage';
import { STORE_RETRY_MS } from './job-writer';

/** Runs `read` until it does not fail for want of the store; other failures reject as they are. */
export async function untilStoreAnswers<T>(read: () => Promise<T>, logger: Logger, what: string, retryMs: readonly number[] = STORE_RETRY_MS): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      const result = await read();
      if (tries > 0) logger.info({ what }, 'the store answers again');
      return result;
    } catch (err) {
      if (outageOf(err) !== 'store') throw err;
      if (tries === 0) logger.warn({ err, what }, 'the store is out of reach; waiting for it');
      await new Promise((resolve) => setTimeout(resolve, retryMs[Math.min(tries, retryMs.length - 1)]));
    }
  }
}
