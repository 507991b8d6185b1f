/**
 * One running app for a test file: its own settings, a server and a worker as real processes,
 * and a teardown that leaves nothing behind on the shared Redis and MongoDB.
 */
import { createTestSettings, startServer, startWorker, type AppProcess, type Env, type ServerProcess, type TestSettings } from './app-processes';
import { deleteRedisPrefix, dropDatabase } from './cleanup';
import { createHttpClient } from './http-client';

export interface TestApp {
  settings: TestSettings;
  server: ServerProcess;
  workers: AppProcess[];
  stop(): Promise<void>;
}

export async function startTestApp(options: { workers?: number; env?: Env } = {}): Promise<TestApp> {
  const settings = await createTestSettings(options.env);
  const started: AppProcess[] = [];
  try {
    const server = await startServer(settings.env);
    started.push(server);
    const workers = await Promise.all(Array.from({ length: options.workers ?? 1 }, () => startWorker(settings.env)));
    started.push(...workers);
    // Tests may replace the server or a worker (a restart): stop whatever runs at the end.
    const app: TestApp = { settings, server, workers, stop: () => stopAll(settings, [app.server, ...app.workers]) };
    return app;
  } catch (err) {
    await stopAll(settings, started);
    throw err;
  }
}

async function stopAll(settings: TestSettings, processes: AppProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
  await removeTestData(settings);
}

/** Everything a test file's settings left behind: its Redis keys, its database, its data folder. */
export async function removeTestData(settings: TestSettings): Promise<void> {
  await deleteRedisPrefix(String(settings.env.REDIS_URL), String(settings.env.REDIS_PREFIX));
  await dropDatabase(String(settings.env.MONGODB_URI));
  await settings.cleanup();
}

/** This test file's one client: `api()` and the sockets of tests/utils/job-client are its tabs. */
const client = createHttpClient();

/** Calls the app's HTTP API as this test file's client (see ./http-client). */
export const api = client.api;

/** The `Cookie` header this test file's client sends. */
export const clientCookies = client.cookies;

export function postJob(baseUrl: string, url: unknown): Promise<{ status: number; body: any }> {
  return api(baseUrl, '/api/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url }),
  });
}

/** POST /api/jobs/:id/cancel or /retry, or DELETE /api/jobs/:id. */
export function jobAction(baseUrl: string, id: string, action: 'cancel' | 'retry' | 'delete'): Promise<{ status: number; body: any }> {
  return action === 'delete'
    ? api(baseUrl, `/api/jobs/${id}`, { method: 'DELETE' })
    : api(baseUrl, `/api/jobs/${id}/${action}`, { method: 'POST' });
}
