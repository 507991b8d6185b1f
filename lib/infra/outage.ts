/**
 * Which part an error says is out of reach: Redis, the MongoDB-wire store, or neither (a bug,
 * a refused write, a bad request). The server answers an outage with 503 `unavailable` naming
 * the part, and a worker waits for the store to come back instead of failing the job.
 */
import { MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError } from 'mongodb';

export type Part = 'redis' | 'store';

export const PART_NAMES: Record<Part, string> = { redis: 'Redis', store: 'the job store (MongoDB)' };

/**
 * What ioredis rejects a command with when it cannot reach Redis: no connection and no offline
 * queue, no answer within `commandTimeout`, or a connection that is gone for good.
 */
const REDIS_OUTAGE = /^(Stream isn't writeable|Command timed out|Connection is closed|Reached the max retries per request limit)/;

export function outageOf(error: unknown): Part | null {
  if (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  ) {
    return 'store';
  }
  if (!(error instanceof Error)) return null;
  if (REDIS_OUTAGE.test(error.message)) return 'redis';
  // What failed underneath: the queue and the limits wrap what they were given in `cause`; the
  // driver puts a bulk write's network error in `errorResponse`.
  const under = error.cause ?? (error as { errorResponse?: unknown }).errorResponse;
  return under instanceof Error && under !== error ? outageOf(under) : null;
}

/** The sentence a person sees while `part` is out of reach. */
export function outageMessage(part: Part): string {
  return `${PART_NAMES[part][0].toUpperCase()}${PART_NAMES[part].slice(1)} cannot be reached. Try again in a moment.`;
}
