import { appContext } from '@/lib/server/context';
import { handleErrors } from '@/lib/server/http';
import { retryJob } from '@/lib/server/job-actions';

export const dynamic = 'force-dynamic';

/** POST /api/jobs/:id/retry → 200 with the job queued again; 409 `conflict` unless it failed or was cancelled. */
export function POST(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  return handleErrors(async () => {
    const job = await retryJob(appContext(), (await params).id);
    return Response.json(job, { headers: { 'Cache-Control': 'no-store' } });
  });
}
