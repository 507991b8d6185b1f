/**
 * The BullMQ processor: runs one attempt at a job and turns its outcome into the job's state,
 * reported live to its room and stored in MongoDB (status changes and the final state at once,
 * progress as a checkpoint now and then; see JobReporter). A failure that may pass leaves the job
 * `queued` (stage `retrying`) until BullMQ runs the next attempt; only the last one fails it.
 * A cancel request stops the attempt wherever it is.
 */
import { UnrecoverableError, WaitingError } from 'bullmq';
import { toDownloadError, type DownloadError } from '../lib/engine/errors';
import { HandsOff } from '../lib/engine/hands-off';
import type { JobEventPublisher } from '../lib/job-events/port';
import type { LiveStates } from '../lib/job-events/live-state';
import { downloadWithProgress, type AttemptSettings } from './attempt';
import { jobErrorFrom } from './job-error';
import { removeJobFiles } from '../lib/infra/job-files';
import { attemptOf, nextAttemptDelayMs, type DownloadProcessor, type QueuedDownload } from '../lib/infra/queue';
import { JobReporter } from './reporter';
import { JobWriter } from './job-writer';
import { untilStoreAnswers } from './store-outage';
import type { SlotShare } from './slot-share';
import { CANCELLED, HandingBack, type RunningJobs } from './running-jobs';
import { isFinished } from '../lib/domain/job-state';
import type { JobSource, JobStore } from '../lib/infra/job-store';

export interface ProcessorDeps extends AttemptSettings {
  jobs: JobStore;
  publisher: JobEventPublisher;
  /** The newest states sent to the rooms, for the version an attempt must outrank. */
  live: LiveStates;
  running: RunningJobs;
  /** The owner's share of the worker slots; without it every job taken runs. */
  slots?: SlotShare;
}

export function createDownloadProcessor(deps: ProcessorDeps): DownloadProcessor {
  // One per worker process: what its jobs store in the same tick goes in one bulkWrite.
  const writer = new JobWriter(deps.jobs, {
    onOutage: (event, err) =>
      event === 'down' ? deps.logger.warn({ err }, 'the store is out of reach; keeping job states until it is back') : deps.logger.info('the store answers again; stored the states kept'),
  });
  return async (queued, token, signal) => {
    const { jobId } = queued.data;
    // Registered before the job is read: see RunningJobs.start.
    const controller = deps.running.start(jobId, token);
    try {
      const source = await untilStoreAnswers(() => deps.jobs.findSource(jobId), deps.logger, 'read a job to run');
      if (!source || isFinished(source.job.status)) {
        await skipFinished(jobId, source, deps);
        return;
      }
      deps.running.noteRun(jobId, controller, source.job.run);
      // Its owner holds its share of the slots while another's job waits: back to the queue,
      // with nothing stored or sent, so it stays `queued` and no attempt counts. One found
      // `active` was running when its worker died: it held a slot already, and resumes.
      const { slots } = deps;
      if (slots && !(await slots.take(queued, token, source.job.status === 'active'))) throw new WaitingError();
      // BullMQ's own signal (worker.cancelJob) stops it too.
      const stop = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
      try {
        await runAttempt(queued, token, source, controller, stop, writer, deps);
      } finally {
        await slots?.release(queued);
      }
    } finally {
      deps.running.finish(jobId, controller);
    }
  };
}

/**
 * A job taken from the queue that has already ended. One cancelled while it was locked
 * between attempts (so the API could not take it out of the queue) may still have the
 * partial file kept for this attempt: it goes now. A completed job's file stays.
 */
async function skipFinished(jobId: string, source: JobSource | null, { dataDir, logger }: ProcessorDeps): Promise<void> {
  const status = source?.job.status ?? 'deleted';
  if (status === 'cancelled' || status === 'deleted') await removeJobFiles(dataDir, jobId);
  logger.info({ jobId, status }, 'job cancelled or gone; skipping');
}

