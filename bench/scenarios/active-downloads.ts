/**
 * 200 downloads at once on two workers of 100 slots each: throttled files from a loopback
 * fixture server, submitted through `POST /api/jobs` to a real server node. While every one of
 * them runs, a client keeps using the API at a steady pace (`POST /api/jobs` of a small file,
 * `GET /api/jobs/:id` of a running job, each sent on schedule whether or not the last one has
 * answered), and the MongoDB-wire server's processes (FerretDB, and PostgreSQL with every
 * backend) are sampled for CPU time. The reference is the least that fetches the same files:
 * as many bare `http.get` → SHA-256 → file pipes at once in one Node process, so the app's time
 * from the first submit to the last completion is a ratio to theirs.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import type { JobView } from '../../lib/domain/job';
import { JOBS_COLLECTION } from '../../lib/infra/job-store';
import { DOWNLOAD_QUEUE } from '../../lib/infra/queue';
import { pingMongo } from '../../scripts/services/mongo';
import { startServer, startWorker, type ServerProcess } from '../../tests/utils/app-processes';
import { deleteRedisPrefix, dropDatabase } from '../../tests/utils/cleanup';
import { fixtureSha256 } from '../../tests/utils/file-server';
import { apiClient, probeWhile, type Probes } from '../api-probe';
import { barePipe } from '../bare-pipe';
import { alternate, percentile, startHelperProcess, type Check, type Scenario } from '../harness';
import { canMeasureCpu, sampleCpu, type CpuTimeline } from '../process-cpu';
import { startBenchServices } from '../services';

const MB = 1024 * 1024;
const WORKERS = 2;
/** Bytes per second of every connection: the 200 downloads are slow ones, as from far away. */
const RATE = 200_000;
const SEED = 'active-downloads';
/** The probe's own jobs: small, and queued behind the running ones until a slot frees. */
const PROBE_SIZE = 64 * 1024;
const PROBE_SEED = 'active-downloads-probe';
/** Each kind of probe request is sent this often (a POST, then a GET half-way between). */
const PROBE_EVERY_MS = 200;
/** The most URLs one `POST /api/jobs` takes. */
const BATCH = 100;
const CPU_SAMPLE_MS = 250;
/** How long a count may stand still before a round gives up. */
const STALL_MS = 30_000;

/** `promise`'s value, or `fallback` after `ms`: for a server that may have stopped answering. */
function within<T>(ms: number, promise: Promise<T>, fallback: T): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => fallback)]);
}

/** Polls `count` until it reaches `goal`; throws if it stops moving for STALL_MS. */
async function waitForCount(count: () => Promise<number>, goal: number, what: string, everyMs: number): Promise<void> {
  let [last, movedAt] = [-1, Date.now()];
  for (;;) {
    const now = await count();
    if (now >= goal) return;
    if (now !== last) [last, movedAt] = [now, Date.now()];
    else if (Date.now() - movedAt > STALL_MS) throw new Error(`${what}: ${now} of ${goal}, unchanged for ${STALL_MS / 1000} s`);
    await sleep(everyMs);
  }
}

/** The app's processes and the store, whose CPU time is sampled while the downloads run. */
type CpuGroup = 'store' | 'server' | 'worker1' | 'worker2' | 'fixture';

interface AppRound {
  /** First submit to the last of the downloads' completions, and to the first. */
  seconds: number;
  firstDone: number;
  /** First submit until every download was active. */
  activeAfter: number;
  /** The API before the downloads were submitted, and while all of them ran. */
  idle: Probes;
  probes: Probes;
  /** Cores each group used while all ran (every download active → the first completion). */
  cpuWhileAllRan: Partial<Record<CpuGroup, number>>;
  /** CPU seconds both workers used from the first submit to the last completion. */
  workerCpuSeconds: number;
  /** Cores the store used from the first submit to the last completion. */
  storeCpu?: number;
  /** Downloads, and probe jobs, completed with the right SHA-256. */
  right: number;
  probeJobs: number;
  probesRight: number;
}

interface BareRound {
  seconds: number;
  /** CPU seconds of the client, user and system. */
  cpuSeconds: number;
  right: number;
}

