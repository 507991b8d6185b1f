import { appContext } from '@/lib/server/context';
import { AppError } from '@/lib/domain/errors';
import { handleErrors, readJsonBody } from '@/lib/server/http';
import { createJob } from '@/lib/server/job-service';
import { isRefusableDestination } from '@/lib/server/destination';
import { createJobSchema } from '@/lib/domain/job-input';

export const dynamic = 'force-dynamic';

/** Bodies larger than this cannot hold a valid request (the URL is at most 2048 characters). */
const MAX_BODY_BYTES = 16 * 1024;

/** POST /api/jobs {"url": "..."} → 201 with the new job. */
export function POST(request: Request): Promise<Response> {
  return handleErrors(async () => {
    const input = createJobSchema.safeParse(await readJsonBody(request, MAX_BODY_BYTES));
    if (!input.success) {
      const issue = input.error.issues[0];
      const code = issue?.path[0] === 'url' ? 'invalid_url' : 'invalid_request';
      throw new AppError(code, issue?.message ?? 'The request body is not valid.');
    }
    const context = appContext();
    if (!context.config.allowPrivateAddresses && isRefusableDestination(new URL(input.data.url))) {
      throw new AppError('blocked_destination', 'That address is on a private or local network, which this server does not download from.');
    }
    const job = await createJob(context, input.data.url);
    return Response.json(job, { status: 201, headers: { Location: `/api/jobs/${job.id}` } });
  });
}
