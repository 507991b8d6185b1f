import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { startWorker } from '../utils/app-processes';
import { latest, recordUpdates, subscribe } from '../utils/job-client';
import { api, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const BACKOFF_MS = 400;

const ctx = useWatchingApp({ workers: 0, env: { DOWNLOAD_ATTEMPTS: '3', RETRY_BACKOFF_MS: String(BACKOFF_MS) } });

/** Every update of each job, in version order, once it has ended. */
let unavailable: JobView[];
let missing: JobView[];

beforeAll(async () => {
  // The worker starts once the tab watches both jobs, so the tab sees every attempt.
  const watched = await Promise.all([`${ctx.files.url}/status/503`, `${ctx.files.url}/status/404`].map(watch));
  ctx.app.workers.push(await startWorker(ctx.app.settings.env));
  [unavailable, missing] = await Promise.all(watched.map(untilEnd));
}, 60_000);

async function watch(url: string): Promise<JobView[]> {
  const { body: job } = await postJob(ctx.app.server.url, url);
  const updates = recordUpdates(ctx.tab, job.id);
  await subscribe(ctx.tab, job.id);
  return updates;
}

async function untilEnd(updates: JobView[]): Promise<JobView[]> {
  await waitFor('the job to end', () => ['completed', 'failed'].includes(latest(updates)?.status ?? ''), 20_000);
  return [...updates].sort((a, b) => a.version - b.version);
}

describe('when the source answers 503 every time', () => {
  const updates = () => unavailable;

  it('waits as queued, stage retrying, with the next attempt, its time and the last error', () => {
    const waits = updates().filter((u) => u.stage === 'retrying');
    expect(waits.map((u) => u.attempt)).toEqual([2, 3]);
    for (const wait of waits) {
      expect(wait).toMatchObject({ status: 'queued', maxAttempts: 3, error: { code: 'http_error', message: expect.stringMatching(/503/) } });
      expect(Date.parse(wait.retryAt!)).toBeGreaterThan(Date.parse(wait.updatedAt));
    }
  });

  it('backs off exponentially between attempts', () => {
    const waits = updates().filter((u) => u.stage === 'retrying');
    const delays = waits.map((u) => Date.parse(u.retryAt!) - Date.parse(u.updatedAt));
    expect(delays[0]).toBeGreaterThanOrEqual(BACKOFF_MS - 50);
    expect(delays[1]).toBeGreaterThanOrEqual(2 * BACKOFF_MS - 50);
    // The next attempt does not start before its time.
    for (const wait of waits) {
      const next = updates().find((u) => u.version > wait.version && u.status === 'active');
      expect(Date.parse(next!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(wait.retryAt!) - 50);
    }
  });

  it('runs every attempt, numbered', () => {
    const attempts = [...new Set(updates().filter((u) => u.status === 'active').map((u) => u.attempt))];
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('fails only after the last attempt, once', async () => {
    expect(updates().filter((u) => u.status === 'failed')).toHaveLength(1);
    const final = updates().at(-1)!;
    expect(final).toMatchObject({ status: 'failed', stage: 'done', attempt: 3, maxAttempts: 3, retryAt: null, error: { code: 'http_error' } });
    expect((await api(ctx.app.server.url, `/api/jobs/${final.id}`)).body).toEqual({ ...final, canControl: true });
  });
});

describe('when the source answers 404', () => {
  it('fails at once, on the first attempt, without a retry', () => {
    expect(missing.some((u) => u.stage === 'retrying')).toBe(false);
    expect(missing.filter((u) => u.status === 'active').map((u) => u.attempt)).toEqual([1]);
    expect(missing.at(-1)).toMatchObject({ status: 'failed', attempt: 1, maxAttempts: 3, retryAt: null, error: { code: 'http_error' } });
  });
});
