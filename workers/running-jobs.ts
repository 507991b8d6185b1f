/**
 * The downloads this worker process runs right now, each with the AbortController that stops
 * it. The control channel's cancel requests land here.
 */

/** The abort reason of a job stopped because it was cancelled or deleted. */
export const CANCELLED = 'cancelled';

interface Running {
  controller: AbortController;
  /** The BullMQ lock token this process holds the job under, when it runs it from the queue. */
  token?: string;
}

export class RunningJobs {
  private readonly controllers = new Map<string, Running>();

  /**
   * Registers a job; call it before reading the job's state, so that a cancel request sent
   * from then on is never missed (one sent before was stored first, and the read sees it).
   */
  start(jobId: string, token?: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, { controller, token });
    return controller;
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

  /** Each job run from the queue with the lock token it holds, not yet stopped. */
  locked(): Array<{ jobId: string; token: string }> {
    const held: Array<{ jobId: string; token: string }> = [];
    for (const [jobId, { controller, token }] of this.controllers) if (token && !controller.signal.aborted) held.push({ jobId, token });
    return held;
  }

  get size(): number {
    return this.controllers.size;
  }
}
