import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';

/** Removes every Redis key under `prefix` (BullMQ's and socket.io's) from the shared Redis. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function dropDatabase(mongoUri: string): Promise<void> {
  const client = new MongoClient(mongoUri);
  try {
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}
