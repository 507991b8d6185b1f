/**
 * The limits that keep one client from taking the server for itself. Counted in Redis with
 * rate-limiter-flexible, so every server node shares them; each refusal is a 429 AppError with
 * `Retry-After`. A limit set to 0 is off. The limits on new jobs are checked apart, in the one
 * script a submit runs before it stores anything (./job-admission).
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../domain/errors';
import type { Config } from '../infra/config';

export interface Limits {
  /** Refuses (rate_limited) while `address` has given wrong tokens too often. */
  assertMaySignIn(address: string): Promise<void>;
  /** Counts a wrong token from `address`. */
  signInFailed(address: string): Promise<void>;
  /** Counts a subscribe on one socket (kept in this node's memory: the socket lives here). */
  subscribed(socketId: string): Promise<void>;
}

const MINUTE_S = 60;

export function createLimits(redis: Redis, { redisPrefix, quotas }: Pick<Config, 'redisPrefix' | 'quotas'>): Limits {
  const shared = (name: string, points: number, duration: number) =>
    points > 0 ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${redisPrefix}:limit:${name}`, points, duration }) : null;
  const signIns = shared('sign-in', quotas.signInFailuresPer15Min, 15 * MINUTE_S);
  const subscribes = quotas.socketSubscribesPerMinute > 0 ? new RateLimiterMemory({ points: quotas.socketSubscribesPerMinute, duration: MINUTE_S }) : null;

  return {
    async assertMaySignIn(address) {
      const state = await signIns?.get(address).catch(unavailable);
      if (state && signIns && state.consumedPoints >= signIns.points) throw tooMany(state, 'Too many wrong tokens from this address. Wait before trying again.');
    },
    async signInFailed(address) {
      await consume(signIns, address);
    },
    async subscribed(socketId) {
      await consume(subscribes, socketId, 'Too many subscribes on this connection. Wait a moment.');
    },
  };
}

async function consume(limiter: RateLimiterAbstract | null, key: string, message?: string): Promise<void> {
  try {
    await limiter?.consume(key);
  } catch (outcome) {
    if (outcome instanceof RateLimiterRes) throw tooMany(outcome, message);
    unavailable(outcome);
  }
}

function tooMany(state: RateLimiterRes, message?: string): AppError {
  return new AppError('rate_limited', message, { retryAfterS: state.msBeforeNext / 1000 });
}

function unavailable(cause: unknown): never {
  throw new AppError('unavailable', 'The limits could not be checked. Try again in a moment.', { cause });
}
