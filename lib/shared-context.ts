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
import { createRedis } from './infra/redis';
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

export async function openSharedContext(config: Config, logger: Logger): Promise<SharedContext> {
  const redis = createRedis(config.redisUrl);
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await mongo.connect();
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
