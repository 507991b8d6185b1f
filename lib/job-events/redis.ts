/**
 * How a worker or a server node tells every watching tab: it emits into the job's room through
 * Redis, and every server node's adapter hands the event to its own sockets in that room.
 * Never a broadcast.
 */
import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { JobView } from '../domain/job';
import type { Logger } from '../infra/logger';
import { socketIoKey } from '../infra/redis';
import { jobRoom, type ServerToClientEvents } from '../domain/events';
import type { LiveStates } from './live-state';

export interface JobPublisher {
  /** Sends the job's whole public state to its room (`job:update`). */
  publish(job: JobView): void;
  /** Tells the job's room that the job no longer exists (`job:deleted`). */
  deleted(jobId: string): void;
}

export function createJobPublisher(redis: Redis, redisPrefix: string, { live, logger }: { live: LiveStates; logger: Logger }): JobPublisher {
  const emitter = new Emitter<ServerToClientEvents>(redis, { key: socketIoKey(redisPrefix) });
  return {
    publish(job) {
      // Kept first: on one connection Redis runs the two in order, so whoever saw the event
      // can read its state.
      live.remember(job).catch((err: unknown) => logger.warn({ err, jobId: job.id }, 'could not keep the live state'));
      emitter.to(jobRoom(job.id)).emit('job:update', job);
    },
    deleted(jobId) {
      emitter.to(jobRoom(jobId)).emit('job:deleted', jobId);
    },
  };
}
