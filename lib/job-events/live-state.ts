/**
 * The newest state sent to each job's room, kept in Redis beside the events. MongoDB gets
 * progress only as a checkpoint, at most every ten seconds; a tab that subscribes, or a page
 * rendered on the server, takes the newer of the two, so it starts from the state the others show.
 */
import type { Redis } from 'ioredis';
import { newerJob } from '../domain/job-state';
import type { JobView } from '../domain/job';

/** Outlives any pause between two events; a finished job's final state is in MongoDB anyway. */
const TTL_MS = 15 * 60_000;

export interface LiveStates {
  /** Keeps `job` as its newest live state. Sent before the event on the same connection, so a state any tab has seen is always readable. */
  remember(job: JobView): Promise<void>;
  /** `stored`, or the live state of the same job when that one is newer. */
  newest(stored: JobView): Promise<JobView>;
}

export function createLiveStates(redis: Redis, redisPrefix: string): LiveStates {
  const key = (jobId: string) => `${redisPrefix}:live-job:${jobId}`;
  return {
    async remember(job) {
      await redis.set(key(job.id), JSON.stringify(job), 'PX', TTL_MS);
    },
    async newest(stored) {
      // Without Redis the stored state still answers, only older; and a command sent now would
      // wait for the reconnect (the connection queues commands for BullMQ's sake).
      if (redis.status !== 'ready') return stored;
      const live = parseLiveState(await redis.get(key(stored.id)), stored.id);
      return live ? newerJob(stored, live) : stored;
    },
  };
}

/** The kept state if it is one of `jobId`; anything else (a damaged or foreign value) is ignored. */
function parseLiveState(raw: string | null, jobId: string): JobView | null {
  if (raw === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  return isStateOf(value, jobId) ? value : null;
}

/**
 * Whether a value that came through Redis is a state of `jobId` that can be ordered (see
 * `newerJob`); a damaged or foreign value is not. Redis is shared: its values are input too.
 */
export function isStateOf(value: unknown, jobId: string): value is JobView {
  const job = value as Partial<JobView> | null;
  return typeof job === 'object' && job !== null && job.id === jobId && Number.isSafeInteger(job.run) && Number.isSafeInteger(job.version);
}
