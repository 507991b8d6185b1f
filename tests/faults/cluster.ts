/**
 * What every fault test runs: two server nodes and two workers as real processes, on a Redis
 * of the test's own and a MongoDB-wire server behind a gate (./parts), watchers split across
 * both nodes; and the checks every test ends with: the final state in MongoDB, in every
 * watcher, and on disk (the SHA-256 of the file itself).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect } from '@jest/globals';
import type { ClientToServerEvents, ServerToClientEvents } from '../../lib/domain/events';
import type { JobView } from '../../lib/domain/job';
import { newerJobView } from '../../lib/domain/job-state';
import { jobFilePath } from '../../lib/infra/job-files';
import { JOBS_COLLECTION } from '../../lib/infra/job-store';
import { createTestSettings, startServer, startWorker, type AppProcess, type ServerProcess, type TestSettings } from '../utils/app-processes';
import { dropDatabase } from '../utils/cleanup';
import { startFileServer, type FileServer } from '../utils/file-server';
import { testMongoUri } from '../utils/services-env';
import { startBalancer, startOwnRedis, startStoreGate, type OwnRedis, type StoreGate } from './parts';

type Watcher = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Cluster {
  settings: TestSettings;
  redis: OwnRedis;
  store: StoreGate;
  servers: ServerProcess[];
  workers: AppProcess[];
  /** Submits through node `node`; returns the job as answered. */
  submit(url: string, node?: number): Promise<JobView>;
  /**
   * `count` watchers of `jobId`, through the balancer, so they split across both nodes; each
   * reconnects as a tab does, and keeps the newest state it was sent.
   */
  watch(jobId: string, count?: number): Array<() => JobView | undefined>;
  /**
   * Stops every server and worker with SIGTERM, at once, as a machine shutting down does, then
   * starts two of each again on the same settings; resolves with the exit codes of the old ones.
   */
  restart(): Promise<Array<number | null>>;
  /** The log lines of every server and worker this cluster ran, stopped ones included. */
  logLines(): string[];
  /** How many watchers were told by their node that live updates paused (`live:paused`). */
  pausedWatchers(): number;
  /** The job as MongoDB holds it. */
  stored(jobId: string): Promise<Record<string, unknown> | null>;
  /** The SHA-256 of a completed job's file, read from disk. */
  fileSha256(job: JobView): Promise<string>;
  stop(): Promise<void>;
}

