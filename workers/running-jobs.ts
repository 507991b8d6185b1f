/**
 * The downloads this worker process runs right now, each with the AbortController that stops
 * it. The control channel's cancel requests land here.
 */

/** The abort reason of a job stopped because it was cancelled or deleted. */
export const CANCELLED = 'cancelled';

export class RunningJobs {
  private readonly controllers = new Map<string, AbortController>();

  /**
   * Registers a job; call it before reading the job's state, so that a cancel request sent
   * from then on is never missed (one sent before was stored first, and the read sees it).
   */
  start(jobId: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, controller);
    return controller;
  }

  /** Stops the job if this process runs it; returns whether it did. */
  cancel(jobId: string): boolean {
    const controller = this.controllers.get(jobId);
    controller?.abort(CANCELLED);
    return controller !== undefined;
  }

  /** Forgets the job, unless it was registered again meanwhile by a newer run. */
  finish(jobId: string, controller: AbortController): void {
    if (this.controllers.get(jobId) === controller) this.controllers.delete(jobId);
  }

  get size(): number {
    return this.controllers.size;
  }
}
