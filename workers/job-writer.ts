/**
 * How a worker process stores its jobs' states: the writes that its jobs ask for in the same
 * tick leave together, in one `bulkWrite`, and while MAX_BATCHES_IN_FLIGHT batches are being
 * written the next one gathers. The store then sees at most that many requests at a time from
 * each worker, however many jobs it runs, and each write keeps its own guard and its own answer.
 * A job's own writes never overlap: its reporter sends the next once the last is answered.
 */
import type { JobView } from '../lib/domain/job';
import { outageOf } from '../lib/infra/outage';

/** The part of the store the writer needs (see `JobStore.saveMany`). */
export interface BatchStore {
  saveMany(jobs: readonly JobView[]): Promise<Array<PromiseSettledResult<boolean>>>;
}

/**
 * A MongoDB-wire server may run the writes of one `bulkWrite` one after another (FerretDB
 * does): with a single batch in flight, a worker could store no faster than one write's round
 * trip inside the store, and its jobs waited longer on their two writes than on their downloads
 * (measured: 430 of 575 ms per 64 KiB job, with 32 running). A second batch beside it lets the
 * store use another core and connection; measured with FerretDB over PostgreSQL, 2 drained
 * small jobs 10–25% faster than 1, and 4 no faster than 2, with smaller batches.
 */
export const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * Writes in one batch at most. FerretDB 1.24 holds a PostgreSQL connection for each statement
 * of an update command until the command ends, so a batch larger than its pool never ends
 * (measured: 51 statements hang it for good, and everything else waits behind). A worker holds
 * at most MAX_BATCHES_IN_FLIGHT × this many at once; the embedded store's pool has room for
 * several workers' worth (scripts/services/postgres.ts).
 */
export const MAX_BATCH_WRITES = 8;

/** The waits between tries while the store is out of reach, the last one repeated. */
export const STORE_RETRY_MS = [250, 500, 1_000, 2_000, 4_000];

export interface JobWriterOptions {
  maxInFlight?: number;
  /** Whether a failed write waits for the store and goes again (default: the store is out of reach). */
  retryWhen?: (reason: unknown) => boolean;
  /** Told when the store is found out of reach and when a write gets through again. */
  onOutage?: (event: 'down' | 'back', reason?: unknown) => void;
  retryMs?: readonly number[];
}

interface PendingWrite {
  job: JobView;
  resolve(stored: boolean): void;
  reject(reason: unknown): void;
}

export class JobWriter {
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private inFlight = 0;
  /** Failed tries in a row for want of the store; 0 while it answers. */
  private failures = 0;
  private readonly maxInFlight: number;
  private readonly retryWhen: (reason: unknown) => boolean;
  private readonly retryMs: readonly number[];

  constructor(
    private readonly store: BatchStore,
    private readonly options: JobWriterOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? MAX_BATCHES_IN_FLIGHT;
    this.retryWhen = options.retryWhen ?? ((reason) => outageOf(reason) === 'store');
    this.retryMs = options.retryMs ?? STORE_RETRY_MS;
  }

  /**
   * Stores `job` with the next batch. Resolves whether it is the state stored (`false`: the
   * store's guard refused it, since a newer, finished or other-run state is there); rejects
   * if it could not be written. While the store is out of reach it waits, and the write goes
   * again once it is back: a final state is never dropped for an outage. The job's reporter
   * sends nothing newer meanwhile, so what goes then is stored in order.
   */
  save(job: JobView): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ job, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * After the current tick, so every job that changes in it joins the batch; not while the most
   * batches are being written, since whatever comes meanwhile joins the next one.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight >= this.maxInFlight) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, MAX_BATCH_WRITES);
    if (batch.length === 0) return;
    this.inFlight += 1;
    // More than a batch waiting: the next goes out at once, if there is room in flight.
    if (this.pending.length > 0) this.scheduleFlush();
    const again: PendingWrite[] = [];
    let outage: unknown;
    try {
      const outcomes = await this.store.saveMany(batch.map((write) => write.job));
      batch.forEach((write, i) => {
        const outcome = outcomes[i];
        if (outcome?.status === 'fulfilled') return write.resolve(outcome.value);
        const reason = outcome ? outcome.reason : new Error('the store gave no answer for this write');
        if (this.retryWhen(reason)) {
          outage = reason;
          again.push(write);
        } else write.reject(reason);
      });
    } catch (err) {
      // No outcome is known: every writer hears of it (the reporter logs it, or its caller
      // does), unless the store is out of reach, when they all go again.
      if (this.retryWhen(err)) {
        outage = err;
        again.push(...batch);
      } else for (const write of batch) write.reject(err);
    }
    if (again.length > 0) await this.waitForStore(outage);
    else if (this.failures > 0) {
      this.failures = 0;
      this.options.onOutage?.('back');
    }
    // Written again before anything that came meanwhile: no job has a newer write waiting.
    this.pending.unshift(...again);
    this.inFlight -= 1;
    if (this.pending.length > 0) this.scheduleFlush();
  }

  private async waitForStore(reason: unknown): Promise<void> {
    if (this.failures === 0) this.options.onOutage?.('down', reason);
    const wait = this.retryMs[Math.min(this.failures, this.retryMs.length - 1)];
    this.failures += 1;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
