import { cancelJob } from '@/lib/server/job-actions';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** POST /api/jobs/:id/cancel → 200 with the cancelled job; 409 `conflict` if it has ended. */
export const POST = route<{ id: string }>(async (context, _request, { id }) =>
  Response.json(await cancelJob(context, id), { headers: { 'Cache-Control': 'no-store' } }),
);
