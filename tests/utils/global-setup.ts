/**
 * Jest globalSetup for the integration and e2e projects: finds a Redis and starts a fresh,
 * empty MongoDB-wire server for this run, then hands their addresses to the tests through
 * TEST_REDIS_URL and TEST_MONGODB_URI (read them with ./services-env).
 *
 * Runs in jest's main process before any test file: env vars set here reach the tests, and what
 * we keep on globalThis is visible to globalTeardown only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureMongo } from '../../scripts/services/mongo';
import { freePort } from '../../scripts/services/process';
import { ensureRedis } from '../../scripts/services/redis';

export interface TestServices {
  /** Every stop function, in start order; teardown runs them in reverse. */
  stops: Array<() => Promise<void>>;
  tempDirs: string[];
}

declare global {
  var __testServices: TestServices | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Jest runs a path shared by several projects once, but a second call must not leak a server.
  if (globalThis.__testServices) return;
  const state: TestServices = { stops: [], tempDirs: [] };
  globalThis.__testServices = state;

  const redis = await ensureRedis();
  state.stops.push(redis.stop);
  process.env.TEST_REDIS_URL = redis.url;

  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  // Fresh data and a fresh port: never touch the app's own database or a server left running.
  // The embedded default gets a throwaway PostgreSQL of its own (temp folder, spare port), which
  // mongo.stop() removes; dataDir is for the SQLite fallback.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'downloader-test-db-'));
  state.tempDirs.push(dataDir);
  const port = await freePort();
  const mongo = await ensureMongo({ dataDir, port });
  state.stops.push(mongo.stop);
  process.env.TEST_MONGODB_URI = `mongodb://127.0.0.1:${port}/`;
}
