import { deleteJob } from '@/lib/server/job-actions';
import { getJob } from '@/lib/server/job-service';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** GET /api/jobs/:id → the job's current state. */
export const GET = route<{ id: string }>(async (context, _request, { id }) =>
  Response.json(await getJob(context, id), { headers: { 'Cache-Control': 'no-store' } }),
);

/** DELETE /api/jobs/:id → 204; stops the download if needed and removes its file and record. */
export const DELETE = route<{ id: string }>(async (context, _request, { id }) => {
  await deleteJob(context, id);
  return new Response(null, { status: 204 });
});
