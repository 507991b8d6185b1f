/**
 * Many small jobs, end to end: 8 clients POST single-URL jobs of a 64 KiB file to a real server
 * node (`POST /api/jobs`: checks, admission, the stored record, the queue) and one real worker
 * process downloads them (slot share, stored states, events, the engine with its guards and
 * SHA-256), against a bare BullMQ worker with the same concurrency whose jobs only GET, hash and
 * write the same file, added by 8 producers. Jobs per second from the first submit to the last
 * completion. Each round starts its own processes on a database and a Redis prefix of its own,
 * so no round pays for the records of another.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { JOBS_COLLECTION } from '../../lib/infra/job-store';
import { DOWNLOAD_QUEUE } from '../../lib/infra/queue';
import { startServer, startWorker, type ServerProcess } from '../../tests/utils/app-processes';
import { deleteRedisPrefix, dropDatabase } from '../../tests/utils/cleanup';
import { fixtureSha256 } from '../../tests/utils/file-server';
import type { BareDownloadData } from '../bare-download-worker';
import { alternate, startHelperProcess, type Scenario, stopProcess } from '../harness';
import { startBenchServices } from '../services';

const SIZE = 64 * 1024;
const SEED = 'small-jobs';
const SUBMITTERS = 8;
/**
 * Downloads in flight per worker, on both sides. A 64 KiB job is all latency (a queue take, a
 * connection, a few store writes), so many in flight are needed to keep two cores busy; 32 does,
 * while a few hundred would only queue up at the store.
 */
const CONCURRENCY = 32;
/** Jobs run and finished before the clock starts, so neither side is timed while it warms up. */
const WARM_UP = 16;
/** How long the finished count may stand still before a round gives up. */
const STALL_MS = 60_000;

interface Round {
  jobsPerSecond: number;
  /** Submits per second while the submitters ran. */
  submitsPerSecond: number;
  /** Timed jobs completed with the fixture's SHA-256. */
  right: number;
}

/** `count` calls of `work`, shared out among `loops` loops that run at once, each in order. */
async function inLoops(count: number, loops: number, work: (loop: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = loop; i < count; i += loops) await work(loop);
    }),
  );
}

/** Polls `finished` once a second until it reaches `total`; throws if it stops moving. */
async function waitForFinished(total: number, finished: () => Promise<number>, what: string): Promise<void> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const done = await finished();
    if (done >= total) return;
    if (done !== last) [last, movedAt] = [done, Date.now()];
    else if (Date.now() - movedAt > STALL_MS) throw new Error(`${what}: ${done} of ${total} jobs finished, none for ${STALL_MS / 1000} s`);
    await sleep(1000);
  }
}

/** The same server, another database name. */
function otherDatabase(uri: string, name: string): string {
  return uri.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
}

