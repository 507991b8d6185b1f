import { retryJob } from '@/lib/server/job-actions';
import { assertMayControl, viewFor } from '@/lib/server/job-service';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** POST /api/jobs/:id/retry → 200 with the job queued again; 409 `conflict` unless it failed or was cancelled, 403 `not_owner`. */
export const POST = route<{ id: string }>(async (context, _request, { id }, caller) => {
  const owner = await assertMayControl(context, id, caller);
  const job = await retryJob(context, id, owner);
  return Response.json(viewFor(job, caller, owner), { headers: { 'Cache-Control': 'no-store' } });
});
