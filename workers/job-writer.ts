/**
 * How a worker process stores its jobs' states: the writes that its jobs ask for in the same
 * tick leave together, in one `bulkWrite`, and while one batch is being written the next one
 * gathers. The store then sees one request at a time from each worker, however many jobs it
 * runs, and each write keeps its own guard and its own answer.
 */
import type { JobView } from '../lib/domain/job';

/** The part of the store the writer needs (see `JobStore.saveMany`). */
export interface BatchStore {
  saveMany(jobs: readonly JobView[]): Promise<Array<PromiseSettledResult<boolean>>>;
}

interface PendingWrite {
  job: JobView;
  resolve(stored: boolean): void;
  reject(reason: unknown): void;
}

export class JobWriter {
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private writing = false;

  constructor(private readonly store: BatchStore) {}

  /**
   * Stores `job` with the next batch. Resolves whether it is the state stored (`false`: the
   * store's guard refused it, since a newer, finished or other-run state is there); rejects
   * if it could not be written.
   */
  save(job: JobView): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ job, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * After the current tick, so every job that changes in it joins the batch; not while a batch
   * is being written, since whatever comes meanwhile joins the next one.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.writing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.writing = true;
    try {
      const outcomes = await this.store.saveMany(batch.map((write) => write.job));
      batch.forEach((write, i) => {
        const outcome = outcomes[i];
        if (outcome?.status === 'fulfilled') write.resolve(outcome.value);
        else write.reject(outcome ? outcome.reason : new Error('the store gave no answer for this write'));
      });
    } catch (err) {
      // No outcome is known: every writer hears of it (the reporter logs it, or its caller does).
      for (const write of batch) write.reject(err);
    } finally {
      this.writing = false;
      if (this.pending.length > 0) this.scheduleFlush();
    }
  }
}
