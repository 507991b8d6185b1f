/**
 * The downloads this worker process runs right now, each with the AbortController that stops
 * it. The control channel's cancel requests land here.
 */

import { DownloadError } from '../lib/engine/errors';

/** The abort reason of a job stopped because it was cancelled or deleted. */
export const CANCELLED = 'cancelled';

/**
 * The abort reason of a download handed back because its worker is stopping. A stop that may
 * pass, so the engine keeps the partial file for the worker that continues it.
 */
export class HandingBack extends DownloadError {
  constructor() {
    super('aborted', 'This worker is stopping: another one continues the download.', { retryable: true });
  }
}

interface Running {
  controller: AbortController;
  /** The BullMQ lock token this process holds the job under, when it runs it from the queue. */
  token?: string;
  /** The run it runs, once read (see `noteRun`). */
  run?: number;
}

export class RunningJobs {
  private readonly controllers = new Map<string, Running>();
  private stopping = false;

  /**
   * Registers a job; call it before reading the job's state, so that a cancel request sent
   * from then on is never missed (one sent before was stored first, and the read sees it).
   */
  start(jobId: string, token?: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, { controller, token });
    // Taken just as the worker began to stop: handed back before it starts.
    if (this.stopping) controller.abort(new HandingBack());
    return controller;
  }

  /** Hands every job back, and each one taken from now on (see HandingBack). */
  handBackAll(): void {
    this.stopping = true;
    for (const { controller } of this.controllers.values()) controller.abort(new HandingBack());
  }

  /** Stops the job if this process runs it, with `reason`; returns whether it did. */
  cancel(jobId: string, reason: unknown = CANCELLED): boolean {
    const running = this.controllers.get(jobId);
    running?.controller.abort(reason);
    return running !== undefined;
  }

  /** Forgets the job, unless it was registered again meanwhile by a newer run. */
  finish(jobId: string, controller: AbortController): void {
    if (this.controllers.get(jobId)?.controller === controller) this.controllers.delete(jobId);
  }

  /** Which run of the job this process runs, once it has read the job. */
  noteRun(jobId: string, controller: AbortController, run: number): void {
    const running = this.controllers.get(jobId);
    if (running?.controller === controller) running.run = run;
  }

  /** Each job run from the queue, not yet stopped: the lock token it holds and its run, when known. */
  locked(): Array<{ jobId: string; token: string; run?: number }> {
    const held: Array<{ jobId: string; token: string; run?: number }> = [];
    for (const [jobId, { controller, token, run }] of this.controllers) if (token && !controller.signal.aborted) held.push({ jobId, token, run });
    return held;
  }

  get size(): number {
    return this.controllers.size;
  }
}
