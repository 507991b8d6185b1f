/**
 * The Redis and MongoDB-wire server a scenario's app processes use: found or started the way
 * the tests do it (a fresh database server on a spare port, the shared Redis under a key prefix
 * of the run's own), and removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureMongo } from '../scripts/services/mongo';
import { freePort } from '../scripts/services/process';
import { ensureRedis } from '../scripts/services/redis';
import { deleteRedisPrefix, dropDatabase } from '../tests/utils/cleanup';

export interface BenchServices {
  /** Settings for the app's processes: Redis, database, prefix, data folder. */
  env: Record<string, string>;
  /** The database server's processes when this run started it (see RunningMongo.pids), else empty. */
  storePids: number[];
  stop(): Promise<void>;
}

export async function startBenchServices(): Promise<BenchServices> {
  const id = randomUUID().slice(0, 8);
  const folder = await mkdtemp(path.join(os.tmpdir(), 'bench-services-'));
  const redis = await ensureRedis();
  const mongo = await ensureMongo({ dataDir: path.join(folder, 'db'), port: await freePort() });
  const base = mongo.uri.replace(/\/[^/?]*(\?|$)/, `/bench_${id}$1`);
  const env = {
    REDIS_URL: redis.url,
    MONGODB_URI: base,
    REDIS_PREFIX: `bench-${id}`,
    DATA_DIR: path.join(folder, 'data'),
    ALLOW_PRIVATE_ADDRESSES: 'true',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  return {
    env,
    storePids: mongo.pids,
    async stop() {
      await deleteRedisPrefix(env.REDIS_URL, env.REDIS_PREFIX).catch(() => undefined);
      // A store that stopped answering must not hold the suite up: it is stopped next anyway.
      await Promise.race([dropDatabase(env.MONGODB_URI).catch(() => undefined), sleep(10_000)]);
      await mongo.stop();
      await redis.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
