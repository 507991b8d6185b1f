/**
 * The job-events port over real Redis (and, for the stream, a real MongoDB-wire store): what is
 * published reaches every follower of that job in order and nobody else, subscriptions are
 * shared and released, foreign messages are ignored, and the SSE stream built on it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { jobRoom } from '../../lib/domain/events';
import type { JobView } from '../../lib/domain/job';
import { JobStore } from '../../lib/infra/job-store';
import type { JobEvent, JobEventFeed } from '../../lib/job-events/port';
import { createJobEventFeed, createJobEvents, type JobEvents } from '../../lib/job-events/redis';
import { roomChannel } from '../../lib/job-events/wire';
import { newJob } from '../../lib/server/job-service';
import { openJobStream } from '../../lib/server/job-stream';
import { dropDatabase } from '../utils/cleanup';
import { deleteRedisPrefix } from '../utils/cleanup';
import { testMongoUri, testRedisUrl } from '../utils/services-env';
import { waitFor } from '../utils/wait-for';
import { STRANGER } from '../../lib/server/identity';

const prefix = `test-events-${randomUUID().slice(0, 8)}`;
const mongoUri = testMongoUri(`test_events_${process.pid}`);
const logger = pino({ level: 'silent' });
let redis: Redis;
let mongo: MongoClient;
let jobs: JobStore;
let events: JobEvents;
let feed: JobEventFeed;

beforeAll(async () => {
  redis = new Redis(testRedisUrl());
  mongo = await new MongoClient(mongoUri).connect();
  jobs = new JobStore(mongo.db());
  events = createJobEvents(redis, prefix, logger);
  feed = createJobEventFeed(redis, prefix, logger);
});

afterAll(async () => {
  await feed?.close();
  redis?.disconnect();
  await mongo?.close();
  await deleteRedisPrefix(testRedisUrl(), prefix);
  await dropDatabase(mongoUri);
});

/** How many connections Redis says are subscribed to the job's channel. */
async function subscribers(jobId: string): Promise<number> {
  const [, count] = (await redis.pubsub('NUMSUB', roomChannel(prefix, jobRoom(jobId)))) as [string, number];
  return Number(count);
}

const step = (job: JobView, version: number, change: Partial<JobView> = {}): JobView => ({ ...job, version, ...change });

describe('when a job is followed', () => {
  it('delivers its updates and its deletion in the order they were published, and no other job', async () => {
    const job = newJob('https://example.invalid/a');
    const other = newJob('https://example.invalid/b');
    const received: JobEvent[] = [];
    const following = await feed.follow(job.id, (event) => received.push(event));
    const states = [1, 2, 3].map((n) => step(job, job.version + n, { bytesReceived: n }));
    for (const state of states) {
      events.publisher.publish(state);
      events.publisher.publish(step(other, other.version + 1));
    }
    events.publisher.deleted(other.id);
    events.publisher.deleted(job.id);
    await waitFor('the deletion', () => received.length === 4);
    expect(received).toEqual([...states.map((state) => ({ type: 'update', job: state })), { type: 'deleted', jobId: job.id }]);
    following.close();
  });

  it('shares one subscription between followers and drops it with the last', async () => {
    const job = newJob('https://example.invalid/c');
    const [a, b] = [[], []] as JobEvent[][];
    const first = await feed.follow(job.id, (event) => a.push(event));
    const second = await feed.follow(job.id, (event) => b.push(event));
    expect(await subscribers(job.id)).toBe(1);
    first.close();
    first.close(); // twice is harmless, and leaves the other follower be
    events.publisher.publish(step(job, job.version + 1));
    await waitFor('the remaining follower to get it', () => b.length === 1);
    expect(a).toEqual([]);
    second.close();
    await waitFor('the subscription to go', async () => (await subscribers(job.id)) === 0);
  });

  it('ignores messages on its channel that are not one of its events', async () => {
    const job = newJob('https://example.invalid/d');
    const received: JobEvent[] = [];
    const following = await feed.follow(job.id, (event) => received.push(event));
    const channel = roomChannel(prefix, jobRoom(job.id));
    await redis.publish(channel, 'not msgpack at all');
    await redis.publish(channel, Buffer.from([0x93, 0x01, 0x02, 0x03]));
    events.publisher.publish(newJob('https://example.invalid/e')); // another job's state…
    await redis.publish(channel, (await import('notepack.io')).encode(['x', { type: 2, data: ['job:update', { id: 'someone-else' }], nsp: '/' }, {}]));
    events.publisher.publish(step(job, job.version + 1));
    await waitFor('the real event', () => received.length > 0);
    expect(received).toEqual([{ type: 'update', job: step(job, job.version + 1) }]);
    following.close();
  });
});

describe('the event stream of a job', () => {
  const read = async (response: Response) => new TextDecoder().decode(await response.arrayBuffer());

  it('answers an unknown job with not_found and follows it no longer', async () => {
    const id = randomUUID();
    await expect(openJobStream({ feed, jobs, live: events.live }, id, { signal: new AbortController().signal, caller: STRANGER, heartbeatMs: 1000 })).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
    });
    expect(await subscribers(id)).toBe(0);
  });

  it('sends `deleted` and ends when the job is deleted while it is followed', async () => {
    const job = newJob('https://example.invalid/f');
    await jobs.insert(job, job.url);
    const response = await openJobStream({ feed, jobs, live: events.live }, job.id, { signal: new AbortController().signal, caller: STRANGER, heartbeatMs: 1000 });
    const body = read(response);
    events.publisher.publish(step(job, job.version - 1)); // older than the snapshot: not sent
    events.publisher.deleted(job.id);
    const blocks = (await body).split('\n\n');
    expect(blocks.map((block) => block.split('\n')[0])).toEqual(['event: update', 'event: deleted', '']);
    expect(JSON.parse(blocks[0].split('\ndata: ')[1])).toEqual({ ...job, canControl: false });
    expect(blocks[1]).toBe(`event: deleted\ndata: {"id":"${job.id}"}`);
    await waitFor('the subscription to go', async () => (await subscribers(job.id)) === 0);
  });

  it('stops following when the client leaves', async () => {
    const job = newJob('https://example.invalid/g');
    await jobs.insert(job, job.url);
    const leave = new AbortController();
    await openJobStream({ feed, jobs, live: events.live }, job.id, { signal: leave.signal, caller: STRANGER, heartbeatMs: 1000 });
    expect(await subscribers(job.id)).toBe(1);
    leave.abort();
    await waitFor('the subscription to go', async () => (await subscribers(job.id)) === 0);
  });
});
