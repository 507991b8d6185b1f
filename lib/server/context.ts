/**
 * The per-process context: every connection the server process holds, built once by
 * `server.ts` and handed to socket.io and to Next's route handlers. Next bundles route
 * handlers apart from `server.ts`, so a module-level singleton would exist twice; the context
 * is published on `globalThis` under one symbol instead, explicitly, by the entry point.
 */
import { MongoClient } from 'mongodb';
import type { Redis } from 'ioredis';
import type { Config } from '../infra/config';
import { AppError } from '../domain/errors';
import { createControlPublisher, type ControlPublisher } from '../infra/control';
import { createDownloadQueue, type DownloadQueue } from '../infra/queue';
import { JobStore } from '../infra/job-store';
import type { Logger } from '../infra/logger';
import { createLiveStates, type LiveStates } from '../job-events/live-state';
import { createJobPublisher, type JobPublisher } from '../job-events/redis';
import { createRedis } from '../infra/redis';

export interface AppContext {
  config: Config;
  logger: Logger;
  redis: Redis;
  mongo: MongoClient;
  jobs: JobStore;
  queue: DownloadQueue;
  /** Tells a job's room (on every node) what the API did to it. */
  publisher: JobPublisher;
  /** Tells every worker, e.g. to stop a cancelled job. */
  control: ControlPublisher;
  /** The newest state each job's room was sent, fresher than the stored one. */
  live: LiveStates;
  /** Closes everything in reverse order of opening; safe to call twice. */
  close(): Promise<void>;
}

export async function createAppContext(config: Config, logger: Logger): Promise<AppContext> {
  const redis = createRedis(config.redisUrl);
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 10_000 });
  await mongo.connect();
  const jobs = new JobStore(mongo.db());
  await jobs.prepare();
  const queue = createDownloadQueue({ connection: redis, prefix: config.redisPrefix });
  const live = createLiveStates(redis, config.redisPrefix);
  const publisher = createJobPublisher(redis, config.redisPrefix, { live, logger });
  const control = createControlPublisher(redis, config.redisPrefix);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await queue.close();
      await mongo.close();
      redis.disconnect();
    })());

  return { config, logger, redis, mongo, jobs, queue, publisher, control, live, close };
}

const CONTEXT_KEY = Symbol.for('live-downloader.app-context');
type WithContext = typeof globalThis & { [CONTEXT_KEY]?: AppContext };

/** Makes the context reachable from route handlers and server components of this process. */
export function publishAppContext(context: AppContext | undefined): void {
  (globalThis as WithContext)[CONTEXT_KEY] = context;
}

/** The context published by the entry point; a 503 AppError when there is none (yet). */
export function appContext(): AppContext {
  const context = (globalThis as WithContext)[CONTEXT_KEY];
  if (!context) throw new AppError('unavailable', 'The server is starting. Try again in a moment.');
  return context;
}
