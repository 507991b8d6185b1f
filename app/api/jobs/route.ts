import { AppError } from '@/lib/domain/errors';
import { createJobSchema } from '@/lib/domain/job-input';
import { isRefusableDestination } from '@/lib/server/destination';
import { readJsonBody } from '@/lib/server/http';
import { assertMayOpenJob, createJob, viewFor } from '@/lib/server/job-service';
import { clientAddress } from '@/lib/server/pipeline';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** Bodies larger than this cannot hold a valid request (the URL is at most 2048 characters). */
const MAX_BODY_BYTES = 16 * 1024;

/** POST /api/jobs {"url": "..."} → 201 with the new job. */
export const POST = route(async (context, request, _params, caller) => {
  const input = createJobSchema.safeParse(await readJsonBody(request, MAX_BODY_BYTES));
  if (!input.success) {
    const issue = input.error.issues[0];
    throw new AppError(issue?.path[0] === 'url' ? 'invalid_url' : 'invalid_request', issue?.message);
  }
  if (!context.config.allowPrivateAddresses && isRefusableDestination(new URL(input.data.url))) {
    throw new AppError('blocked_destination');
  }
  // The access token's holder runs the server: its own jobs are not limited.
  if (!caller.admin) {
    await context.limits.jobSubmitted(caller.owner, clientAddress(request.headers));
    await assertMayOpenJob(context, caller.owner);
  }
  const job = await createJob(context, input.data.url, caller.owner);
  return Response.json(viewFor(job, caller, caller.owner), { status: 201, headers: { Location: `/api/jobs/${job.id}` } });
});
