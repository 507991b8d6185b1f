import { appContext } from '@/lib/server/context';
import { handleErrors } from '@/lib/server/http';
import { cancelJob } from '@/lib/server/job-actions';

export const dynamic = 'force-dynamic';

/** POST /api/jobs/:id/cancel → 200 with the cancelled job; 409 `conflict` if it has ended. */
export function POST(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  return handleErrors(async () => {
    const job = await cancelJob(appContext(), (await params).id);
    return Response.json(job, { headers: { 'Cache-Control': 'no-store' } });
  });
}
