/**
 * The worker's own address guard, end to end: the server here allows private addresses (so the
 * submit is accepted), the worker does not. Every target is the loopback fixture, under each
 * spelling of it, and the fixture counts the connections it accepts: none may arrive, even if
 * the guard were broken nothing could leave loopback.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { startWorker } from '../utils/app-processes';
import { latest, recordUpdates, subscribe } from '../utils/job-client';
import { postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

// Several attempts and a short backoff: a retry, if the guard's failure were taken for a
// transient one, would show within the test's time.
const ctx = useWatchingApp({ workers: 0, env: { DOWNLOAD_ATTEMPTS: '3', RETRY_BACKOFF_MS: '100' } });

/** Host spellings that all mean 127.0.0.1 (or, for `localhost`, whatever loopback it names). */
const SPELLINGS = ['127.0.0.1', '127.1', '2130706433', '0x7f000001', '[::ffff:127.0.0.1]', 'localhost'];

const ended = new Map<string, { job: JobView; updates: JobView[] }>();

beforeAll(async () => {
  const watched = await Promise.all(SPELLINGS.map(watch));
  // Started once every job is watched, so the tab sees each job's every state.
  ctx.app.workers.push(await startWorker({ ...ctx.app.settings.env, ALLOW_PRIVATE_ADDRESSES: 'false' }));
  await Promise.all(
    watched.map(async ({ host, updates }) => {
      const job = await waitFor(`the job for ${host} to end`, () => {
        const shown = latest(updates);
        return shown && ['completed', 'failed'].includes(shown.status) ? shown : null;
      }, 15_000);
      ended.set(host, { job, updates });
    }),
  );
}, 60_000);

/** Submits a job for the fixture under `host` and records every state the tab is sent. */
async function watch(host: string) {
  const { status, body: job } = await postJob(ctx.app.server.url, `http://${host}:${ctx.files.port}/file/1024?seed=guard`);
  if (status !== 201) throw new Error(`the server refused the job for ${host}: ${status} ${JSON.stringify(job)}`);
  const updates = recordUpdates(ctx.tab, job.id);
  await subscribe(ctx.tab, job.id);
  return { host, updates };
}

describe('when the worker refuses private addresses and the server does not', () => {
  it.each(SPELLINGS)('fails a job for %s with blocked_destination', (host) => {
    expect(ended.get(host)?.job).toMatchObject({ status: 'failed', stage: 'done', error: { code: 'blocked_destination' } });
  });

  it.each(SPELLINGS)('fails the job for %s on its first attempt, without a retry', (host) => {
    const { job, updates } = ended.get(host)!;
    expect(job).toMatchObject({ attempt: 1, maxAttempts: 3, retryAt: null });
    expect(updates.some((u) => u.stage === 'retrying')).toBe(false);
    expect(updates.filter((u) => u.status === 'active').map((u) => u.attempt)).toEqual([1]);
  });

  it('never connects to the fixture', () => {
    expect(ctx.files.connections).toBe(0);
    expect(ctx.files.requests).toEqual([]);
  });

  it('leaves no folder behind', () => {
    for (const { job } of ended.values()) expect(existsSync(path.join(ctx.app.settings.dataDir, job.id))).toBe(false);
  });
});
