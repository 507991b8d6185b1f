/**
 * What every process kind builds the same way, so the server and the worker cannot drift
 * apart: the Redis connection, the MongoDB store (prepared: indexes and migrations), and the
 * publishing side of the job events. Each entry point builds this once, adds what only it
 * needs, and passes the whole down; nothing connects when a module is imported.
 */
import { MongoClient } from 'mongodb';
import type { Redis } from 'ioredis';
import type { Config } from './infra/config';
import { JobStore } from './infra/job-store';
import type { Logger } from './infra/logger';
import { createRedis, FAIL_FAST, whenReady } from './infra/redis';
import type { LiveStates } from './job-events/live-state';
import type { JobEventPublisher } from './job-events/port';
import { createJobEvents } from './job-events/redis';

export interface SharedContext {
  config: Config;
  logger: Logger;
  redis: Redis;
  mongo: MongoClient;
  jobs: JobStore;
  /** Tells a job's watchers, on every node, its new state. */
  publisher: JobEventPublisher;
  /** The newest state each job's watchers were sent, fresher than the stored one. */
  live: LiveStates;
  /** Closes what this opened, in reverse order; safe to call twice. */
  close(): Promise<void>;
}

/**
 * How a process meets a part that is out of reach. A server node fails fast, so that a request
 * is answered 503 within 2 s instead of waiting (see lib/infra/redis FAIL_FAST); a worker
 * waits, since its jobs carry on once the part is back.
 */
export type OutagePolicy = 'fail-fast' | 'wait';

/** How long a process waits at start for Redis and the store before it gives up. */
const START_WAIT_MS = 30_000;
const STORE_SELECTION_MS: Record<OutagePolicy, number> = { 'fail-fast': 1_500, wait: 10_000 };

export async function openSharedContext(config: Config, logger: Logger, policy: OutagePolicy = 'wait'): Promise<SharedContext> {
  const redis = createRedis(config.redisUrl, policy === 'fail-fast' ? FAIL_FAST : {});
  redis.on('error', (err: unknown) => logger.debug({ err }, 'redis connection error'));
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: STORE_SELECTION_MS[policy] });
  try {
    // Without an offline queue, nothing may be sent before the connection is up.
    await whenReady(redis, START_WAIT_MS);
    await connectWithin(mongo, START_WAIT_MS);
    const jobs = new JobStore(mongo.db());
    await jobs.prepare();
    const { publisher, live } = createJobEvents(redis, config.redisPrefix, logger);
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        await mongo.close();
        redis.disconnect();
      })());
    return { config, logger, redis, mongo, jobs, publisher, live, close };
  } catch (err) {
    await mongo.close();
    redis.disconnect();
    throw err;
  }
}

/** Connects, trying again until `waitMs` has passed: the store may still be starting. */
async function connectWithin(mongo: MongoClient, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return void (await mongo.connect());
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
