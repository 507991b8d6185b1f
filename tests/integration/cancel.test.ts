import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';
import { connectClient, latest, recordUpdates, subscribe, type JobSocket } from '../utils/job-client';
import { hasLogged } from '../utils/log-lines';
import { startTcpTap, type TcpTap } from '../utils/tcp-tap';
import { api, jobAction, postJob, startTestApp, type TestApp } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

const MB = 1024 * 1024;

let app: TestApp;
let files: FileServer;
const sockets: JobSocket[] = [];

beforeAll(async () => {
  files = await startFileServer();
  // Two worker processes taking one download each: a job runs in one of them, and which one
  // the test does not know, as in production.
  app = await startTestApp({ workers: 2, env: { WORKER_CONCURRENCY: '1' } });
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await app?.stop();
  await files?.close();
}, 30_000);

async function watch(jobId: string, tabs = 1): Promise<JobView[][]> {
  return Promise.all(
    Array.from({ length: tabs }, async () => {
      const socket = await connectClient(app.server.url);
      sockets.push(socket);
      const updates = recordUpdates(socket, jobId);
      await subscribe(socket, jobId);
      return updates;
    }),
  );
}

/** A slow download (20 MB at 1 MB/s) that is receiving bytes, from the fixture or `source` in front of it. */
async function startSlowDownload(seed: string, tabs = 1, source = files.url) {
  const { body: job } = await postJob(app.server.url, `${source}/file/${20 * MB}?rate=${MB}&seed=${seed}`);
  const watchers = await watch(job.id, tabs);
  await waitFor(`${seed} to receive bytes`, () => watchers[0].some((u) => u.status === 'active' && u.bytesReceived > 0), 15_000);
  return { job: job as JobView, watchers };
}

const folderOf = (jobId: string) => path.join(app.settings.dataDir, jobId);
const allCancelled = (watchers: JobView[][]) => watchers.every((updates) => latest(updates)?.status === 'cancelled');

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('when an active download is cancelled', () => {
  let job: JobView;
  let watchers: JobView[][];
  let answer: { status: number; body: any };
  /** Between the cancel request and: every tab showing cancelled; the worker having stopped. */
  let shownAfter: number;
  /** The bytes a tab showed just before the cancel was asked for. */
  let seenBefore: number;
  let stoppedAfter: number;
  // Seen through a relay, so the test sees the connection as the source's server does.
  let source: TcpTap;

  beforeAll(async () => {
    source = await startTcpTap(files.port);
    ({ job, watchers } = await startSlowDownload('cancel-active', 2, source.url));
    seenBefore = latest(watchers[0])!.bytesReceived;
    const started = Date.now();
    const cancelling = jobAction(app.server.url, job.id, 'cancel');
    const shown = waitFor('every tab to show cancelled', () => allCancelled(watchers), 5_000).then(() => Date.now() - started);
    const stopped = waitFor('the worker to stop', () => workerStopped(job.id), 5_000).then(() => Date.now() - started);
    [answer, shownAfter, stoppedAfter] = await Promise.all([cancelling, shown, stopped]);
  }, 30_000);

  afterAll(() => source?.close());

  /** The worker has stopped once the job's folder is gone and the source's connection is closed. */
  function workerStopped(jobId: string): boolean {
    return !existsSync(folderOf(jobId)) && source.connections.length > 0 && source.connections.every((c) => c.closedAt !== null);
  }

  it('answers 200 with the cancelled job', () => {
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: job.id, status: 'cancelled', stage: 'done' });
  });

  it('answers with at least the bytes the tabs were shown, not an older stored checkpoint', () => {
    expect(seenBefore).toBeGreaterThan(0);
    expect(answer.body.bytesReceived).toBeGreaterThanOrEqual(seenBefore);
  });

  it('shows cancelled in every watching tab within a second', () => {
    expect(shownAfter).toBeLessThan(1_000);
  });

  it('stops the download within a second: the connection to the source closes and the partial file goes', () => {
    // Measured by polling every 50 ms, so it may read up to 50 ms late, never early.
    expect(stoppedAfter).toBeLessThanOrEqual(1_000);
    expect(source.connections).toHaveLength(1);
  });

  it('stays cancelled: no later write or event brings it back', async () => {
    // The worker confirms with the bytes it really had (maybe more than the API knew), at a
    // version above the API's cancelled state.
    const confirmed = () => watchers.every((updates) => latest(updates)!.version > answer.body.version);
    await waitFor('the worker to confirm the cancel in every tab', confirmed, 2_000);
    const received = watchers.map((updates) => latest(updates)!.bytesReceived);
    await pause(2_000);
    for (const updates of watchers) expect(latest(updates)).toMatchObject({ status: 'cancelled' });
    const { body } = await api(app.server.url, `/api/jobs/${job.id}`);
    expect(body.status).toBe('cancelled');
    // The download stopped: nothing more arrived after the cancel, and the worker did not
    // connect to the source again.
    expect(watchers.map((updates) => latest(updates)!.bytesReceived)).toEqual(received);
    expect(source.connections).toHaveLength(1);
    expect(existsSync(folderOf(job.id))).toBe(false);
  }, 10_000);
});

