import { deleteJob } from '@/lib/server/job-actions';
import { assertMayControl, viewJob } from '@/lib/server/job-service';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** GET /api/jobs/:id → the job's current state. */
export const GET = route<{ id: string }>(async (context, _request, { id }, caller) =>
  Response.json(await viewJob(context, id, caller), { headers: { 'Cache-Control': 'no-store' } }),
);

/** DELETE /api/jobs/:id → 204; stops the download if needed and removes its file and record; 403 `not_owner`. */
export const DELETE = route<{ id: string }>(async (context, _request, { id }, caller) => {
  const owner = await assertMayControl(context, id, caller);
  await deleteJob(context, id, owner);
  return new Response(null, { status: 204 });
});
