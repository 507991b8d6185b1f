/**
 * The entry points as `npm start`, `npm run server` and `npm run worker` run them: compiled
 * ahead of time (scripts/entry.mjs), with no TypeScript loader in the process. A download goes
 * through them end to end, and the compiled bundle is rebuilt when a source is newer.
 */
import { stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestSettings, startServer, startWorker, type AppProcess, type ServerProcess, type TestSettings } from '../utils/app-processes';
import { fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';
import { api, postJob, removeTestData } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

const ROOT = path.resolve(import.meta.dirname, '../..');
let settings: TestSettings;
let files: FileServer;
let server: ServerProcess;
let worker: AppProcess;

beforeAll(async () => {
  settings = await createTestSettings();
  files = await startFileServer();
  // A source newer than the bundle: the first start rebuilds it.
  const now = new Date();
  await utimes(path.join(ROOT, 'server.ts'), now, now);
  server = await startServer(settings.env, 'production', 0, 'compiled');
  worker = await startWorker(settings.env, 'compiled');
}, 60_000);

afterAll(async () => {
  await Promise.all([server?.stop(), worker?.stop()]);
  await files?.close();
  await removeTestData(settings);
}, 30_000);

describe('the compiled server and worker', () => {
  it('run a download to the end', async () => {
    const size = 300_000;
    const { status, body: job } = await postJob(server.url, `${files.url}/file/${size}?seed=compiled`);
    expect(status).toBe(201);
    const done = await waitFor('the job to complete', async () => {
      const { body } = await api(server.url, `/api/jobs/${job.id}`);
      return body.status === 'completed' ? body : null;
    }, 20_000);
    expect(done.sha256).toBe(fixtureSha256(size, 'compiled'));
  });

  it('were compiled again, since a source was newer than the bundle', async () => {
    const [bundle, source] = await Promise.all([stat(path.join(ROOT, '.cache/dist/server.mjs')), stat(path.join(ROOT, 'server.ts'))]);
    expect(bundle.mtimeMs).toBeGreaterThanOrEqual(source.mtimeMs);
  });
});
