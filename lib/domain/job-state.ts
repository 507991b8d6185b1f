import { JOB_STATUSES, type JobStatus, type JobView } from './job';

/** Where an ordinary write (a worker's, or the API's cancel) may move a job from each status. */
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['active', 'failed', 'cancelled'],
  // Progress is `active` → `active`; `queued` again while it waits for its next attempt.
  active: ['active', 'queued', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  // The worker that held a cancelled job confirms it with its last numbers.
  cancelled: ['cancelled'],
};

/** Where a person's retry may move a job from: it starts the job's next run. */
const RETRY_TRANSITIONS: Partial<Record<JobStatus, readonly JobStatus[]>> = {
  failed: ['queued'],
  cancelled: ['queued'],
};

export interface TransitionOptions {
  /** The write is a person's retry, the only way out of a finished status. */
  retry?: boolean;
}

/** Whether a write may move a job from one status to another. */
export function canTransition(from: JobStatus, to: JobStatus, { retry = false }: TransitionOptions = {}): boolean {
  const allowed = retry ? RETRY_TRANSITIONS[from] : TRANSITIONS[from];
  return allowed?.includes(to) ?? false;
}

/** The statuses a write of `to` may replace: what the store's guard lets through. */
export function statusesThatMayBecome(to: JobStatus, options: TransitionOptions = {}): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to, options));
}

/** A finished job changes no more unless someone retries it. */
export function isFinished(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** Only a job that ended without a file can run again, under the same id. */
export function canRetry(status: JobStatus): boolean {
  return status === 'failed' || status === 'cancelled';
}

/**
 * The next version after `previous`: a hybrid logical clock in milliseconds. Taking the wall
 * clock keeps versions growing when another process (a new worker after a crash, the API
 * server) writes the job next without knowing the last version that was only emitted, never
 * stored; `previous + 1` keeps them growing when the clock stands still or steps back.
 */
export function nextVersion(previous: number, now: number = Date.now()): number {
  return Math.max(previous + 1, Math.floor(now));
}

type Ordered = Pick<JobView, 'run' | 'status' | 'version'>;

/**
 * The state a client should show after receiving `incoming` while showing `current`, so that
 * snapshots and live events may arrive in any order: see `outranks`.
 */
export function newerJob<T extends Ordered>(current: T | null, incoming: T): T {
  return !current || outranks(incoming, current) ? incoming : current;
}

/**
 * `newerJob` for a client that mixes its own answers (which say whether it may control the
 * job, and give the owner the whole `url`) with states sent to the job's room (which say
 * neither): whichever state wins, it keeps what the client's own answer said. The room's
 * states may outrank that answer (a subscribe's snapshot is read after joining the room).
 */
export function newerJobView(current: JobView | null, incoming: JobView): JobView {
  const next = newerJob(current, incoming);
  const viewer = incoming.canControl !== undefined ? incoming : current?.canControl !== undefined ? current : null;
  if (!viewer || next === viewer) return next;
  return { ...next, url: viewer.url, canControl: viewer.canControl };
}

/**
 * Whether `a` is a newer state of the job than `b`: a later run first (a retry starts one);
 * within a run a finished state over an unfinished one, since a worker may send progress with
 * a higher version in the moment before the API's `cancelled` reaches it; then the higher
 * version.
 */
export function outranks(a: Ordered, b: Ordered): boolean {
  if (a.run !== b.run) return a.run > b.run;
  const aFinished = isFinished(a.status);
  if (aFinished !== isFinished(b.status)) return aFinished;
  return a.version > b.version;
}
