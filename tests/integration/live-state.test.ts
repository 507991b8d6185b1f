/**
 * The live state kept in Redis answers snapshots only when it is newer than the stored one, by
 * the same rule as every tab, and only when it is a state of that very job. Against real Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { newJob } from '../../lib/server/job-service';
import type { JobView } from '../../lib/domain/job';
import { createLiveStates, type LiveStates } from '../../lib/job-events/live-state';
import { deleteRedisPrefix } from '../utils/cleanup';
import { testRedisUrl } from '../utils/services-env';

const prefix = `test-live-${randomUUID().slice(0, 8)}`;
let redis: Redis;
let live: LiveStates;

beforeAll(() => {
  redis = new Redis(testRedisUrl());
  live = createLiveStates(redis, prefix);
});

afterAll(async () => {
  await redis?.quit();
  await deleteRedisPrefix(testRedisUrl(), prefix);
});

const later = (job: JobView, change: Partial<JobView>): JobView => ({ ...job, ...change });

describe('when a snapshot is read', () => {
  it('takes the live state when it is further along', async () => {
    const stored = newJob('http://files.test/a.iso');
    const sent = later(stored, { status: 'active', bytesReceived: 500, version: stored.version + 10 });
    await live.remember(sent);
    expect(await live.newest(stored)).toEqual(sent);
  });

  it('keeps the stored state of a later run, whatever version the live one has', async () => {
    const job = newJob('http://files.test/b.iso');
    await live.remember(later(job, { status: 'active', version: job.version + 1_000 }));
    const retried = later(job, { status: 'queued', run: 2, version: job.version + 5 });
    expect(await live.newest(retried)).toEqual(retried);
  });

  it('keeps a stored finished state over later progress of its run', async () => {
    const job = newJob('http://files.test/c.iso');
    await live.remember(later(job, { status: 'active', version: job.version + 20 }));
    const cancelled = later(job, { status: 'cancelled', version: job.version + 10 });
    expect(await live.newest(cancelled)).toEqual(cancelled);
  });

  it('ignores a damaged value or the state of another job', async () => {
    const job = newJob('http://files.test/d.iso');
    await redis.set(`${prefix}:live-job:${job.id}`, '{not json');
    expect(await live.newest(job)).toEqual(job);
    const other = newJob('http://files.test/e.iso');
    await redis.set(`${prefix}:live-job:${job.id}`, JSON.stringify({ ...other, version: job.version + 99 }));
    expect(await live.newest(job)).toEqual(job);
  });
});
