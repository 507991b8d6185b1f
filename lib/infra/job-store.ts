/**
 * Every MongoDB query on jobs. Documents keep the public fields under `_id` instead of `id`,
 * real dates, and `sourceUrl`, the URL as submitted (credentials included) that only the worker
 * reads; `toJobView` is the one way out to clients and never carries it.
 */
import type { Collection, Db } from 'mongodb';
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

/** A worker stores a job's progress about once a second, so a few tries always suffice. */
const MAX_UPDATE_TRIES = 5;

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
    await this.jobs.createIndex({ createdAt: -1 });
    await this.jobs.createIndex({ finishedAt: 1 });
    await this.jobs.createIndex({ owner: 1, status: 1 });
    await this.jobs.updateMany({ run: { $exists: false } }, { $set: { run: 1 } });
  }

  async insert(job: JobView, sourceUrl: string, owner: string | null = null): Promise<void> {
    await this.jobs.insertOne({ ...toStateDocument(job), sourceUrl, owner });
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

  /** How many of the owner's jobs are queued or active. */
  async countOpen(owner: string): Promise<number> {
    return this.jobs.countDocuments({ owner, status: { $in: ['queued', 'active'] } });
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
    const { _id, ...fields } = toStateDocument(job);
    const result = await this.jobs.updateOne(
      {
        _id,
        run: options.retry ? job.run - 1 : job.run,
        version: { $lt: job.version },
        status: { $in: statusesThatMayBecome(job.status, options) },
      },
      { $set: fields },
    );
    return result.modifiedCount === 1;
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
