/**
 * Many watchers of one job across two server nodes: the app's whole path (a worker downloads
 * a throttled file and publishes each state through Redis; two `server.ts` nodes hand it to
 * their sockets in the job's room) against bare socket.io on two processes with the same
 * Redis adapter, fed the same number of updates at the same moments through the Redis
 * emitter. The watchers live in crowd processes of their own, split over both nodes; each
 * takes note of how long every state took from its `updatedAt` to its arrival.
 *
 * The download is held at a gate of the fixture server until every watcher has subscribed,
 * so only updates sent to the whole crowd are measured.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { jobRoom } from '../../lib/domain/events';
import type { JobView } from '../../lib/domain/job';
import { decodeRoomEvent, roomChannel } from '../../lib/job-events/wire';
import { startServer, startWorker, type AppProcess } from '../../tests/utils/app-processes';
import { fixtureSha256, startFileServer } from '../../tests/utils/file-server';
import { percentile, startHelperProcess, type Scenario, stopProcess } from '../harness';
import { startBenchServices } from '../services';

const MB = 1024 * 1024;

interface Crowd {
  ready: { subscribed: number; control: string };
  child: ChildProcess;
}

interface Figures {
  /** Delay of every update every watcher got, ms. */
  delays: number[];
  /** When each distinct update that reached a watcher was sent, epoch ms, oldest first. */
  sent: number[];
  /** When each update the worker published was sent, epoch ms (the app side only). */
  published?: number[];
  /** Watchers whose last state was the final one. */
  finals: number;
  subscribed: number;
  /** The final state, as the app's API gave it (the app side only). */
  final?: JobView;
}


async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** `count` watchers in `crowds` processes, each client on one of `urls` in turn. */
async function startCrowds(urls: string[], count: number, crowds: number, jobId: string): Promise<Crowd[]> {
  const sizes = Array.from({ length: crowds }, (_, i) => Math.floor(count / crowds) + (i < count % crowds ? 1 : 0));
  // Each crowd starts on another node, so both nodes get half of every crowd's odd one out.
  const started = await Promise.allSettled(
    sizes.map((size, i) => startHelperProcess<Crowd['ready']>('watch-crowd.ts', {}, [[...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)].join(','), String(size), jobId])),
  );
  const crowdsUp = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(crowdsUp.map((crowd) => stopProcess(crowd.child)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return crowdsUp;
}

/** Waits (up to `graceMs`) for every watcher to be on the final state, then reads the figures. */
async function collect(crowds: Crowd[], since: number, sha256: string, graceMs: number): Promise<Omit<Figures, 'final'>> {
  const query = `since=${since}&sha256=${sha256}`;
  const subscribed = crowds.reduce((sum, crowd) => sum + crowd.ready.subscribed, 0);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    const counts = await Promise.all(crowds.map((crowd) => getJson<{ finals: number }>(`${crowd.ready.control}/finals?${query}`)));
    if (counts.reduce((sum, c) => sum + c.finals, 0) >= subscribed) break;
    await sleep(200);
  }
  const reports = await Promise.all(crowds.map((crowd) => getJson<{ finals: number; delays: number[]; sentAt: number[] }>(`${crowd.ready.control}/report?${query}`)));
  return {
    delays: reports.flatMap((r) => r.delays),
    sent: [...new Set(reports.flatMap((r) => r.sentAt))].sort((a, b) => a - b),
    finals: reports.reduce((sum, r) => sum + r.finals, 0),
    subscribed,
  };
}

