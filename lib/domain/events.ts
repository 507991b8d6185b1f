/**
 * The realtime contract between browsers (or any socket.io client), server nodes and workers.
 * `server.ts` types its `Server` with it, the worker its Redis emitter, the browser its socket.
 */
import type { JobError, JobView } from './job';

/** The answer to `job:subscribe`: the current state (the snapshot), or why there is none. */
export type SubscribeAck = { ok: true; job: JobView } | { ok: false; error: JobError };

export interface ServerToClientEvents {
  /** The job's whole public state; sent to the job's room on every change. */
  'job:update': (job: JobView) => void;
  /** The job was deleted: its record and file are gone, and no more updates will come. */
  'job:deleted': (jobId: string) => void;
  /**
   * This node cannot hear the workers for now (its link to Redis is down): updates pause, and
   * a tab says it is reconnecting rather than show a download that seems to stand still.
   */
  'live:paused': () => void;
  /** It hears them again: a tab subscribes again, as after a reconnect, to catch up. */
  'live:resumed': () => void;
}

export interface ClientToServerEvents {
  /** Join the job's room and receive its current state in the acknowledgement. */
  'job:subscribe': (jobId: string, ack: (result: SubscribeAck) => void) => void;
  /** Leave the job's room. */
  'job:unsubscribe': (jobId: string) => void;
}

/** The one place that names a job's room: the server joins it, workers emit to it. */
export function jobRoom(jobId: string): `job:${string}` {
  return `job:${jobId}`;
}
