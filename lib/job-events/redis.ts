/**
 * The job-events port over Redis. Publishing keeps the job's newest live state, then emits the
 * event into the job's socket.io room with the Redis emitter, so every server node's Redis
 * adapter hands it to the sockets in that room; following subscribes to the same room's
 * channel. Events of one job leave one connection in order, and Redis keeps that order for
 * every subscriber.
 */
import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import { jobRoom, type ServerToClientEvents } from '../domain/events';
import type { Logger } from '../infra/logger';
import { patientDuplicate } from '../infra/redis';
import { createLiveStates, isStateOf, type LiveStates } from './live-state';
import type { Following, JobEvent, JobEventFeed, JobEventPublisher } from './port';
import { withoutQuery } from '../util/redact-url';
import { decodeRoomEvent, roomChannel, socketIoKey, wireParser } from './wire';

export interface JobEvents {
  publisher: JobEventPublisher;
  /** The newest state each job's watchers were sent, fresher than the stored one. */
  live: LiveStates;
}

/** The publishing side and the live states, built the same way by every process kind. */
export function createJobEvents(redis: Redis, redisPrefix: string, logger: Logger): JobEvents {
  const live = createLiveStates(redis, redisPrefix);
  // The emitter does not catch a refused publish, and a server node's connection refuses
  // every command while Redis is out of reach (lib/infra/redis FAIL_FAST): the event is lost
  // either way, but the process must not be.
  const publishing = {
    publish: (channel: string, message: Buffer | string) =>
      redis.publish(channel, message).catch((err: unknown) => logger.warn({ err }, 'could not publish a job event')),
  };
  const emitter = new Emitter<ServerToClientEvents>(publishing, { key: socketIoKey(redisPrefix), parser: wireParser });
  const publisher: JobEventPublisher = {
    publish(state) {
      // A room is everyone who has the job's link: they get the URL without its query, and
      // nothing about any one viewer. Redis keeps no secret either.
      const { canControl: _viewer, ...shared } = state;
      const job = { ...shared, url: withoutQuery(state.url) };
      // Kept first: on one connection Redis runs the two in order, so whoever saw the event
      // can read its state.
      live.remember(job).catch((err: unknown) => logger.warn({ err, jobId: job.id }, 'could not keep the live state'));
      // Volatile: a socket still writing what it was sent misses it rather than queueing
      // it; the server keeps the newest state per job for it (lib/server/slow-clients).
      emitter.to(jobRoom(job.id)).volatile.emit('job:update', job);
    },
    deleted(jobId) {
      emitter.to(jobRoom(jobId)).emit('job:deleted', jobId);
    },
  };
  return { publisher, live };
}

type Listener = (event: JobEvent) => void;

interface Followed {
  jobId: string;
  listeners: Set<Listener>;
  /** Settles once Redis has confirmed the subscription. */
  subscribed: Promise<unknown>;
}

/**
 * The following side: one subscriber connection for the whole process, opened on the first
 * `follow`. Each followed job's channel is subscribed once, however many consumers follow it,
 * and dropped with the last of them; ioredis subscribes again by itself after a reconnect.
 */
export function createJobEventFeed(redis: Redis, redisPrefix: string, logger: Logger): JobEventFeed {
  let subscriber: Redis | undefined;
  const followed = new Map<string, Followed>(); // by channel

  const connection = () => {
    if (subscriber) return subscriber;
    subscriber = patientDuplicate(redis);
    subscriber.on('error', (err: unknown) => logger.warn({ err }, 'job events connection error'));
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const entry = followed.get(channel.toString());
      const event = entry && toJobEvent(entry.jobId, message);
      if (!entry || !event) return;
      for (const listener of entry.listeners) listener(event);
    });
    return subscriber;
  };

  const unfollow = (channel: string, listener: Listener) => {
    const entry = followed.get(channel);
    if (!entry?.listeners.delete(listener) || entry.listeners.size > 0) return;
    followed.delete(channel);
    subscriber?.unsubscribe(channel).catch((err: unknown) => logger.warn({ err, jobId: entry.jobId }, 'could not stop following a job'));
  };

  return {
    async follow(jobId, listener) {
      const channel = roomChannel(redisPrefix, jobRoom(jobId));
      let entry = followed.get(channel);
      if (!entry) {
        entry = { jobId, listeners: new Set(), subscribed: connection().subscribe(channel) };
        followed.set(channel, entry);
      }
      entry.listeners.add(listener);
      try {
        await entry.subscribed;
      } catch (err) {
        unfollow(channel, listener);
        throw err;
      }
      let open = true;
      const following: Following = {
        close() {
          if (open) unfollow(channel, listener);
          open = false;
        },
      };
      return following;
    },
    async close() {
      followed.clear();
      subscriber?.disconnect();
    },
  };
}

/** The port's event for a message on a job's channel, or null for anything else. */
function toJobEvent(jobId: string, message: Buffer): JobEvent | null {
  const decoded = decodeRoomEvent(message);
  if (!decoded) return null;
  const [arg] = decoded.args;
  if (decoded.name === 'job:deleted' && arg === jobId) return { type: 'deleted', jobId };
  if (decoded.name === 'job:update' && isStateOf(arg, jobId)) return { type: 'update', job: arg };
  return null;
}
