/**
 * Every MongoDB query on jobs. Documents keep the public fields under `_id` instead of `id`,
 * real dates, and `sourceUrl`, the URL as submitted (credentials included) that only the worker
 * reads; `toJobView` is the one way out to clients and never carries it.
 */
import type { AnyBulkWriteOperation, Collection, Db, UpdateOneModel } from 'mongodb';
import { isFinished, nextVersion, statusesThatMayBecome, type TransitionOptions } from '../domain/job-state';
import { JOB_STATUSES, type JobPatch, type JobView } from '../domain/job';

export const JOBS_COLLECTION = 'jobs';

type DateFields = 'createdAt' | 'updatedAt' | 'finishedAt';

/** The stored state, without the internal field. */
type StateDocument = Omit<JobView, 'id' | DateFields> & {
  _id: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
};

export interface JobDocument extends StateDocument {
  /** The URL to download, as submitted; may hold credentials, so it never leaves the server. */
  sourceUrl: string;
  /** Who may change the job (see lib/server/identity); null for jobs stored before owners existed. */
  owner?: string | null;
}

/** A job as the worker needs it: the public state and the URL to download. */
export interface JobSource {
  job: JobView;
  sourceUrl: string;
}

/** `retry`: the write runs a failed or cancelled job again, as its next run. */
export type SaveOptions = TransitionOptions;

export function toJobView(doc: StateDocument): JobView {
  return {
    id: doc._id,
    url: doc.url,
    status: doc.status,
    stage: doc.stage,
    progress: doc.progress,
    bytesReceived: doc.bytesReceived,
    bytesTotal: doc.bytesTotal,
    speed: doc.speed,
    eta: doc.eta,
    fileName: doc.fileName,
    sha256: doc.sha256,
    error: doc.error ? { code: doc.error.code, message: doc.error.message } : null,
    // Documents stored before these fields existed read as a first attempt.
    attempt: doc.attempt ?? 1,
    maxAttempts: doc.maxAttempts ?? 1,
    retryAt: doc.retryAt ?? null,
    notice: doc.notice ?? null,
    run: doc.run,
    version: doc.version,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    finishedAt: doc.finishedAt ? doc.finishedAt.toISOString() : null,
  };
}

export function toStateDocument(job: JobView): StateDocument {
  const { id, createdAt, updatedAt, finishedAt, ...rest } = job;
  return {
    ...rest,
    _id: id,
    createdAt: new Date(createdAt),
    updatedAt: new Date(updatedAt),
    finishedAt: finishedAt ? new Date(finishedAt) : null,
  };
}

const FINISHED_STATUSES: JobView['status'][] = JOB_STATUSES.filter(isFinished);

/** A worker stores a job's progress at most every few seconds, so a few tries always suffice. */
const MAX_UPDATE_TRIES = 5;

/**
 * The guarded write of `job`: it lands unless a newer version is stored, unless the stored
 * status may not become this one (see `canTransition`), and unless the stored state belongs to
 * another run (a worker of an earlier run never writes into a retry).
 */
function guardedWrite(job: JobView, options: SaveOptions = {}): UpdateOneModel<JobDocument> {
  const { _id, ...fields } = toStateDocument(job);
  return {
    filter: {
      _id,
      run: options.retry ? job.run - 1 : job.run,
      version: { $lt: job.version },
      status: { $in: statusesThatMayBecome(job.status, options) },
    },
    update: { $set: fields },
  };
}

export class JobStore {
  private readonly jobs: Collection<JobDocument>;

  constructor(db: Db) {
    this.jobs = db.collection<JobDocument>(JOBS_COLLECTION);
  }

  /**
   * Creates what the queries below need and brings documents stored by an earlier version up
   * to date (those from before runs existed are in their first); safe to call on every start.
   */
  async prepare(): Promise<void> {
    // Only what a query below uses: every index is one more write with each stored state.
    await this.jobs.createIndex({ finishedAt: 1 });
    await this.jobs.updateMany({ run: { $exists: false } }, { $set: { run: 1 } });
  }

  async insert(job: JobView, sourceUrl: string, owner: string | null = null): Promise<void> {
    await this.jobs.insertOne({ ...toStateDocument(job), sourceUrl, owner });
  }

  /** `insert` for new jobs of one owner, all in one write (one `insert` command). */
  async insertMany(entries: readonly JobSource[], owner: string | null = null): Promise<void> {
    await this.jobs.insertMany(entries.map(({ job, sourceUrl }) => ({ ...toStateDocument(job), sourceUrl, owner })));
  }

  /** The job's owner: null when it has none, undefined when there is no such job. */
  async ownerOf(id: string): Promise<string | null | undefined> {
    const doc = await this.jobs.findOne({ _id: id }, { projection: { owner: 1 } });
    return doc ? (doc.owner ?? null) : undefined;
  }

  /** The job and its owner, in one read. */
  async findOwned(id: string): Promise<{ job: JobView; owner: string | null } | null> {
    const doc = await this.jobs.findOne({ _id: id });
    return doc ? { job: toJobView(doc), owner: doc.owner ?? null } : null;
  }

  async find(id: string): Promise<JobView | null> {
    const doc = await this.jobs.findOne({ _id: id });
    return doc ? toJobView(doc) : null;
  }

