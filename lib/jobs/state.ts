import type { JobStatus, JobView } from './types';

const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['active', 'failed', 'cancelled'],
  // `queued` again while it waits for its next attempt.
  active: ['active', 'queued', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: ['queued'],
  cancelled: ['queued'],
};

/** Whether a job may move from one status to another. Progress is `active` → `active`. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
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
