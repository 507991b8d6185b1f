import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection. BullMQ needs `maxRetriesPerRequest: null` on the connections its
 * workers block on; the same setting is harmless elsewhere and keeps one kind of client.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, ...options });
}

/**
 * How a server node's own connection fails while Redis is out of reach: at once when it is not
 * connected (no offline queue: a command held there would be sent, say a job queued, long after
 * its request was answered 503), and after 1.5 s when Redis stops answering, so that an answer comes within 2 s.
 */
export const FAIL_FAST: RedisOptions = { enableOfflineQueue: false, commandTimeout: 1_500 };

/**
 * A connection beside `redis` that waits out an outage whatever `redis` does: for subscribing
 * (ioredis subscribes again by itself after a reconnect) and for socket.io's adapter, which does
 * not catch a refused publish.
 */
export function patientDuplicate(redis: Redis): Redis {
  return redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
}

/** Resolves once `redis` is connected; rejects after `timeoutMs`, naming `url`'s host. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', ready);
      reject(new Error(`Redis did not answer within ${timeoutMs / 1000} s.`));
    }, timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', ready);
  });
}
