/**
 * Faults 1, 2 and 6: a process killed outright (SIGKILL), or every process stopped (SIGTERM),
 * loses nothing. The worker that was
 * downloading dies: the other worker finishes the job from its partial file. A server node
 * dies: its watchers reconnect to the other node and reach the true final state within 5 s of
 * it being stored. Every process is stopped while jobs run and the app is started again: the
 * workers hand their jobs back with their resume points, and every job completes exactly once.
 */
import { describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { fixtureSha256 } from '../utils/file-server';
import { waitFor } from '../utils/wait-for';
import { clusterForFile, expectCompletedEverywhere } from './cluster';

const MB = 1024 * 1024;
const shared = clusterForFile();


/** Which worker process has the job: the one whose log names it as started. */
function workerRunning(jobId: string) {
  return shared.cluster.workers.find((worker) => worker.child.exitCode === null && worker.output().includes(`"jobId":"${jobId}"`));
}

// First: the tests below leave the cluster one worker and one node short.
describe('every process stopped (SIGTERM) while jobs run, then started again', () => {
  it('hands every job back with its resume point, and completes each exactly once', async () => {
    const { cluster, files } = shared;
    const size = MB;
    const gate = 'stop-all';
    const jobs: JobView[] = [];
    for (let i = 0; i < 6; i++) jobs.push(await cluster.submit(`${files.url}/file/${size}?seed=${gate}-${i}&gate=${gate}&holdafter=${MB / 4}`, i % 2));
    const watchers = jobs.map((job) => cluster.watch(job.id, 2));
    await waitFor('every job under way', () => watchers.every(([shown]) => (shown()?.bytesReceived ?? 0) > 0), 30_000);

    const exits = await cluster.restart();
    const restarted = Date.now();
    expect(exits).toEqual([0, 0, 0, 0]);
    const handedBack = (id: string) => cluster.logLines().filter((line) => line.includes(id) && line.includes('job handed back'));
    for (const job of jobs) expect(handedBack(job.id)).toHaveLength(1);
    files.release(gate);

    await waitFor('every job to be stored completed', async () => (await Promise.all(jobs.map(async (job) => (await cluster.stored(job.id))?.status))).every((s) => s === 'completed'), 60_000);
    await shared.record('every process stopped, started again', jobs.map((job) => job.id), restarted);
    await waitFor('every watcher on the final state', () => watchers.flat().every((shown) => shown()?.status === 'completed'), 10_000);
    for (const [i, job] of jobs.entries()) {
      await expectCompletedEverywhere(cluster, job, watchers[i], fixtureSha256(size, `${gate}-${i}`));
      const completions = cluster.logLines().filter((line) => line.includes(job.id) && line.includes('download completed'));
      expect(completions).toHaveLength(1);
      // Continued from where it was handed back, not started over.
      const lastStart = JSON.parse(cluster.logLines().filter((line) => line.includes(job.id) && line.includes('download started')).at(-1)!) as { resumeFrom: number };
      expect(lastStart.resumeFrom).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('a process killed outright', () => {
  it('the downloading worker: the other one completes the job, with the right file', async () => {
    const size = 4 * MB;
    const gate = 'worker-killed';
    const job = await shared.cluster.submit(`${shared.files.url}/file/${size}?seed=killed-worker&gate=${gate}&holdafter=${MB}`);
    const watchers = shared.cluster.watch(job.id);
    // The first MiB is written, then the source holds: the kill lands mid-download, for sure.
    await waitFor('the first MiB', () => watchers.some((shown) => (shown()?.bytesReceived ?? 0) >= MB / 2), 20_000);
    const victim = await waitFor('the worker with the job', () => workerRunning(job.id), 10_000);
    victim.child.kill('SIGKILL');
    shared.files.release(gate);
    const killed = Date.now();
    await waitFor('the job to complete', async () => (await shared.cluster.stored(job.id))?.status === 'completed', 90_000);
    await shared.record('downloading worker killed', [job.id], killed);
    await waitFor('every watcher on the final state', () => watchers.every((shown) => shown()?.status === 'completed'), 10_000);
    await expectCompletedEverywhere(shared.cluster, job, watchers, fixtureSha256(size, 'killed-worker'));
  }, 120_000);

  it('a server node: its watchers reach the final state through the other node within 5 s', async () => {
    const size = 2 * MB;
    const gate = 'server-killed';
    const job = await shared.cluster.submit(`${shared.files.url}/file/${size}?seed=killed-server&gate=${gate}&holdafter=${MB / 4}`, 1);
    const watchers = shared.cluster.watch(job.id);
    await waitFor('every watcher to see progress', () => watchers.every((shown) => (shown()?.bytesReceived ?? 0) > 0), 20_000);
    shared.cluster.servers[0].child.kill('SIGKILL');
    const killed = Date.now();
    shared.files.release(gate);
    const stored = await waitFor('the job to be stored completed', async () => {
      const doc = await shared.cluster.stored(job.id);
      return doc?.status === 'completed' ? Date.now() : null;
    }, 60_000);
    await waitFor('every watcher on the final state', () => watchers.every((shown) => shown()?.status === 'completed'), 5_000);
    await shared.record('server node killed', [job.id], killed);
    expect(Date.now() - stored).toBeLessThan(5_000);
    await expectCompletedEverywhere(shared.cluster, job, watchers, fixtureSha256(size, 'killed-server'));
  }, 120_000);
});
