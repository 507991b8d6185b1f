import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { startWorker } from '../utils/app-processes';
import { fixtureSha256 } from '../utils/file-server';
import { isNewer, latest, recordUpdates, subscribe } from '../utils/job-client';
import { api, postJob, type TestApp } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const MB = 1024 * 1024;

const ctx = useWatchingApp();

async function startDownload(size: number, seed: string, query = ''): Promise<{ job: JobView; updates: JobView[] }> {
  const { body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${size}?rate=${MB}&seed=${seed}${query}`);
  const updates = recordUpdates(ctx.tab, job.id);
  await subscribe(ctx.tab, job.id);
  await waitFor(`${seed} to receive bytes`, () => updates.some((u) => u.bytesReceived > 256 * 1024), 15_000);
  return { job, updates };
}

const exited = (worker: TestApp['workers'][number]) =>
  new Promise<number | null>((resolve) => {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) resolve(worker.child.exitCode);
    else worker.child.once('exit', (code) => resolve(code));
  });

/** Kills the only worker with SIGKILL mid-download and starts a fresh one; resolves when it was killed. */
async function killWorker(): Promise<number> {
  const [victim] = ctx.app.workers;
  victim.child.kill('SIGKILL');
  await exited(victim);
  const killedAt = Date.now();
  ctx.app.workers = [await startWorker(ctx.app.settings.env)];
  return killedAt;
}

/** The state each tab shows in turn, as a client that keeps the newest one sees them. */
function shownInTurn(updates: JobView[]): JobView[] {
  const shown: JobView[] = [];
  for (const u of updates) if (!shown.length || isNewer(u, shown[shown.length - 1])) shown.push(u);
  return shown;
}

/** Every step where the bytes a tab shows go back, with what the card said then. */
const setbacks = (updates: JobView[]) =>
  shownInTurn(updates).flatMap((u, i, all) => (i > 0 && u.bytesReceived < all[i - 1].bytesReceived ? [u] : []));

/**
 * The SHA-256 and size of the file as the app serves it. The job's own sha256 cannot show a
 * corrupted resume: the engine hashes the kept bytes read back plus the new ones as received.
 */
async function servedFile(id: string): Promise<{ sha256: string; bytes: number }> {
  const response = await fetch(`${ctx.app.server.url}/api/jobs/${id}/file`);
  expect(response.status).toBe(200);
  const body = Buffer.from(await response.arrayBuffer());
  return { sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length };
}

async function completion(updates: JobView[]): Promise<JobView> {
  return waitFor('the job to complete', () => (latest(updates)?.status === 'completed' ? latest(updates) : null), 45_000);
}

describe('when the worker running a download is killed (SIGKILL)', () => {
  it('another worker takes it over within seconds and continues from the partial file with Range + If-Range', async () => {
    const size = 4 * MB;
    const { job, updates } = await startDownload(size, 'killed');
    const killedAt = await killWorker();

    const final = await completion(updates);
    expect(final).toMatchObject({ sha256: fixtureSha256(size, 'killed'), bytesReceived: size, attempt: 1 });
    expect(await servedFile(job.id)).toEqual({ sha256: fixtureSha256(size, 'killed'), bytes: size });
    const takeover = updates.find((u, i) => u.stage === 'connecting' && updates.slice(0, i).some((p) => p.bytesReceived > 0));
    // Taken over after the lock expired and a stalled-job check ran: well under BullMQ's default minute.
    expect(Date.parse(takeover!.updatedAt) - killedAt).toBeLessThan(20_000);
    const [, resumed] = ctx.files.requests.filter((r) => r.path.includes('seed=killed'));
    expect(resumed).toEqual(expect.objectContaining({ range: expect.stringMatching(/^bytes=[1-9]\d*-$/), ifRange: `"killed-${size}"` }));
    expect(final.notice).toMatch(/^Continued from .+ after an interruption\.$/);
    for (const setback of setbacks(updates)) expect(setback.notice).toEqual(expect.any(String));
  }, 60_000);

  it('starts over from zero when the server cannot resume, says so, and still stores the right file', async () => {
    const size = 3 * MB;
    const { job, updates } = await startDownload(size, 'killed-norange', '&norange=1');
    await killWorker();

    const final = await completion(updates);
    expect(final.sha256).toBe(fixtureSha256(size, 'killed-norange'));
    expect(await servedFile(job.id)).toEqual({ sha256: fixtureSha256(size, 'killed-norange'), bytes: size });
    expect(final.notice).toMatch(/started again from the beginning/);
    expect(setbacks(updates).length).toBeGreaterThan(0);
    for (const setback of setbacks(updates)) expect(setback.notice).toEqual(expect.any(String));
  }, 60_000);
});

describe('when the worker running a download is told to stop (SIGTERM)', () => {
  it('takes no new job, hands the one under way back at once with its resume point, and exits; the next worker continues it', async () => {
    const size = 3 * MB;
    const { job, updates } = await startDownload(size, 'graceful');
    const [worker] = ctx.app.workers;
    worker.child.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
    const handedBack = await waitFor('the job handed back', () => updates.find((u) => u.status === 'queued' && u.bytesReceived > 0), 5_000);
    expect(handedBack.notice).toMatch(/another one continues/);
    expect((await api(ctx.app.server.url, `/api/jobs/${job.id}`)).body).toMatchObject({ status: 'queued', bytesReceived: handedBack.bytesReceived });
    const { body: later } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${64 * 1024}?seed=after-stop`);
    expect((await api(ctx.app.server.url, `/api/jobs/${later.id}`)).body.status).toBe('queued');

    ctx.app.workers = [await startWorker(ctx.app.settings.env)];
    const done = await completion(updates);
    expect(done).toMatchObject({ status: 'completed', sha256: fixtureSha256(size, 'graceful'), attempt: 1 });
    // Continued, not started over: the new worker asked for the rest only.
    expect(ctx.files.requests.filter((r) => r.path.includes('seed=graceful') && r.range?.startsWith('bytes='))).toHaveLength(1);
    expect(await servedFile(job.id)).toEqual({ sha256: fixtureSha256(size, 'graceful'), bytes: size });
    await waitFor('the later job to complete', async () => (await api(ctx.app.server.url, `/api/jobs/${later.id}`)).body.status === 'completed', 15_000);
  }, 60_000);
});
