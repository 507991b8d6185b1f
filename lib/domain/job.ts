/**
 * The public job: the one shape that the HTTP API, the socket.io events, the worker and the
 * browser all share. Internal fields of the stored document never appear here.
 */
import type { JobError } from './errors';

export type { JobError };

/** Where a job is in its life. */
export type JobStatus =
  /** Accepted and waiting for a worker, or for its next attempt (stage `retrying`). */
  | 'queued'
  /** A worker is downloading it. */
  | 'active'
  /** The file is stored and its SHA-256 is known. */
  | 'completed'
  /** It ended without a file; `error` says why. */
  | 'failed'
  /** Someone stopped it. */
  | 'cancelled';

/** What a job is doing right now, finer than its status. */
export type JobStage =
  /** Waiting in the queue. */
  | 'waiting'
  /** Resolving the name and connecting to the remote server. */
  | 'connecting'
  /** Receiving bytes. */
  | 'downloading'
  /** An attempt failed with an error that may pass; the next one starts at `retryAt`. */
  | 'retrying'
  /** Nothing more will happen. */
  | 'done';

export const JOB_STATUSES = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];


export interface JobView {
  id: string;
  /** The URL as submitted, with any credentials in it replaced by `***`. */
  url: string;
  status: JobStatus;
  stage: JobStage;
  /** 0–100, or null while the total size is unknown. */
  progress: number | null;
  bytesReceived: number;
  /** From Content-Length; null when the server did not say. */
  bytesTotal: number | null;
  /** Bytes per second, averaged over the last few seconds. */
  speed: number;
  /** Seconds left, or null when it cannot be estimated. */
  eta: number | null;
  fileName: string | null;
  /** Hex SHA-256 of the stored file, once completed. */
  sha256: string | null;
  /** The failure that ended the job, or, while `retrying`, the one that ended the last attempt. */
  error: JobError | null;
  /** The attempt under way, or the next one while `retrying` (1-based). */
  attempt: number;
  /** How many attempts a failure that may pass gets before the job fails. */
  maxAttempts: number;
  /** While `retrying`: when the next attempt starts (ISO time); otherwise null. */
  retryAt: string | null;
  /** Something people should know about the bytes shown, e.g. why they went back to 0. */
  notice: string | null;
  /**
   * Which run of the job this state belongs to: 1, then one more each time a person retries
   * it. Within a run a finished state is final; see `newerJob` for how clients order states.
   */
  run: number;
  /** Only ever grows: among states of one run, the higher version is the newer state. */
  version: number;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /**
   * Set only in answers to one client (the API, a subscribe's snapshot): whether it may
   * cancel, retry or delete the job. Then `url` is whole for the owner; everyone else, and
   * every state sent to the job's room, gets it without its query (see `withoutQuery`).
   */
  canControl?: boolean;
}

/** A change to a job: any public field but its identity and the fields each write sets itself. */
export type JobPatch = Partial<Omit<JobView, 'id' | 'version' | 'createdAt' | 'updatedAt' | 'canControl'>>;