async function runAttempt(
  queued: QueuedDownload,
  token: string | undefined,
  { job, sourceUrl }: JobSource,
  controller: AbortController,
  signal: AbortSignal,
  writer: JobWriter,
  deps: ProcessorDeps,
): Promise<void> {
  const { jobs, publisher, logger } = deps;
  const reporter = new JobReporter(
    job,
    {
      publish: (j) => publisher.publish(j),
      save: async (j) => {
        const saved = await writer.save(j);
        // Refused: if the job was cancelled or deleted meanwhile, stop at once. Should the
        // cancel request itself be lost, this is how the attempt learns of it, at the latest
        // with its next checkpoint.
        if (!saved) await stopIfCancelled(job.id, controller, deps);
        return saved;
      },
    },
    { logger },
  );
  // The store has only a checkpoint of the progress an earlier attempt sent, which went to the
  // rooms with newer versions, stamped by its own machine's clock (maybe ahead of this one's).
  // Every state this attempt sends must outrank all a tab may have seen, or tabs would keep
  // showing the earlier attempt's last progress.
  reporter.observe((await deps.live.newest(job).catch(() => job)).version);
  const { attempt, maxAttempts } = attemptOf(queued);
  try {
    const started = await reporter.change({
      status: 'active',
      stage: 'connecting',
      attempt,
      maxAttempts,
      retryAt: null,
      error: null,
      speed: 0,
      eta: null,
      sha256: null,
      finishedAt: null,
      // Found active, its worker died mid-download (or bytes came in an earlier attempt): tabs
      // may have seen more bytes than were stored, so say why they may go back for a moment.
      notice: job.status === 'active' || job.bytesReceived > 0 ? RECONNECTING : null,
    });
    if (!started) return await confirmCancelled(reporter, deps);
    // Which worker runs which job: what an operator (and the fault tests) look for first.
    logger.info({ jobId: job.id, attempt, resumeFrom: job.bytesReceived }, 'download started');
    const result = await downloadWithProgress(reporter, sourceUrl, signal, deps, token);
    // A download that ended as its worker began to stop is simply finished.
    const completed =
      (!controller.signal.aborted || handingBack(controller)) &&
      (await reporter.change({
        status: 'completed',
        stage: 'done',
        progress: 100,
        bytesReceived: result.bytes,
        bytesTotal: result.bytes,
        speed: 0,
        eta: 0,
        fileName: result.fileName,
        sha256: result.sha256,
        finishedAt: new Date().toISOString(),
      }));
    if (!completed) return handedOver(controller) ? leave(reporter, deps) : await confirmCancelled(reporter, deps);
    logger.info({ jobId: job.id, bytes: result.bytes, attempt }, 'download completed');
  } catch (err) {
    if (handedOver(controller, err)) return leave(reporter, deps);
    if (handingBack(controller)) return await handBack(queued, token, reporter, deps);
    if (controller.signal.aborted) return await confirmCancelled(reporter, deps);
    const error = toDownloadError(err);
    logger.info({ jobId: job.id, code: error.code, attempt, maxAttempts }, 'download attempt failed');
    if (error.retryable && attempt < maxAttempts) {
      const delayMs = await nextAttemptDelayMs(queued, error);
      const waiting = await reporter.change({
        ...stopped(error),
        status: 'queued',
        stage: 'retrying',
        attempt: attempt + 1,
        retryAt: new Date(Date.now() + delayMs).toISOString(),
      });
      if (!waiting) return await confirmCancelled(reporter, deps);
      throw error; // BullMQ runs the next attempt after the backoff.
    }
    // The last attempt: a partial file kept for a retry that will not come goes too.
    await removeJobFiles(deps.dataDir, job.id);
    const failed = await reporter.change({ ...stopped(error), status: 'failed', stage: 'done', retryAt: null, finishedAt: new Date().toISOString() });
    if (!failed) return await confirmCancelled(reporter, deps);
    throw new UnrecoverableError(error.message);
  } finally {
    await reporter.close();
  }
}

const RECONNECTING = 'Reconnecting to continue after an interruption…';

/**
 * Whether this attempt lost the job to another: stopped by this worker's lock watch (see
 * ./lock-watch), or by the engine, finding the folder claimed by a later attempt (`err`).
 */
function handedOver(controller: AbortController, err?: unknown): boolean {
  return controller.signal.reason instanceof HandsOff || err instanceof HandsOff;
}

function handingBack(controller: AbortController): boolean {
  return controller.signal.reason instanceof HandingBack;
}

/**
 * This worker is stopping (SIGTERM): the job goes back to the queue at once, stored `queued` with
 * the bytes so far as its resume point, so another worker continues it from the partial file
 * within moments instead of after the lock expires. No attempt is counted.
 */
async function handBack(queued: QueuedDownload, token: string | undefined, reporter: JobReporter, { logger }: ProcessorDeps): Promise<never> {
  await reporter.change({ status: 'queued', stage: 'waiting', speed: 0, eta: null, notice: HANDED_BACK });
  try {
    await queued.moveToWait(token);
  } catch (err) {
    // Its lock is lost, or Redis failed: the lock expires, and the stalled-job check queues it.
    logger.warn({ err, jobId: reporter.job.id }, 'could not hand a job back to the queue');
  }
  logger.info({ jobId: reporter.job.id, bytes: reporter.job.bytesReceived }, 'job handed back: this worker is stopping');
  throw new WaitingError();
}

const HANDED_BACK = 'Its worker stopped: another one continues from here.';

/**
 * The job is another attempt's now: this one stores, sends and removes nothing more (its
 * reporter stops with the attempt), since whatever it did could undo the new owner's work. Its
 * files were left as they are.
 */
function leave(reporter: JobReporter, { logger }: ProcessorDeps): void {
  logger.warn({ jobId: reporter.job.id }, 'lost the job to another attempt; leaving it and its files');
}

function stopped(error: DownloadError) {
  return { speed: 0, eta: null, error: jobErrorFrom(error) };
}

async function stopIfCancelled(jobId: string, controller: AbortController, { jobs, logger }: ProcessorDeps): Promise<void> {
  const current = await untilStoreAnswers(() => jobs.find(jobId), logger, 'check for a cancel');
  if (!current || current.status === 'cancelled') controller.abort(CANCELLED);
}

/**
 * The job was cancelled (or deleted) while this attempt ran: its files go, and the cancelled
 * state is stated once more with this worker's last numbers and a version above every
 * progress event it sent, so no tab is left on an earlier one.
 */
async function confirmCancelled(reporter: JobReporter, { jobs, publisher, dataDir, logger }: ProcessorDeps): Promise<void> {
  const jobId = reporter.job.id;
  const current = await untilStoreAnswers(() => jobs.find(jobId), logger, 'check for a cancel');
  if (current && current.status !== 'cancelled') {
    // Not cancelled: another writer won (a second worker after a lost lock, or this one's
    // earlier write that was stored though its answer was lost). Leave it be, but state it:
    // tabs may still show what this attempt last sent, and each keeps only what outranks it.
    logger.warn({ jobId, status: current.status }, 'the job changed under this attempt; leaving it');
    publisher.publish(current);
    return;
  }
  await removeJobFiles(dataDir, jobId);
  logger.info({ jobId, status: current?.status ?? 'deleted' }, 'download stopped: the job was cancelled');
  if (!current) return; // Deleted: its room has been told.
  reporter.observe(current.version);
  await reporter.change({
    status: 'cancelled',
    stage: 'done',
    speed: 0,
    eta: null,
    retryAt: null,
    error: null,
    finishedAt: current.finishedAt,
  });
}
