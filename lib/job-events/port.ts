/**
 * The job-events port: the one way to tell a job's watchers what happened to it, and the one
 * way to follow a job. Workers and server nodes publish; consumers on server nodes follow.
 * `./redis` fills it with Redis below, so every process on every machine shares the events.
 */
import type { JobView } from '../domain/job';

/** What a job's watchers learn, in the order it happened. */
export type JobEvent =
  /** The job's whole public state, after any change. */
  | { type: 'update'; job: JobView }
  /** The job was deleted: its record and file are gone, and nothing more will come. */
  | { type: 'deleted'; jobId: string };

export interface JobEventPublisher {
  /** Tells the job's watchers its new state, and keeps it as the job's newest live state. */
  publish(job: JobView): void;
  /** Tells the job's watchers that it no longer exists. */
  deleted(jobId: string): void;
}

export interface Following {
  /** Stops the events; safe to call twice. */
  close(): void;
}

export interface JobEventFeed {
  /**
   * Calls `listener` with every event of the job published from the moment this resolves, so a
   * consumer that follows first and reads the job's state second misses nothing.
   */
  follow(jobId: string, listener: (event: JobEvent) => void): Promise<Following>;
  /** Ends every following and closes the feed's connection; safe to call twice. */
  close(): Promise<void>;
}
