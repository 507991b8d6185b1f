/**
 * Slow clients never cost the server memory. One socket stops reading while a job's updates
 * flow ten times a second (and other jobs' large states fill its buffers within a second or
 * two): the server keeps only the newest state of each job for it, closes it once it has
 * stayed behind for SLOW_CLIENT_MS, and its next subscribe brings it up to date. Meanwhile the
 * server's memory stays flat and a socket that reads goes on receiving every update as fast
 * as before.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { JobView } from '../../lib/domain/job';
import { createJobEvents, type JobEvents } from '../../lib/job-events/redis';
import { createTestSettings, startServer, type ServerProcess, type TestSettings } from '../utils/app-processes';
import { deleteRedisPrefix, dropDatabase } from '../utils/cleanup';
import { connectClient, subscribe, type JobSocket } from '../utils/job-client';
import { testRedisUrl } from '../utils/services-env';
import { postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

const SLOW_CLIENT_MS = 2_000;
const TICK_MS = 100; // the steady job's ten updates a second
const BULK_JOBS = 2;
const BULK_STATE_BYTES = 256 * 1024; // 5 MB a second in all: more than loopback buffers hold for long
const MB = 1024 * 1024;

let settings: TestSettings;
let server: ServerProcess;
let redis: Redis;
let events: JobEvents;
const sockets: JobSocket[] = [];

beforeAll(async () => {
  // The server's info lines tell when it closed the stuck socket.
  settings = await createTestSettings({ SLOW_CLIENT_MS: String(SLOW_CLIENT_MS), LOG_LEVEL: 'info' });
  server = await startServer(settings.env);
  redis = new Redis(testRedisUrl());
  // What workers publish with: the test plays the workers.
  events = createJobEvents(redis, String(settings.env.REDIS_PREFIX), pino({ level: 'silent' }));
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await server?.stop();
  redis?.disconnect();
  if (settings) {
    await deleteRedisPrefix(String(settings.env.REDIS_URL), String(settings.env.REDIS_PREFIX));
    await dropDatabase(String(settings.env.MONGODB_URI));
    await settings.cleanup();
  }
}, 30_000);

async function client(): Promise<JobSocket> {
  const socket = await connectClient(server.url);
  sockets.push(socket);
  return socket;
}

/** The server process's resident memory, in bytes. */
async function serverRss(): Promise<number> {
  const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmRSS in /proc/${server.child.pid}/status`);
  return Number(kb[1]) * 1024;
}

/** A socket.io client's WebSocket, whose reading can be paused like a stuck browser's. */
function webSocketOf(socket: JobSocket): { pause(): void; resume(): void } {
  return (socket.io.engine.transport as unknown as { ws: { pause(): void; resume(): void } }).ws;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's log line for the stuck socket it closed, if it has written it yet. */
function closedLine(output: string): Record<string, unknown> | undefined {
  const line = output.split('\n').slice(0, -1).find((l) => l.includes('"closed a socket that stayed behind"'));
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Every state one socket receives, by job, with when it arrived. */
function recordAll(socket: JobSocket) {
  const received = new Map<string, { job: JobView; at: number }[]>();
  socket.on('job:update', (job) => {
    const list = received.get(job.id) ?? [];
    list.push({ job, at: performance.now() });
    received.set(job.id, list);
  });
  return received;
}

describe('when one socket stops reading while updates flow', () => {
  let steady: JobView;
  let bulk: JobView[];
  let version = 0;
  /** When each steady version was published. */
  const publishedAt = new Map<number, number>();
  const padding = 'x'.repeat(BULK_STATE_BYTES);

  /** One tick of the flow: the steady job's next state and one large state of each bulk job. */
  function publishTick(): void {
    version += 1;
    publishedAt.set(version, performance.now());
    events.publisher.publish({ ...steady, status: 'active', stage: 'downloading', bytesReceived: version, version: steady.version + version });
    for (const job of bulk) {
      events.publisher.publish({ ...job, status: 'active', stage: 'downloading', bytesReceived: version, notice: padding, version: job.version + version });
    }
  }

  /** Publishes a tick every TICK_MS until `done` says so; returns how many. */
  async function flow(done: (ticks: number) => boolean): Promise<number> {
    let ticks = 0;
    const start = performance.now();
    while (!done(ticks)) {
      publishTick();
      ticks += 1;
      // Paced by the clock, not by the last wait: a busy machine does not slow the flow.
      await pause(Math.max(0, start + ticks * TICK_MS - performance.now()));
    }
    return ticks;
  }

  /** For each steady version in [from, to]: how long until `received` held it or a newer one. */
  function latencies(received: Map<string, { job: JobView; at: number }[]>, from: number, to: number): number[] {
    const states = received.get(steady.id) ?? [];
    const result: number[] = [];
    for (let v = from; v <= to; v++) {
      const seen = states.find((s) => s.job.version >= steady.version + v);
      if (seen) result.push(seen.at - publishedAt.get(v)!);
    }
    return result;
  }

  it('keeps the server flat, closes the stuck socket, and leaves the others as fast as before', async () => {
    const created = await Promise.all(Array.from({ length: 1 + BULK_JOBS }, (_, i) => postJob(server.url, `http://127.0.0.1:9/file-${i}`)));
    const jobs = created.map(({ body }) => body as JobView);
    [steady, ...bulk] = jobs;

    const reader = await client();
    const stuck = await client();
    const readerGot = recordAll(reader);
    const stuckGot = recordAll(stuck);
    const stuckClosed = new Promise<string>((resolve) => stuck.once('disconnect', resolve));
    for (const job of jobs) {
      expect(await subscribe(reader, job.id)).toEqual({ ok: true, job: expect.anything() });
      expect((await subscribe(stuck, job.id)).ok).toBe(true);
    }

    // Baseline: both read. Two seconds warm the server up to this traffic.
    await flow((ticks) => ticks >= 20);
    await waitFor('both sockets to have the baseline', () =>
      [readerGot, stuckGot].every((got) => got.get(steady.id)?.at(-1)?.job.version === steady.version + version),
    );
    const baseline = latencies(readerGot, 1, version);
    const rssBefore = await serverRss();

    // One socket stops reading; the flow goes on until the server has closed it (and a while
    // after, so that anything the server kept for it would show), or gives up.
    const pausedAt = performance.now();
    webSocketOf(stuck).pause();
    const stalledFrom = version + 1;
    let closedSeenAt: number | undefined;
    const ticks = await flow((ticks) => {
      closedSeenAt ??= closedLine(server.output()) ? performance.now() : undefined;
      return (closedSeenAt !== undefined && ticks >= 50) || ticks >= 120;
    });
    await waitFor('the reader to have the last state of every job', () =>
      jobs.every((job) => readerGot.get(job.id)?.at(-1)?.job.version === job.version + version),
    );
    const rssAfter = await serverRss();

    // Memory: MBs pushed at a socket that read none of them, and the server kept none.
    expect(ticks * BULK_JOBS * BULK_STATE_BYTES).toBeGreaterThanOrEqual(25 * MB);
    expect(rssAfter - rssBefore).toBeLessThan(16 * MB);

    // The stuck socket was closed once it had stayed behind for SLOW_CLIENT_MS, holding at
    // most the newest state of each job ...
    const closed = closedLine(server.output());
    expect(closed).toMatchObject({ slowClientMs: SLOW_CLIENT_MS });
    expect(closed?.waitingJobs).toBeGreaterThanOrEqual(1);
    expect(closed?.waitingJobs).toBeLessThanOrEqual(jobs.length);
    expect(closedSeenAt! - pausedAt).toBeGreaterThanOrEqual(SLOW_CLIENT_MS);
    // ... which its client sees, once it reads again, as a lost connection (so a browser
    // reconnects by itself), after what was already on the way: some states, never all.
    const stuckBefore = stuckGot.get(steady.id)!.length;
    webSocketOf(stuck).resume();
    expect(await stuckClosed).toBe('transport close');
    expect(stuckGot.get(steady.id)!.length - stuckBefore).toBeLessThan(ticks);

    // The reader saw every steady update (or, had one been held back behind a large write, a
    // newer one in its place), in order, as fast as before the other socket got stuck.
    const readerSteady = readerGot.get(steady.id)!.map((s) => s.job.version);
    expect(readerSteady).toEqual([...readerSteady].sort((a, b) => a - b));
    const during = latencies(readerGot, stalledFrom, version);
    expect(during).toHaveLength(version - stalledFrom + 1);
    expect(percentile(during, 90)).toBeLessThan(3 * percentile(baseline, 90) + 250);

    // Its next subscribe, after reconnecting, brings it up to date.
    stuck.connect();
    await new Promise((resolve) => stuck.once('connect', () => resolve(undefined)));
    for (const job of jobs) {
      const ack = await subscribe(stuck, job.id);
      expect(ack.ok && ack.job.version).toBe(job.version + version);
    }
  }, 40_000);
});