describe('when two workers each run a download and both are cancelled', () => {
  it('reaches whichever worker holds each job, and both stop', async () => {
    const [a, b] = await Promise.all([startSlowDownload('two-workers-a'), startSlowDownload('two-workers-b')]);
    const answers = await Promise.all([a, b].map(({ job }) => jobAction(app.server.url, job.id, 'cancel')));
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    await waitFor('both jobs to show cancelled', () => allCancelled([...a.watchers, ...b.watchers]), 1_500);
    await waitFor('both folders to go', () => [a, b].every(({ job }) => !existsSync(folderOf(job.id))), 2_000);
    // Each worker process got the request for the job it ran, and stopped it.
    const stoppedBy = [a, b].map(({ job }) => app.workers.findIndex((w) => hasLogged(w.output(), 'cancel request: stopping', job.id)));
    expect([...stoppedBy].sort()).toEqual([0, 1]);
  }, 40_000);
});

describe('when a job waiting for its next attempt is cancelled', () => {
  it('removes the partial file kept for that attempt', async () => {
    // Cut off mid-body: a transient failure that keeps the partial file for the next attempt.
    const { body: job } = await postJob(app.server.url, `${files.url}/file/${MB}?rate=${4 * MB}&dropafter=${MB / 2}&seed=between`);
    const [updates] = await watch(job.id);
    await waitFor('the first attempt to fail', () => latest(updates)?.stage === 'retrying', 10_000);
    expect(existsSync(folderOf(job.id))).toBe(true);

    expect((await jobAction(app.server.url, job.id, 'cancel')).status).toBe(200);
    expect(existsSync(folderOf(job.id))).toBe(false);
    expect(latest(updates)).toMatchObject({ status: 'cancelled' });
  }, 20_000);
});

describe('when the job has already ended', () => {
  let completed: JobView;

  beforeAll(async () => {
    const { body } = await postJob(app.server.url, `${files.url}/file/${64 * 1024}?seed=ended`);
    completed = await waitFor('the small download to complete', async () => {
      const { body: current } = await api(app.server.url, `/api/jobs/${body.id}`);
      return current.status === 'completed' ? (current as JobView) : null;
    }, 15_000);
  }, 20_000);

  it('answers 409 conflict to cancel, and keeps the file', async () => {
    const { status, body } = await jobAction(app.server.url, completed.id, 'cancel');
    expect(status).toBe(409);
    expect(body.error.code).toBe('conflict');
    const { body: after } = await api(app.server.url, `/api/jobs/${completed.id}`);
    expect(after).toEqual(completed);
    expect(completed.sha256).toBe(fixtureSha256(64 * 1024, 'ended'));
  });

  it('answers 409 conflict to retry a completed job', async () => {
    const { status, body } = await jobAction(app.server.url, completed.id, 'retry');
    expect(status).toBe(409);
    expect(body.error.code).toBe('conflict');
  });
});

describe('when a running job is retried', () => {
  it('answers 409 conflict and lets it run on', async () => {
    const { job, watchers } = await startSlowDownload('retry-active');
    const { status, body } = await jobAction(app.server.url, job.id, 'retry');
    expect(status).toBe(409);
    expect(body.error.code).toBe('conflict');
    const before = latest(watchers[0])!.bytesReceived;
    await waitFor('more bytes', () => latest(watchers[0])!.bytesReceived > before, 5_000);
    expect(latest(watchers[0])!.status).toBe('active');
    await jobAction(app.server.url, job.id, 'cancel');
  }, 30_000);
});
