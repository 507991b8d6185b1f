import { AppError, ERROR_CATALOGUE } from '@/lib/domain/errors';
import { createJobProblem, createJobSchema, entryMessage, urlsOf } from '@/lib/domain/job-input';
import { isRefusableDestination } from '@/lib/server/destination';
import { readJsonBody } from '@/lib/server/http';
import { submitJobs, viewFor } from '@/lib/server/job-service';
import { clientAddress } from '@/lib/server/pipeline';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/**
 * Bodies larger than this cannot hold a valid request: at most MAX_BATCH_URLS URLs of at most
 * MAX_URL_LENGTH characters (256 KiB leaves room for JSON's quotes, commas and escapes).
 */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * POST /api/jobs {"url": "..."} → 201 with the new job; {"urls": [...]} → 201 {"jobs": [...]},
 * all or none. An error about one entry of `urls` names it.
 */
export const POST = route(async (context, request, _params, caller) => {
  const input = createJobSchema.safeParse(await readJsonBody(request, MAX_BODY_BYTES));
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
    address: clientAddress(request.headers),
    // The access token's holder runs the server: its own jobs are not limited.
    limited: !caller.admin,
  });
  const views = jobs.map((job) => viewFor(job, caller, caller.owner));
  if (batch) return Response.json({ jobs: views }, { status: 201 });
  return Response.json(views[0], { status: 201, headers: { Location: `/api/jobs/${views[0].id}` } });
});
