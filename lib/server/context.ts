/**
 * The server process's context: what every process builds (see ../shared-context) plus what
 * only a server node needs: the queue to add jobs to, the control channel to the workers and
 * the feed that follows jobs for streaming consumers. Built once by `server.ts`.
 *
 * Next bundles route handlers and server components apart from `server.ts`, so a module-level
 * singleton would exist twice. The entry point hands the context over under one global symbol
 * instead, and only `./route` and `serverContext()` read it: handlers receive it as an argument.
 */
import type { Config } from '../infra/config';
import { createControlPublisher, type ControlPublisher } from '../infra/control';
import type { Logger } from '../infra/logger';
import { createDownloadQueue, type DownloadQueue } from '../infra/queue';
import type { JobEventFeed } from '../job-events/port';
import { createJobEventFeed } from '../job-events/redis';
import { openSharedContext, type SharedContext } from '../shared-context';
import { AppError } from '../domain/errors';
import { createIdentity, type Identity } from './identity';
import { createLimits, type Limits } from './limits';
import { cookieSecret } from './secrets';

export interface ServerContext extends SharedContext {
  queue: DownloadQueue;
  /** Tells every worker, e.g. to stop a cancelled job. */
  control: ControlPublisher;
  /** Follows jobs for this node's streaming consumers (Server-Sent Events). */
  feed: JobEventFeed;
  /** Who is asking: owner cookies, the session, the access token. */
  identity: Identity;
  /** The limits every node shares through Redis. */
  limits: Limits;
}

export async function createServerContext(config: Config, logger: Logger): Promise<ServerContext> {
  const shared = await openSharedContext(config, logger, 'fail-fast');
  const queue = createDownloadQueue({ connection: shared.redis, prefix: config.redisPrefix });
  const control = createControlPublisher(shared.redis, config.redisPrefix);
  const feed = createJobEventFeed(shared.redis, config.redisPrefix, logger);
  const identity = createIdentity({
    secret: await cookieSecret(shared.mongo.db(), config.auth.sessionSecret),
    accessToken: config.auth.accessToken,
    secureCookies: config.publicUrl?.startsWith('https:') ?? false,
  });
  const limits = createLimits(shared.redis, config);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await feed.close();
      await queue.close();
      await shared.close();
    })());
  return { ...shared, queue, control, feed, identity, limits, close };
}

const CONTEXT_KEY = Symbol.for('live-downloader.server-context');
type WithContext = typeof globalThis & { [CONTEXT_KEY]?: ServerContext };

/** Hands the context to this process's route handlers and server components (undefined: take it back). */
export function publishServerContext(context: ServerContext | undefined): void {
  (globalThis as WithContext)[CONTEXT_KEY] = context;
}

/** The context the entry point handed over; a 503 AppError while there is none (starting, stopping). */
export function serverContext(): ServerContext {
  const context = (globalThis as WithContext)[CONTEXT_KEY];
  if (!context) throw new AppError('unavailable', 'The server is starting. Try again in a moment.');
  return context;
}