  /** The job and the URL to download: for the worker only. */
  async findSource(id: string): Promise<JobSource | null> {
    const doc = await this.jobs.findOne({ _id: id });
    return doc ? { job: toJobView(doc), sourceUrl: doc.sourceUrl ?? doc.url } : null;
  }

  /**
   * Stores the job's whole state unless a newer version is already stored (so writes that
   * arrive out of order never move it backwards), unless the stored status may not be
   * replaced by this one (see `canTransition`), and unless the stored state belongs to
   * another run (a worker of an earlier run never writes into a retry). Returns whether this
   * state was written.
   */
  async save(job: JobView, options: SaveOptions = {}): Promise<boolean> {
    const { filter, update } = guardedWrite(job, options);
    const result = await this.jobs.updateOne(filter, update);
    return result.modifiedCount === 1;
  }

  /**
   * `save` for the states of several jobs in one round trip: one `bulkWrite` of guarded
   * `updateOne`s, each with `save`'s guard. Gives, in order, per state: whether it is the one
   * stored now (`false`: the guard refused it, or another writer replaced it at once), or
   * the error that kept it from being written. Rejects only when no outcome can be known.
   */
  async saveMany(jobs: readonly JobView[]): Promise<Array<PromiseSettledResult<boolean>>> {
    const answer = (stored: boolean): PromiseSettledResult<boolean> => ({ status: 'fulfilled', value: stored });
    if (jobs.length === 0) return [];
    const ops: Array<AnyBulkWriteOperation<JobDocument>> = jobs.map((job) => ({ updateOne: guardedWrite(job) }));
    let failure: { reason: unknown } | undefined;
    try {
      const result = await this.jobs.bulkWrite(ops, { ordered: false });
      // Each op matches its one job or nothing, so the total says which when it is all or none.
      if (result.matchedCount === jobs.length) return jobs.map(() => answer(true));
      if (result.matchedCount === 0) return jobs.map(() => answer(false));
    } catch (reason) {
      // A write error leaves no count to trust: FerretDB 1.24 stops at the failed op, reports
      // it at index 0 and counts nothing, though the ops before it were written.
      failure = { reason };
    }
    // Mixed, or failed: the stored versions say which of these states are the stored ones.
    const stored = await this.jobs
      .find({ _id: { $in: jobs.map((job) => job.id) } }, { projection: { run: 1, version: 1 } })
      .toArray()
      .catch((err: unknown) => {
        throw failure ? failure.reason : err;
      });
    const byId = new Map(stored.map((doc) => [doc._id, doc]));
    return jobs.map((job) => {
      const doc = byId.get(job.id);
      if (doc?.run === job.run && doc.version === job.version) return answer(true);
      return failure ? { status: 'rejected', reason: failure.reason } : answer(false);
    });
  }

  /**
   * Reads the job, applies `change` and writes it with the next version, again from the newest
   * state if another writer got in between (a worker's progress, say). `change` may return null
   * to leave the job as it is, or throw to give up. With `retry`, the state written starts
   * the job's next run. Returns the state written, or null when nothing was (no such job, or
   * `change` declined).
   */
  async update(id: string, change: (current: JobView) => JobPatch | null, options: SaveOptions = {}): Promise<JobView | null> {
    for (let tries = 0; tries < MAX_UPDATE_TRIES; tries++) {
      const current = await this.find(id);
      const patch = current && change(current);
      if (!current || !patch) return null;
      const now = Date.now();
      const next: JobView = {
        ...current,
        ...patch,
        run: options.retry ? current.run + 1 : current.run,
        version: nextVersion(current.version, now),
        updatedAt: new Date(now).toISOString(),
      };
      if (await this.save(next, options)) return next;
    }
    throw new Error(`job ${id} kept changing while it was being updated`);
  }

  /** Removes the record; returns whether there was one. */
  async remove(id: string): Promise<boolean> {
    const result = await this.jobs.deleteOne({ _id: id });
    return result.deletedCount === 1;
  }

  /**
   * Up to `limit` jobs that are `active`, or `queued` and unchanged since `queuedBefore`, with
   * their owners: what the reconciler holds up against the queue. Not indexed: it runs every
   * few seconds on one worker only.
   */
  async findOpen(queuedBefore: Date, limit: number): Promise<Array<{ id: string; owner: string | null }>> {
    const docs = await this.jobs
      .find({ $or: [{ status: 'active' }, { status: 'queued', updatedAt: { $lt: queuedBefore } }] }, { projection: { _id: 1, owner: 1 } })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({ id: doc._id, owner: doc.owner ?? null }));
  }

  /** Up to `limit` ids of jobs that ended (completed, failed, cancelled) before `endedBefore`, oldest first. */
  async findEndedBefore(endedBefore: Date, limit: number): Promise<string[]> {
    const docs = await this.jobs
      .find({ finishedAt: { $lt: endedBefore }, status: { $in: FINISHED_STATUSES } }, { projection: { _id: 1 } })
      .sort({ finishedAt: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => doc._id);
  }

  /**
   * Removes the record if the job is still one that ended before `endedBefore`; returns
   * whether it did. One retried in the meantime is running again and stays.
   */
  async removeIfEndedBefore(id: string, endedBefore: Date): Promise<boolean> {
    const result = await this.jobs.deleteOne({ _id: id, finishedAt: { $lt: endedBefore }, status: { $in: FINISHED_STATUSES } });
    return result.deletedCount === 1;
  }
}
