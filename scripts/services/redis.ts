/**
 * Finds a Redis for the app: the one named by REDIS_URL, else a local one on the default port,
 * else one we start ourselves. The app never starts Redis itself; it only reads REDIS_URL.
 */
import { Redis } from 'ioredis';
import { findExecutable, portIsOpen, spawnService, waitUntilReady } from './process';

const LOCAL_URL = 'redis://127.0.0.1:6379';

export interface RunningRedis {
  url: string;
  /** Stops the server only if this process started it. */
  stop(): Promise<void>;
}

/** One PING with a short timeout and no retries: we want a yes or no, not a reconnect loop. */
export async function pingRedis(url: string, timeoutMs = 2_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // reported through the rejected promise below
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function ensureRedis(opts: { detached?: boolean } = {}): Promise<RunningRedis> {
  const nothingToStop = async () => {};
  const configured = process.env.REDIS_URL;
  if (configured) {
    if (await pingRedis(configured)) return { url: configured, stop: nothingToStop };
    throw new Error(`REDIS_URL is set to ${configured}, but no Redis answers there. Start it, or unset REDIS_URL to use a local one.`);
  }

  if (await portIsOpen(6379)) {
    if (await pingRedis(LOCAL_URL)) return { url: LOCAL_URL, stop: nothingToStop };
    throw new Error('Port 6379 on 127.0.0.1 is taken by something that is not Redis. Free it, or set REDIS_URL.');
  }

  const binary = findExecutable('redis-server');
  if (!binary) {
    throw new Error(
      'No Redis found: nothing answers on 127.0.0.1:6379 and redis-server is not installed.\n' +
        'Install Redis 6+ (e.g. `apt-get install redis-server` or `brew install redis`), or set REDIS_URL.',
    );
  }
  // No persistence: a Redis we start is a local throwaway and should leave nothing on disk.
  const service = spawnService(
    'redis-server',
    binary,
    ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { detached: opts.detached },
  );
  await waitUntilReady(service, () => pingRedis(LOCAL_URL, 500), 10_000);
  return { url: LOCAL_URL, stop: () => service.stop() };
}
