/**
 * What `POST /api/jobs` answers, whichever way the request came: the server's own fast path
 * (./fast-api) or Next's route handler (app/api/jobs/route.ts). The body is read and the
 * caller known by then; this checks the input, submits the jobs and gives the answer.
 */
import { AppError, ERROR_CATALOGUE } from '../domain/errors';
import type { JobView } from '../domain/job';
import { createJobProblem, createJobSchema, entryMessage, urlsOf } from '../domain/job-input';
import type { ServerContext } from './context';
import { isRefusableDestination } from './destination';
import type { Caller } from './identity';
import { submitJobs, viewFor } from './job-service';

/**
 * Bodies larger than this cannot hold a valid request: at most MAX_BATCH_URLS URLs of at most
 * MAX_URL_LENGTH characters (256 KiB leaves room for JSON's quotes, commas and escapes).
 */
export const MAX_CREATE_JOBS_BODY_BYTES = 256 * 1024;

/** The 201 answer: the job (and its `Location`) for `{"url"}`, `{"jobs": [...]}` for `{"urls"}`. */
export interface CreatedJobs {
  body: JobView | { jobs: JobView[] };
  location: string | null;
}

/**
 * `{"url": "..."}` makes one job, `{"urls": [...]}` several, all or none. Throws an AppError
 * for a request it refuses; an error about one entry of `urls` names it.
 */
export async function createJobs(context: ServerContext, body: unknown, caller: Caller, address: string): Promise<CreatedJobs> {
  const input = createJobSchema.safeParse(body);
  if (!input.success) {
    const { code, message, index } = createJobProblem(input.error);
    throw new AppError(code, index === null ? message : entryMessage(index, message));
  }
  const urls = urlsOf(input.data);
  const batch = input.data.urls !== undefined;
  if (!context.config.allowPrivateAddresses) {
    const blocked = urls.findIndex((url) => isRefusableDestination(new URL(url)));
    if (blocked !== -1) {
      throw new AppError('blocked_destination', batch ? entryMessage(blocked, ERROR_CATALOGUE.blocked_destination.message) : undefined);
    }
  }
  const jobs = await submitJobs(context, urls, {
    owner: caller.owner,
    address,
    // The access token's holder runs the server: its own jobs are not limited.
    limited: !caller.admin,
  });
  const views = jobs.map((job) => viewFor(job, caller, caller.owner));
  if (batch) return { body: { jobs: views }, location: null };
  return { body: views[0], location: `/api/jobs/${views[0].id}` };
}
