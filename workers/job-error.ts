/**
 * The engine knows no jobs: its failures have codes of their own. A job's error takes the
 * engine's code and message, every one of which the error catalogue lists (a test keeps them
 * together), except `aborted`, which never ends a job on its own: a stopped attempt is a
 * cancel, or a worker that let go of the job.
 */
import { jobError, type JobError } from '../lib/domain/errors';
import type { DownloadError } from '../lib/engine/errors';

export function jobErrorFrom(error: DownloadError): JobError {
  return jobError(error.code === 'aborted' ? 'interrupted' : error.code, error.message);
}