export const watchers: Scenario = {
  name: 'watchers',
  title: '10,000 watchers of one job across two server nodes — p99 ≤ 500 ms, every watcher ends on the final state',
  async run({ quick }) {
    const count = quick ? 300 : Number(process.env.BENCH_WATCHERS ?? 10_000);
    const crowdCount = quick ? 2 : 4;
    const size = (quick ? 1 : 4) * MB;
    const rate = quick ? MB / 2 : MB;
    const seed = 'watchers';
    const expected = fixtureSha256(size, seed);
    const services = await startBenchServices();
    const files = await startFileServer();
    const env = {
      ...services.env,
      LOG_LEVEL: 'info', // startServer waits for the "server listening" line
      NEXT_TELEMETRY_DISABLED: '1',
      // Every client comes from 127.0.0.1, faster than people do.
      SOCKET_CONNECTIONS_PER_IP: '0',
      SOCKET_SUBSCRIBES_PER_MINUTE: '0',
      JOBS_PER_MINUTE: '0',
      JOBS_PER_MINUTE_PER_IP: '0',
      MAX_OPEN_JOBS: '0',
      // The download waits at the gate while the watchers subscribe.
      IDLE_TIMEOUT_MS: '600000',
      MIN_SPEED_BYTES_PER_S: '0',
    };
    const processes: AppProcess[] = [];
    const children: ChildProcess[] = [];
    let crowds: Crowd[] = [];
    const redis = new Redis(services.env.REDIS_URL);
    let subscribeSeconds = 0;

    const app = async (): Promise<Figures> => {
      const nodes = await Promise.all([startServer(env, 'production', 0, 'compiled'), startServer(env, 'production', 0, 'compiled')]);
      processes.push(...nodes);
      processes.push(await startWorker(env, 'compiled'));
      const gate = `watchers-${randomUUID().slice(0, 8)}`;
      const source = `${files.url}/file/${size}?seed=${seed}&rate=${rate}&gate=${gate}&holdafter=${64 * 1024}`;
      const created = await fetch(`${nodes[0].url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url: source }) });
      if (created.status !== 201) throw new Error(`POST /api/jobs: ${created.status} ${await created.text()}`);
      const { id } = (await created.json()) as JobView;
      // Every state the worker publishes, read off the room's channel: what the reference replays.
      const published: number[] = [];
      const listener = redis.duplicate();
      listener.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
        const event = decodeRoomEvent(message);
        const job = event?.name === 'job:update' ? (event.args[0] as JobView) : undefined;
        if (job) published.push(Date.parse(job.updatedAt));
      });
      await listener.subscribe(roomChannel(services.env.REDIS_PREFIX, jobRoom(id)));
      const subscribing = Date.now();
      crowds = await startCrowds(
        nodes.map((node) => node.url),
        count,
        crowdCount,
        id,
      );
      const since = Date.now();
      subscribeSeconds = (since - subscribing) / 1000;
      files.release(gate);
      let final: JobView | undefined;
      for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(250)) {
        const job = await getJson<JobView>(`${nodes[1].url}/api/jobs/${id}`);
        if (['completed', 'failed', 'cancelled'].includes(job.status)) {
          final = job;
          break;
        }
      }
      if (final?.status !== 'completed') throw new Error(`the job did not complete: ${JSON.stringify(final)}`);
      const figures = await collect(crowds, since, final.sha256 ?? '', 30_000);
      listener.disconnect();
      await Promise.all(crowds.map((crowd) => stopProcess(crowd.child)));
      crowds = [];
      await Promise.all(processes.splice(0).map((p) => p.stop()));
      return { ...figures, final, published: published.filter((at) => at >= since) };
    };

    /** Bare socket.io: the same clients, and the app's updates sent again at the same offsets. */
    const bare = async (template: JobView, offsets: number[]): Promise<Figures> => {
      const hosts = await Promise.all([0, 1].map(() => startHelperProcess<{ url: string; jobId: string }>('socket-host.ts', services.env, ['bare'])));
      children.push(...hosts.map((host) => host.child));
      // The key socket-host.ts gives its adapter; the emitter's parser is the adapter's default.
      const emitter = new Emitter(redis, { key: `${services.env.REDIS_PREFIX}#bare` });
      const jobId = hosts[0].ready.jobId;
      crowds = await startCrowds(
        hosts.map((host) => host.ready.url),
        count,
        crowdCount,
        jobId,
      );
      const since = Date.now();
      const sha256 = template.sha256 ?? '';
      for (const [i, offset] of offsets.entries()) {
        const wait = since + offset - Date.now();
        if (wait > 0) await sleep(wait);
        const lastOne = i === offsets.length - 1;
        const state: JobView = { ...template, id: jobId, status: lastOne ? 'completed' : 'active', sha256: lastOne ? sha256 : null, version: i + 1, updatedAt: new Date().toISOString() };
        emitter.to(`job:${jobId}`).emit('job:update', state);
      }
      const figures = await collect(crowds, since, sha256, 30_000);
      await Promise.all(crowds.map((crowd) => stopProcess(crowd.child)));
      crowds = [];
      await Promise.all(children.splice(0).map(stopProcess));
      return figures;
    };

    try {
      const mine = await app();
      const published = mine.published!;
      const offsets = published.map((at) => at - published[0]);
      const reference = await bare(mine.final!, offsets);
      const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`;
      const line = (name: string, f: Figures) =>
        `${name.padEnd(22)} p50 ${ms(percentile(f.delays, 50))}  p99 ${ms(percentile(f.delays, 99))}  max ${ms(percentile(f.delays, 100))}  ${f.delays.length} deliveries, ${f.finals}/${f.subscribed} on the final state`;
      const appP99 = percentile(mine.delays, 99);
      const bareP99 = percentile(reference.delays, 99);
      const hashRight = mine.final?.sha256 === expected;
      return {
        lines: [
          `${count} watchers in ${crowdCount} crowd processes, half on each of two nodes; one job, ${size / MB} MiB at ${rate / MB} MiB/s, ${published.length} updates published (${mine.sent.length} of them reached a watcher; a connection still writing skips to the newest); the app's watchers took ${subscribeSeconds.toFixed(1)} s to connect and subscribe`,
          line('app (worker → 2 nodes)', mine),
          line('bare socket.io pair', reference),
          `app / bare: p50 ${(percentile(mine.delays, 50) / Math.max(1, percentile(reference.delays, 50))).toFixed(2)}×, p99 ${(appP99 / Math.max(1, bareP99)).toFixed(2)}×`,
          ...(hashRight ? [] : [`WRONG SHA-256: ${mine.final?.sha256} instead of ${expected}`]),
        ],
        checks: [
          {
            label: 'every app watcher ended on the final state',
            value: mine.subscribed === count && mine.finals === count && hashRight ? 1 : 0,
            bound: 'min',
            goal: 1,
            unit: '',
            kind: 'outcome',
          },
          { label: 'app update delay, p99', value: appP99, bound: 'max', goal: 500, unit: ' ms' },
        ],
      };
    } finally {
      await Promise.all(crowds.map((crowd) => stopProcess(crowd.child)));
      await Promise.all([...processes.map((p) => p.stop()), ...children.map(stopProcess)]);
      redis.disconnect();
      await files.close();
      await services.stop();
    }
  },
};