export async function startCluster(env: Record<string, string> = {}): Promise<Cluster> {
  const redis = await startOwnRedis();
  const database = `faults_${randomUUID().slice(0, 8)}`;
  const store = await startStoreGate(testMongoUri(database));
  const settings = await createTestSettings({ REDIS_URL: redis.url, MONGODB_URI: store.uri(database), REDIS_PREFIX: 'faults', ...env });
  const mongo = new MongoClient(testMongoUri(database));
  const sockets: Watcher[] = [];
  /** Processes stopped by `restart`, kept for their logs. */
  const retired: AppProcess[] = [];
  /** The watchers a node told that its live updates paused. */
  const paused = new Set<Watcher>();
  const started = await Promise.allSettled([startServer(settings.env), startServer(settings.env), startWorker(settings.env), startWorker(settings.env)]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
    await Promise.all([mongo.close(), store.close(), redis.stop(), settings.cleanup()]);
    throw (failed as PromiseRejectedResult).reason;
  }
  const [first, second, ...workers] = started.map((result) => (result as PromiseFulfilledResult<AppProcess>).value);
  const servers = [first, second] as ServerProcess[];
  const balancer = await startBalancer(() => cluster.servers.map((server) => server.url));

  const cluster: Cluster = {
    settings,
    redis,
    store,
    servers,
    workers,
    async submit(url, node = 0) {
      const response = await fetch(`${cluster.servers[node].url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url }) });
      if (response.status !== 201) throw new Error(`POST /api/jobs: ${response.status} ${await response.text()}`);
      return (await response.json()) as JobView;
    },
    watch(jobId, count = 4) {
      return Array.from({ length: count }, () => {
        let shown: JobView | undefined;
        const socket: Watcher = io(balancer.url, { transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 500 });
        sockets.push(socket);
        const keep = (job: JobView) => {
          if (job.id === jobId) shown = shown ? newerJobView(shown, job) : job;
        };
        socket.on('job:update', keep);
        // Every (re)connection subscribes again, as the browser does: that is how a tab catches
        // up; so does the node's word that it hears the workers again.
        const subscribe = () => {
          void socket.timeout(10_000).emitWithAck('job:subscribe', jobId).then((ack) => ack.ok && keep(ack.job), () => undefined);
        };
        socket.on('connect', subscribe);
        socket.on('live:resumed', subscribe);
        socket.on('live:paused', () => paused.add(socket));
        return () => shown;
      });
    },
    pausedWatchers: () => paused.size,
    async restart() {
      const old = [...cluster.servers, ...cluster.workers];
      retired.push(...old);
      const exits = old.map((p) => new Promise<number | null>((resolve) => (p.child.exitCode !== null ? resolve(p.child.exitCode) : p.child.once('exit', (code) => resolve(code)))));
      await Promise.all(old.map((p) => p.stop()));
      const [one, two, ...workers] = await Promise.all([startServer(settings.env), startServer(settings.env), startWorker(settings.env), startWorker(settings.env)]);
      cluster.servers = [one, two] as ServerProcess[];
      cluster.workers = workers;
      return Promise.all(exits);
    },
    logLines: () => [...retired, ...cluster.servers, ...cluster.workers].flatMap((p) => p.output().split('\n')),
    stored: (jobId) => mongo.db().collection(JOBS_COLLECTION).findOne({ _id: jobId as never }),
    async fileSha256(job) {
      const file = jobFilePath(String(settings.dataDir), job.id, job.fileName ?? '');
      if (!file) throw new Error(`job ${job.id} has no file name`);
      return createHash('sha256').update(await readFile(file)).digest('hex');
    },
    async stop() {
      for (const socket of sockets) socket.disconnect();
      await Promise.all([...cluster.servers, ...cluster.workers].map((p) => p.stop()));
      await balancer.close();
      await mongo.close();
      await store.close();
      await redis.stop();
      await dropDatabase(testMongoUri(database));
      await settings.cleanup();
    },
  };
  return cluster;
}

/** The checks every fault test ends with, for a job that must have completed with `sha256`. */
export async function expectCompletedEverywhere(cluster: Cluster, job: JobView, watchers: Array<() => JobView | undefined>, sha256: string): Promise<void> {
  const stored = await cluster.stored(job.id);
  expect(stored).toMatchObject({ status: 'completed', sha256 });
  for (const shown of watchers) expect(shown()).toMatchObject({ status: 'completed', sha256 });
  expect(await cluster.fileSha256({ ...job, fileName: (stored?.fileName as string) ?? job.fileName })).toBe(sha256);
}

/** One line of the table a fault test file prints at its end. */
export interface Recovery {
  fault: string;
  submitted: number;
  completed: number;
  /** Jobs not completed: must be 0. */
  lost: number;
  /** From the fault's end (the part back, the process gone) to the last job stored completed. */
  recoveredInS: number;
}

export interface FaultFile {
  readonly cluster: Cluster;
  readonly files: FileServer;
  /** Counts `jobIds` in MongoDB and adds the fault's line to the table. */
  record(fault: string, jobIds: readonly string[], since: number): Promise<void>;
}

/**
 * A cluster and a file server shared by a test file: started before its tests, stopped after,
 * when the table of what each fault cost is printed.
 */
export function clusterForFile(): FaultFile {
  const table: Recovery[] = [];
  const parts = {
    async record(fault: string, jobIds: readonly string[], since: number) {
      const recoveredInS = Math.round((Date.now() - since) / 100) / 10;
      const statuses = await Promise.all(jobIds.map(async (id) => (await parts.cluster.stored(id))?.status));
      const completed = statuses.filter((status) => status === 'completed').length;
      table.push({ fault, submitted: jobIds.length, completed, lost: jobIds.length - completed, recoveredInS });
      expect(completed).toBe(jobIds.length);
    },
  } as FaultFile & { cluster: Cluster; files: FileServer };
  beforeAll(async () => {
    parts.files = await startFileServer();
    parts.cluster = await startCluster();
  }, 60_000);
  afterAll(async () => {
    if (table.length > 0) console.table(table);
    await parts.cluster?.stop();
    await parts.files?.close();
  }, 30_000);
  return parts;
}
