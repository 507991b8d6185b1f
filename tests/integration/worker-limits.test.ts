/**
 * The download limits as a deployment sets them: from the environment of real processes, on
 * real jobs against the loopback fixture. Small limits, so each one is hit within moments,
 * and one job just inside each limit, so a limit that refused everything would show.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { startWorker } from '../utils/app-processes';
import { fixtureSha256 } from '../utils/file-server';
import { latest, recordUpdates, subscribe } from '../utils/job-client';
import { postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const MAX_BYTES = 100_000;
const MAX_REDIRECTS = 2;
const IDLE_MS = 500;
const ATTEMPTS = 3;
/** Bytes a second, and the window they are counted over. */
const MIN_SPEED = 5_000;
const MIN_SPEED_WINDOW_MS = 2_000;

const ctx = useWatchingApp({
  workers: 0,
  // The server reads DOWNLOAD_ATTEMPTS and RETRY_BACKOFF_MS (they go with each job into the
  // queue); the worker reads the limits.
  env: {
    MAX_DOWNLOAD_BYTES: String(MAX_BYTES),
    MAX_REDIRECTS: String(MAX_REDIRECTS),
    IDLE_TIMEOUT_MS: String(IDLE_MS),
    DOWNLOAD_ATTEMPTS: String(ATTEMPTS),
    MIN_SPEED_BYTES_PER_S: String(MIN_SPEED),
    MIN_SPEED_WINDOW_MS: String(MIN_SPEED_WINDOW_MS),
    RETRY_BACKOFF_MS: '100',
  },
});

/** Fixture paths, each made unique by its seed so the fixture's request log tells them apart. */
const PATHS = {
  atLimit: `/file/${MAX_BYTES}?seed=at-limit`,
  overLimit: `/file/${MAX_BYTES + 1}?seed=over-limit`,
  atLimitNoLength: `/file/${MAX_BYTES}?seed=at-limit-nolength&nolength=1`,
  overLimitNoLength: `/file/${4 * MAX_BYTES}?seed=over-limit-nolength&nolength=1`,
  redirectsAtLimit: `/redirect/${MAX_REDIRECTS}?to=${encodeURIComponent('/file/16?seed=two-hops')}`,
  redirectsOverLimit: `/redirect/${MAX_REDIRECTS + 1}?to=${encodeURIComponent('/file/16?seed=three-hops')}`,
  stall: '/stall/1000',
  // Slower in total than the idle limit, but never silent for long: 2 KB every 50 ms, 1.6 s in all.
  slowButSteady: '/file/64000?seed=steady&rate=40000',
  // A fifth of the minimum speed, never silent long enough for the idle limit.
  trickle: '/file/64000?seed=trickle&rate=1000',
};
type Case = keyof typeof PATHS;

/** Every state the tab was sent for each job, in version order, once the job has ended. */
const runs = new Map<Case, JobView[]>();

beforeAll(async () => {
  const watched = await Promise.all((Object.keys(PATHS) as Case[]).map(watch));
  // The worker starts once the tab watches every job, so the tab sees each job's every state.
  ctx.app.workers.push(await startWorker(ctx.app.settings.env));
  await Promise.all(
    watched.map(async ({ name, updates }) => {
      await waitFor(`the ${name} job to end`, () => ['completed', 'failed'].includes(latest(updates)?.status ?? ''), 20_000);
      runs.set(name, [...updates].sort((a, b) => a.version - b.version));
    }),
  );
}, 60_000);