export const smallJobs: Scenario = {
  name: 'small-jobs',
  title: `2,000 × 64 KiB jobs, ${SUBMITTERS} concurrent submitters: the app end to end against a bare BullMQ worker doing the same downloads`,
  async run({ quick }) {
    const count = quick ? 150 : Number(process.env.BENCH_JOBS ?? 2000);
    const rounds = quick ? 1 : 2;
    const services = await startBenchServices();
    const fixture = await startHelperProcess<{ url: string }>('serve-fixture.ts');
    const url = `${fixture.ready.url}/file/${SIZE}?seed=${SEED}`;
    const expected = fixtureSha256(SIZE, SEED);
    const base = services.env;
    const database = new URL(base.MONGODB_URI).pathname.slice(1);
    let roundNumber = 0;

    const app = async (): Promise<Round> => {
      const tag = `app${++roundNumber}`;
      const env = {
        ...base,
        MONGODB_URI: otherDatabase(base.MONGODB_URI, `${database}_${tag}`),
        REDIS_PREFIX: `${base.REDIS_PREFIX}-${tag}`,
        DATA_DIR: path.join(base.DATA_DIR, tag),
        WORKER_CONCURRENCY: String(CONCURRENCY),
        JOBS_PER_MINUTE: '0',
        JOBS_PER_MINUTE_PER_IP: '0',
        MAX_OPEN_JOBS: '0',
        // startServer waits for the "server listening" line.
        LOG_LEVEL: 'info',
        NEXT_TELEMETRY_DISABLED: '1',
      };
      const processes = await Promise.allSettled([startServer(env, 'production', 0, 'compiled'), startWorker(env, 'compiled')]);
      const mongo = new MongoClient(env.MONGODB_URI);
      const connection = new Redis(base.REDIS_URL, { maxRetriesPerRequest: null });
      const queue = new Queue(DOWNLOAD_QUEUE, { connection, prefix: env.REDIS_PREFIX });
      try {
        const failed = processes.find((p) => p.status === 'rejected');
        if (failed) throw failed.reason;
        const server = (processes[0] as PromiseFulfilledResult<ServerProcess>).value;
        const jobs = (await mongo.connect()).db().collection(JOBS_COLLECTION);
        // Each submitter keeps the owner cookie it is given, as a browser or a cookie jar would.
        const cookies: string[] = Array.from({ length: SUBMITTERS }, () => '');
        const submit = async (loop: number) => {
          const response = await fetch(`${server.url}/api/jobs`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...(cookies[loop] ? { Cookie: cookies[loop] } : {}) },
            body: JSON.stringify({ url }),
          });
          const body = await response.text();
          if (response.status !== 201) throw new Error(`POST /api/jobs answered ${response.status}: ${body}`);
          const owner = response.headers.getSetCookie().find((c) => c.startsWith('ld_owner='));
          if (owner) cookies[loop] = owner.split(';')[0];
        };
        // Counted in BullMQ, as on the bare side: a job ends there only once its final state is
        // stored. Counting stored records instead had the store read all of them every second
        // (FerretDB filters in its own process), a load only the app's side paid for.
        const finished = async () => {
          const counts = await queue.getJobCounts('completed', 'failed');
          return counts.completed + counts.failed;
        };

        await inLoops(WARM_UP, SUBMITTERS, submit);
        await waitForFinished(WARM_UP, finished, 'app warm-up');
        const started = Date.now();
        await inLoops(count, SUBMITTERS, submit);
        const submitted = Date.now();
        await waitForFinished(WARM_UP + count, finished, 'app');
        // The worker's own time of the last completion (stored with the job's final state).
        const records = await jobs.find({}, { projection: { status: 1, sha256: 1, finishedAt: 1 } }).toArray();
        const last = Math.max(...records.map((r) => new Date(r.finishedAt as Date).getTime()));
        const right = records.filter((r) => r.status === 'completed' && r.sha256 === expected).length - WARM_UP;
        return { jobsPerSecond: count / ((last - started) / 1000), submitsPerSecond: count / ((submitted - started) / 1000), right };
      } finally {
        await mongo.close();
        await queue.close();
        connection.disconnect();
        await Promise.all(processes.map((p) => (p.status === 'fulfilled' ? p.value.stop() : undefined)));
        await dropDatabase(env.MONGODB_URI).catch(() => undefined);
        await deleteRedisPrefix(base.REDIS_URL, env.REDIS_PREFIX).catch(() => undefined);
        await rm(env.DATA_DIR, { recursive: true, force: true });
      }
    };

    const bare = async (): Promise<Round> => {
      const tag = `bare${++roundNumber}`;
      const prefix = `${base.REDIS_PREFIX}-${tag}`;
      const directory = path.join(base.DATA_DIR, tag);
      await mkdir(directory, { recursive: true });
      const worker = await startHelperProcess<{ ready: boolean }>('bare-download-worker.ts', { REDIS_URL: base.REDIS_URL }, ['downloads', prefix, String(CONCURRENCY), directory]);
      const connection = new Redis(base.REDIS_URL, { maxRetriesPerRequest: null });
      const queue = new Queue<BareDownloadData, string>('downloads', { connection, prefix });
      try {
        const submit = async () => void (await queue.add('download', { url }));
        const finished = async () => {
          const counts = await queue.getJobCounts('completed', 'failed');
          return counts.completed + counts.failed;
        };
        await inLoops(WARM_UP, SUBMITTERS, submit);
        await waitForFinished(WARM_UP, finished, 'bare warm-up');
        const started = Date.now();
        await inLoops(count, SUBMITTERS, submit);
        const submitted = Date.now();
        await waitForFinished(WARM_UP + count, finished, 'bare');
        const completed = await queue.getJobs(['completed'], 0, -1);
        const last = Math.max(...completed.map((job) => job.finishedOn ?? 0));
        const right = completed.filter((job) => job.returnvalue === expected).length - WARM_UP;
        return { jobsPerSecond: count / ((last - started) / 1000), submitsPerSecond: count / ((submitted - started) / 1000), right };
      } finally {
        await queue.close();
        connection.disconnect();
        await stopProcess(worker.child);
        await deleteRedisPrefix(base.REDIS_URL, prefix).catch(() => undefined);
        await rm(directory, { recursive: true, force: true });
      }
    };

    try {
      const results = await alternate(rounds, { bare, app });
      const best = (rs: Round[]) => Math.max(...rs.map((r) => r.jobsPerSecond));
      const [appSpeed, bareSpeed] = [best(results.app), best(results.bare)];
      const everyRight = [...results.app, ...results.bare].every((r) => r.right === count);
      const each = (rs: Round[]) => rs.map((r) => `${r.jobsPerSecond.toFixed(0)} jobs/s, submitted at ${r.submitsPerSecond.toFixed(0)}/s`).join('; ');
      return {
        lines: [
          `${count} jobs of ${SIZE / 1024} KiB, ${SUBMITTERS} submitters, concurrency ${CONCURRENCY}; best of ${rounds} alternating round(s), first submit to last completion`,
          `app (POST /api/jobs, server + worker)  ${appSpeed.toFixed(0).padStart(6)} jobs/s  (rounds: ${each(results.app)})`,
          `bare BullMQ worker (GET, SHA-256, file) ${bareSpeed.toFixed(0).padStart(6)} jobs/s  (rounds: ${each(results.bare)})`,
        ],
        checks: [
          { label: 'every job completed with the right SHA-256', value: everyRight ? 1 : 0, bound: 'min', goal: 1, unit: '', kind: 'outcome' },
          { label: 'app / bare BullMQ worker, jobs per second', value: appSpeed / bareSpeed, bound: 'min', goal: 0.15, unit: '×' },
        ],
      };
    } finally {
      fixture.child.kill('SIGTERM');
      await services.stop();
    }
  },
};