export const activeDownloads: Scenario = {
  name: 'active-downloads',
  title: '200 throttled downloads at once on two workers × 100: the API under that load, the store CPU and the time to done against bare Node pipes fetching the same files',
  async run({ quick }) {
    const count = quick ? 20 : 200;
    const size = quick ? MB / 2 : 4 * MB;
    const rounds = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 1);
    const idleMs = quick ? 1000 : 3000;
    const services = await startBenchServices();
    const fixture = await startHelperProcess<{ url: string }>('serve-fixture.ts');
    // One URL each (the fixture ignores `n`), the same bytes.
    const urls = Array.from({ length: count }, (_, i) => `${fixture.ready.url}/file/${size}?seed=${SEED}&rate=${RATE}&n=${i}`);
    const probeUrl = (n: number) => `${fixture.ready.url}/file/${PROBE_SIZE}?seed=${PROBE_SEED}&n=${n}`;
    const expected = fixtureSha256(size, SEED);
    const probeExpected = fixtureSha256(PROBE_SIZE, PROBE_SEED);
    // Only a store this run started is ours to measure: an external MONGODB_URI's is not.
    const storeMeasured = await canMeasureCpu(services.storePids);
    const base = services.env;
    const database = new URL(base.MONGODB_URI).pathname.slice(1);
    let roundNumber = 0;

    const app = async (): Promise<AppRound> => {
      const tag = `app${++roundNumber}`;
      const env = {
        ...base,
        MONGODB_URI: base.MONGODB_URI.replace(/\/[^/?]*(\?|$)/, `/${database}_${tag}$1`),
        REDIS_PREFIX: `${base.REDIS_PREFIX}-${tag}`,
        DATA_DIR: path.join(base.DATA_DIR, tag),
        WORKER_CONCURRENCY: String(count / WORKERS),
        JOBS_PER_MINUTE: '0',
        JOBS_PER_MINUTE_PER_IP: '0',
        MAX_OPEN_JOBS: '0',
        LOG_LEVEL: 'info', // startServer waits for the "server listening" line
        NEXT_TELEMETRY_DISABLED: '1',
      };
      const processes = await Promise.allSettled([startServer(env, 'production', 0, 'compiled'), ...Array.from({ length: WORKERS }, () => startWorker(env, 'compiled'))]);
      const connection = new Redis(base.REDIS_URL, { maxRetriesPerRequest: null });
      // Counts read from BullMQ in Redis, so that waiting costs the store nothing.
      const queue = new Queue(DOWNLOAD_QUEUE, { connection, prefix: env.REDIS_PREFIX });
      const finished = async () => {
        const counts = await queue.getJobCounts('completed', 'failed');
        return counts.completed + counts.failed;
      };
      const mongo = new MongoClient(env.MONGODB_URI);
      let cpu: CpuTimeline<CpuGroup> | undefined;
      try {
        const failed = processes.find((p) => p.status === 'rejected');
        if (failed) throw failed.reason;
        const [server, worker1, worker2] = processes.map((p) => (p as PromiseFulfilledResult<ServerProcess>).value);
        const client = apiClient(server.url);

        // One job first, which loads both routes' code; then the API of the idle app, for comparison.
        const warmUp = await client.post('/api/jobs', { url: probeUrl(-1) });
        if (warmUp.status !== 201) throw new Error(`POST /api/jobs answered ${warmUp.status}: ${warmUp.text}`);
        const warmUpId = (JSON.parse(warmUp.text) as JobView).id;
        const idle = await probeWhile(client, { everyMs: PROBE_EVERY_MS, url: (n) => probeUrl(-2 - n), target: () => warmUpId, going: async () => true, deadline: Date.now() + idleMs });
        const before = 1 + idle.jobIds.length;
        await waitForCount(finished, before, 'idle probe jobs finished', 100);

        const pids = (...children: Array<{ child: { pid?: number } }>) => children.flatMap(({ child }) => (child.pid ? [child.pid] : []));
        cpu = await sampleCpu<CpuGroup>(
          { store: storeMeasured ? services.storePids : [], server: pids(server), worker1: pids(worker1), worker2: pids(worker2), fixture: pids(fixture) },
          CPU_SAMPLE_MS,
        );
        const started = Date.now();
        const ids: string[] = [];
        for (let i = 0; i < count; i += BATCH) {
          const { status, text } = await client.post('/api/jobs', { urls: urls.slice(i, i + BATCH) });
          if (status !== 201) throw new Error(`POST /api/jobs answered ${status}: ${text}`);
          ids.push(...(JSON.parse(text) as { jobs: JobView[] }).jobs.map((job) => job.id));
        }
        await waitForCount(async () => (await queue.getJobCounts('active')).active, count, 'downloads active', 50);
        const allActive = Date.now();
        const probes = await probeWhile(client, {
          everyMs: PROBE_EVERY_MS,
          url: probeUrl,
          target: (n) => ids[n % ids.length],
          going: async () => (await finished()) === before,
          deadline: started + (size / RATE) * 1000 + STALL_MS,
        });
        await waitForCount(finished, before + count + probes.jobIds.length, 'jobs finished', CPU_SAMPLE_MS);
        await cpu.stop();

        const records = await mongo.db().collection(JOBS_COLLECTION).find({}, { projection: { status: 1, sha256: 1, finishedAt: 1 } }).toArray();
        const mine = new Set(ids);
        const downloads = records.filter((r) => mine.has(String(r._id)));
        const ends = downloads.map((r) => new Date(r.finishedAt as Date).getTime());
        const [first, last] = [Math.min(...ends), Math.max(...ends)];
        const rightOf = (rs: typeof records, sha256: string) => rs.filter((r) => r.status === 'completed' && r.sha256 === sha256).length;
        const groups: CpuGroup[] = storeMeasured ? ['store', 'server', 'worker1', 'worker2', 'fixture'] : ['server', 'worker1', 'worker2', 'fixture'];
        return {
          seconds: (last - started) / 1000,
          firstDone: (first - started) / 1000,
          activeAfter: (allActive - started) / 1000,
          idle,
          probes,
          cpuWhileAllRan: Object.fromEntries(groups.map((group) => [group, cpu!.share(group, allActive, first)])),
          workerCpuSeconds: ((cpu.share('worker1', started, last) + cpu.share('worker2', started, last)) * (last - started)) / 1000,
          storeCpu: storeMeasured ? cpu.share('store', started, last) : undefined,
          right: rightOf(downloads, expected),
          probeJobs: records.length - downloads.length,
          probesRight: rightOf(records.filter((r) => !mine.has(String(r._id))), probeExpected),
        };
      } catch (err) {
        // A stall may be the store's: FerretDB 1.24 over PostgreSQL was seen to stop answering altogether.
        const answers = await within(10_000, pingMongo(env.MONGODB_URI, 5_000), false);
        throw new Error(`${err instanceof Error ? err.message : String(err)} (the MongoDB-wire server ${answers ? 'answers a ping' : 'does not answer a ping within 5 s'})`, { cause: err });
      } finally {
        await cpu?.stop();
        await within(5_000, mongo.close(), undefined);
        await queue.close();
        connection.disconnect();
        await Promise.all(processes.map((p) => (p.status === 'fulfilled' ? p.value.stop() : undefined)));
        await within(10_000, dropDatabase(env.MONGODB_URI).catch(() => undefined), undefined);
        await deleteRedisPrefix(base.REDIS_URL, env.REDIS_PREFIX).catch(() => undefined);
        await rm(env.DATA_DIR, { recursive: true, force: true });
      }
    };

    const bare = async (): Promise<BareRound> => {
      const directory = path.join(base.DATA_DIR, `bare${++roundNumber}`);
      await mkdir(directory, { recursive: true });
      try {
        const [started, cpuBefore] = [Date.now(), process.cpuUsage()];
        const hashes = await Promise.all(urls.map((url, i) => barePipe(url, path.join(directory, `${i}.bin`))));
        const cpu = process.cpuUsage(cpuBefore);
        return { seconds: (Date.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, right: hashes.filter((hash) => hash === expected).length };
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    };

    try {
      // The two sides measure different things, so each keeps its own rounds.
      const results = { app: [] as AppRound[], bare: [] as BareRound[] };
      await alternate(rounds, { bare: async () => void results.bare.push(await bare()), app: async () => void results.app.push(await app()) });
      const appSeconds = Math.min(...results.app.map((r) => r.seconds));
      const bareSeconds = Math.min(...results.bare.map((r) => r.seconds));
      const pooled = (pick: (r: AppRound) => Probes) => ({
        post: results.app.flatMap((r) => pick(r).post),
        get: results.app.flatMap((r) => pick(r).get),
        failures: results.app.flatMap((r) => pick(r).failures),
      });
      const [idle, loaded] = [pooled((r) => r.idle), pooled((r) => r.probes)];
      const failures = [...idle.failures, ...loaded.failures];
      const everyRight = results.app.every((r) => r.right === count && r.probesRight === r.probeJobs) && results.bare.every((r) => r.right === count);
      const storeShares = results.app.flatMap((r) => (r.storeCpu === undefined ? [] : [r.storeCpu]));
      const ms = (values: number[]) => `p50 ${percentile(values, 50).toFixed(0)} ms, p95 ${percentile(values, 95).toFixed(0)} ms, max ${percentile(values, 100).toFixed(0)} ms (${values.length})`;
      const api = (p: { post: number[]; get: number[] }) => `POST /api/jobs ${ms(p.post)}; GET /api/jobs/:id ${ms(p.get)}`;
      const each = <T>(rs: T[], show: (r: T) => string) => rs.map(show).join(', ');
      const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
      return {
        lines: [
          `${count} downloads of ${size / MB} MiB at ${RATE / 1000} kB/s each (${(size / RATE).toFixed(1)} s apiece), ${WORKERS} workers × ${count / WORKERS}; ${rounds} alternating round(s), best time of each side`,
          `app (POST /api/jobs, ${Math.min(BATCH, count)} URLs a request → last completion) ${appSeconds.toFixed(1)} s (rounds: ${each(results.app, (r) => `${r.seconds.toFixed(1)} s, all active after ${r.activeAfter.toFixed(1)} s, first done after ${r.firstDone.toFixed(1)} s`)})`,
          `bare Node pipes (first request → last file)       ${bareSeconds.toFixed(1)} s (rounds: ${each(results.bare, (r) => `${r.seconds.toFixed(1)} s`)})`,
          `API of the idle app, one POST and one GET every ${PROBE_EVERY_MS} ms: ${api(idle)}`,
          `API while all ran, the same pace:                 ${api(loaded)}`,
          storeShares.length > 0
            ? `store CPU (FerretDB + PostgreSQL with its backends), share of one core, first submit → last completion: ${each(storeShares, pct)}`
            : 'store CPU: not measurable (the MongoDB-wire server is not one this run started, or /proc is not readable)',
          `CPU seconds for the downloads (first submit or request → last file): app workers ${each(results.app, (r) => `${r.workerCpuSeconds.toFixed(1)} s`)}, bare client ${each(results.bare, (r) => `${r.cpuSeconds.toFixed(1)} s`)}`,
          `CPU while all ran, share of one core: ${each(results.app, (r) => Object.entries(r.cpuWhileAllRan).map(([group, share]) => `${group} ${pct(share)}`).join(', '))}`,
          ...failures.slice(0, 5).map((failure) => `probe failed: ${failure}`),
        ],
        checks: [
          { label: 'every job completed with the right SHA-256, every probe answered', value: everyRight && failures.length === 0 ? 1 : 0, bound: 'min', goal: 1, unit: '', kind: 'outcome' },
          { label: 'POST /api/jobs p95 while they run', value: percentile(loaded.post, 95), bound: 'max', goal: 50, unit: ' ms' },
          { label: 'GET /api/jobs/:id p95 while they run', value: percentile(loaded.get, 95), bound: 'max', goal: 50, unit: ' ms' },
          ...(storeShares.length > 0 ? [{ label: 'store CPU, share of one core', value: Math.max(...storeShares) * 100, bound: 'max', goal: 40, unit: '%' } satisfies Check] : []),
          { label: 'time to done, app / bare pipes', value: appSeconds / bareSeconds, bound: 'max', goal: 1.2, unit: '×' },
        ],
      };
    } finally {
      fixture.child.kill('SIGTERM');
      await services.stop();
    }
  },
};