async function watch(name: Case) {
  const { status, body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}${PATHS[name]}`);
  if (status !== 201) throw new Error(`the server refused the ${name} job: ${status} ${JSON.stringify(job)}`);
  const updates = recordUpdates(ctx.tab, job.id);
  await subscribe(ctx.tab, job.id);
  return { name, updates };
}

const final = (name: Case) => runs.get(name)!.at(-1)!;
const attemptsRun = (name: Case) => [...new Set(runs.get(name)!.filter((u) => u.status === 'active').map((u) => u.attempt))];
const requestsFor = (fixturePath: string) => ctx.files.requests.filter((r) => r.path === fixturePath).length;
const folderOf = (job: JobView) => path.join(ctx.app.settings.dataDir, job.id);

/** Failed with `code` on the first attempt, the fixture asked once, nothing left on disk. */
function expectFailedAtOnce(name: Case, code: string) {
  expect(final(name)).toMatchObject({ status: 'failed', attempt: 1, maxAttempts: ATTEMPTS, retryAt: null, error: { code } });
  expect(runs.get(name)!.some((u) => u.stage === 'retrying')).toBe(false);
  expect(requestsFor(PATHS[name])).toBe(1);
  expect(existsSync(folderOf(final(name)))).toBe(false);
}

describe('when a file is larger than MAX_DOWNLOAD_BYTES', () => {
  it('fails too_large at once, without a retry, when Content-Length says so', () => {
    expectFailedAtOnce('overLimit', 'too_large');
  });

  it('fails too_large at once, without a retry, when the bytes are counted (no Content-Length)', () => {
    expectFailedAtOnce('overLimitNoLength', 'too_large');
  });

  it('downloads a file of exactly MAX_DOWNLOAD_BYTES, with or without Content-Length', () => {
    expect(final('atLimit')).toMatchObject({ status: 'completed', bytesReceived: MAX_BYTES, sha256: fixtureSha256(MAX_BYTES, 'at-limit') });
    expect(final('atLimitNoLength')).toMatchObject({ status: 'completed', bytesReceived: MAX_BYTES, sha256: fixtureSha256(MAX_BYTES, 'at-limit-nolength') });
  });
});

describe('when a source redirects more often than MAX_REDIRECTS', () => {
  it('fails too_many_redirects at once, without following the last one', () => {
    expectFailedAtOnce('redirectsOverLimit', 'too_many_redirects');
    expect(requestsFor('/file/16?seed=three-hops')).toBe(0);
  });

  it('follows MAX_REDIRECTS redirects', () => {
    expect(final('redirectsAtLimit')).toMatchObject({ status: 'completed', sha256: fixtureSha256(16, 'two-hops') });
  });
});

describe('when a source stalls mid-body for longer than IDLE_TIMEOUT_MS', () => {
  it('fails the attempt with idle_timeout and retries it automatically', () => {
    const waits = runs.get('stall')!.filter((u) => u.stage === 'retrying');
    expect(waits.map((u) => u.attempt)).toEqual([2, 3]);
    for (const wait of waits) expect(wait).toMatchObject({ status: 'queued', error: { code: 'idle_timeout' } });
    expect(attemptsRun('stall')).toEqual([1, 2, 3]);
    expect(requestsFor(PATHS.stall)).toBe(ATTEMPTS);
  });

  it('gives each attempt IDLE_TIMEOUT_MS, then fails the job after the last one', () => {
    const updates = runs.get('stall')!;
    const started = Date.parse(updates.find((u) => u.status === 'active')!.updatedAt);
    const firstWait = Date.parse(updates.find((u) => u.stage === 'retrying')!.updatedAt);
    expect(firstWait - started).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(final('stall')).toMatchObject({ status: 'failed', attempt: ATTEMPTS, error: { code: 'idle_timeout' } });
  });

  it('does not time out a slow source that keeps sending', () => {
    expect(final('slowButSteady')).toMatchObject({ status: 'completed', attempt: 1, sha256: fixtureSha256(64_000, 'steady') });
  });
});

describe('when a source sends more slowly than MIN_SPEED_BYTES_PER_S over a whole window', () => {
  it('fails each attempt with too_slow, continues the partial file in the next, and fails after the last', () => {
    const updates = runs.get('trickle')!;
    const waits = updates.filter((u) => u.stage === 'retrying');
    expect(waits.map((u) => u.attempt)).toEqual([2, 3]);
    for (const wait of waits) expect(wait).toMatchObject({ status: 'queued', error: { code: 'too_slow' } });
    expect(final('trickle')).toMatchObject({ status: 'failed', attempt: ATTEMPTS, error: { code: 'too_slow' } });
    // The later attempts asked for the rest only.
    const asked = ctx.files.requests.filter((r) => r.path === PATHS.trickle);
    expect(asked).toHaveLength(ATTEMPTS);
    expect(asked.slice(1).every((r) => /^bytes=[1-9]\d*-$/.test(r.range ?? ''))).toBe(true);
  });
});

describe('when the disk has less free space than MIN_FREE_BYTES', () => {
  const DISK_PATHS = {
    withLength: '/file/64000?seed=disk-length',
    noLength: '/file/64000?seed=disk-nolength&nolength=1',
  };
  const ended = new Map<string, JobView>();

  beforeAll(async () => {
    // The jobs above ran with the default reserve, and those inside every limit completed. This
    // worker runs alone, with a reserve larger than any disk: the one above would take the jobs too.
    await Promise.all(ctx.app.workers.map((worker) => worker.stop()));
    ctx.app.workers.length = 0;
    const watched = await Promise.all(
      Object.entries(DISK_PATHS).map(async ([name, fixturePath]) => {
        const { status, body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}${fixturePath}`);
        if (status !== 201) throw new Error(`the server refused the ${name} job: ${status} ${JSON.stringify(job)}`);
        const updates = recordUpdates(ctx.tab, job.id);
        await subscribe(ctx.tab, job.id);
        return { name, updates };
      }),
    );
    ctx.app.workers.push(await startWorker({ ...ctx.app.settings.env, MIN_FREE_BYTES: '1000000000000000' }));
    await Promise.all(
      watched.map(async ({ name, updates }) => {
        ended.set(name, await waitFor(`the ${name} job to end`, () => (['completed', 'failed'].includes(latest(updates)?.status ?? '') ? latest(updates) : null), 20_000));
      }),
    );
  }, 60_000);

  it.each(Object.keys(DISK_PATHS))('fails disk_full at once, without a retry, and leaves no file (%s)', (name) => {
    const job = ended.get(name)!;
    expect(job).toMatchObject({ status: 'failed', attempt: 1, retryAt: null, error: { code: 'disk_full' } });
    expect(job.error!.message).toMatch(/kept in reserve/);
    expect(requestsFor(DISK_PATHS[name as keyof typeof DISK_PATHS])).toBe(1);
    expect(existsSync(folderOf(job))).toBe(false);
  });
});
