/**
 * How a worker reports one job: every change gets a new version; status changes are stored and
 * sent at once, progress is sent at most every `emitIntervalMs` and stored at most every
 * `checkpointIntervalMs`. Between two sends only the latest state matters: nothing superseded
 * is ever queued, so a slow consumer never builds a backlog of stale progress.
 */
import type { Logger } from '../lib/infra/logger';
import { isFinished, nextVersion } from '../lib/domain/job-state';
import type { JobPatch, JobView } from '../lib/domain/job';

export type { JobPatch };

export interface ReporterSinks {
  publish(job: JobView): void;
  /** Resolves `false` when the store refused the state (a newer or finished one is stored). */
  save(job: JobView): Promise<boolean | void>;
}

/**
 * Progress sent to the job's watchers at most this often: ten states a second look live, and
 * the Redis emitter has no back-pressure, so more would only build a backlog.
 */
export const EMIT_INTERVAL_MS = 100;

/**
 * Progress stored at most this often while a job runs: a resume checkpoint for whoever reads
 * MongoDB alone. The API and the sockets read the live state in Redis instead, and the embedded
 * store manages only ~150 guarded writes a second for all jobs together (fewer as documents
 * pile up): a write per job every second would fill it with a few hundred downloads.
 */
export const CHECKPOINT_INTERVAL_MS = 10_000;

export interface ReporterOptions {
  logger: Logger;
  /** Default `EMIT_INTERVAL_MS`. */
  emitIntervalMs?: number;
  /** Default `CHECKPOINT_INTERVAL_MS`. */
  checkpointIntervalMs?: number;
}

type Channel = 'emit' | 'persist';

export class JobReporter {
  private state: JobView;
  /** Whether `state` changed since it last got a version: stamped only when it leaves. */
  private unstamped = false;
  private readonly intervals: Record<Channel, number>;
  private readonly lastAt: Record<Channel, number> = { emit: -Infinity, persist: -Infinity };
  private readonly timers: Partial<Record<Channel, NodeJS.Timeout>> = {};
  private writes: Promise<void> = Promise.resolve();
  private emittedVersion = 0;

  constructor(
    initial: JobView,
    private readonly sinks: ReporterSinks,
    private readonly options: ReporterOptions,
  ) {
    this.state = initial;
    this.intervals = { emit: options.emitIntervalMs ?? EMIT_INTERVAL_MS, persist: options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS };
  }

  /** The latest state; its version is given when it is next sent or stored. */
  get job(): JobView {
    return this.state;
  }

  /**
   * Takes note of a version another writer stored (the API's `cancelled`, say), so that the
   * next change outranks it as well as everything this reporter sent; without it, a change one
   * above this reporter's last version may tie with that write and be refused.
   */
  observe(version: number): void {
    if (version > this.state.version) this.state = { ...this.state, version };
  }

  /**
   * A status or stage change: stored, then sent. In that order, a tab that subscribes meanwhile
   * either is in the room when the event goes out or reads the new state in its snapshot; sent
   * first, a job that ends within milliseconds could leave that tab on the state before the end.
   * Not sent if the store refused it, since another state won (e.g. the job was cancelled),
   * and then resolves `false`. If storing failed, it rejects; an unfinished state is sent all
   * the same, so watching tabs still learn of it, but a finished one is not: it outranks every
   * later state of its run in every tab, and the job will go on after this failure.
   */
  async change(patch: JobPatch): Promise<boolean> {
    this.apply(patch);
    this.cancel('emit');
    let stored: boolean | void;
    try {
      stored = await this.send('persist');
    } catch (err) {
      if (!isFinished(this.state.status)) this.send('emit');
      throw err;
    }
    if (stored !== false) this.send('emit');
    return stored !== false;
  }

  /**
   * Progress: sent on the emit rhythm, stored as a checkpoint on its own. A status change
   * stores the latest progress with it, and the checkpoint rhythm starts again from there.
   * The first bytes are sent at once, whatever the rhythm: they tell a person that the
   * download has begun, and they come within milliseconds of the `active` state sent just
   * before, so on the rhythm they would wait almost a whole interval. At most one event more
   * per attempt.
   */
  progress(patch: JobPatch): void {
    const firstBytes = this.state.bytesReceived === 0 && (patch.bytesReceived ?? 0) > 0;
    this.apply(patch);
    if (firstBytes) this.sendInBackground('emit');
    else this.schedule('emit');
    this.schedule('persist');
  }

  /**
   * Stops the timers and waits for the writes under way. Progress not stored yet is dropped:
   * the `change` that ends an attempt has stored it with the new status.
   */
  async close(): Promise<void> {
    this.cancel('emit');
    this.cancel('persist');
    await this.writes;
  }

  private apply(patch: JobPatch): void {
    this.state = { ...this.state, ...patch };
    this.unstamped = true;
  }

  /**
   * The state to send, with a new version if it changed since the last one left. Versions are
   * given as states leave, not per change: thousands of chunks a second would otherwise push
   * them seconds ahead of the clock, and past the versions other writers take from it.
   */
  private stamped(): JobView {
    if (this.unstamped) {
      const now = Date.now();
      this.state = { ...this.state, version: nextVersion(this.state.version, now), updatedAt: new Date(now).toISOString() };
      this.unstamped = false;
    }
    return this.state;
  }

  private schedule(channel: Channel): void {
    if (this.timers[channel]) return;
    const wait = this.lastAt[channel] + this.intervals[channel] - Date.now();
    if (wait <= 0) {
      this.sendInBackground(channel);
      return;
    }
    this.timers[channel] = setTimeout(() => this.sendInBackground(channel), wait);
  }

  private sendInBackground(channel: Channel): void {
    this.send(channel).catch(() => {
      // Already logged where `writes` is chained; a progress write may fail and the next wins.
    });
  }

  private cancel(channel: Channel): void {
    clearTimeout(this.timers[channel]);
    delete this.timers[channel];
  }

  private send(channel: Channel): Promise<boolean | void> {
    this.cancel(channel);
    this.lastAt[channel] = Date.now();
    const job = this.stamped();
    if (channel === 'emit') {
      // A progress event may already have carried this very state out.
      if (job.version > this.emittedVersion) this.sinks.publish(job);
      this.emittedVersion = job.version;
      return Promise.resolve();
    }
    // Writes go one after another; the store's version guard keeps the newest anyway.
    const write = this.writes.then(() => this.sinks.save(job));
    this.writes = write.then(() => undefined, (err: unknown) => {
      this.options.logger.warn({ err, jobId: job.id }, 'could not store job progress');
    });
    return write;
  }
}
