/**
 * The reference of the small-jobs scenario, in a process of its own: a bare BullMQ worker whose
 * processor does the least a download job must do, GET the job's URL, hash it with SHA-256 and
 * write it to a file, and returns the hash. No database, no events, no guards.
 *
 *   node --import tsx bench/bare-download-worker.ts <queue> <prefix> <concurrency> <directory>
 *
 * Takes REDIS_URL from the environment; prints `{"ready": true}` once the worker is connected.
 */
import { Worker, type Job } from 'bullmq';
import path from 'node:path';
import { Redis } from 'ioredis';
import { barePipe } from './bare-pipe';

export interface BareDownloadData {
  url: string;
}

const [queueName, prefix, concurrency, directory] = process.argv.slice(2);

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const worker = new Worker<BareDownloadData, string>(
  queueName,
  (job: Job<BareDownloadData, string>) => barePipe(job.data.url, path.join(directory, `${job.id}.bin`)),
  { connection, prefix, concurrency: Number(concurrency) },
);
await worker.waitUntilReady();
console.log(JSON.stringify({ ready: true }));

process.on('SIGTERM', () => {
  void worker
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
});
