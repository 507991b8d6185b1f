import { retryJob } from '@/lib/server/job-actions';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** POST /api/jobs/:id/retry → 200 with the job queued again; 409 `conflict` unless it failed or was cancelled. */
export const POST = route<{ id: string }>(async (context, _request, { id }) =>
  Response.json(await retryJob(context, id), { headers: { 'Cache-Control': 'no-store' } }),
);
