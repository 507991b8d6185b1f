/**
 * What `GET /api/health` reports: whether this node reaches each part it needs, so that an
 * operator (or a load balancer) sees which one is down rather than a bare failure.
 */
import { AppError } from '../domain/errors';
import { outageMessage, type Part } from '../infra/outage';
import type { ServerContext } from './context';

export type PartHealth = 'up' | 'down';

export interface Health {
  ok: boolean;
  parts: Record<Part, PartHealth>;
  /** The first part down, as every 503 says it. */
  error?: ReturnType<AppError['toJSON']>;
}

const settled = (check: Promise<unknown>): Promise<PartHealth> => check.then(() => 'up' as const, () => 'down' as const);

/** Asks both parts at once; each answers or fails within about 1.5 s (lib/shared-context). */
export async function checkHealth({ redis, mongo }: Pick<ServerContext, 'redis' | 'mongo'>): Promise<Health> {
  const [redisHealth, store] = await Promise.all([settled(redis.ping()), settled(mongo.db().command({ ping: 1 }))]);
  const parts: Record<Part, PartHealth> = { redis: redisHealth, store };
  const down = (Object.keys(parts) as Part[]).find((part) => parts[part] === 'down');
  if (!down) return { ok: true, parts };
  return { ok: false, parts, error: new AppError('unavailable', outageMessage(down)).toJSON() };
}
