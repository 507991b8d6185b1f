import { appContext } from '@/lib/server/context';
import { handleErrors } from '@/lib/server/http';
import { deleteJob } from '@/lib/server/job-actions';
import { getJob } from '@/lib/server/job-service';

export const dynamic = 'force-dynamic';

type Params = { params: Promise<{ id: string }> };

/** GET /api/jobs/:id → the job's current state. */
export function GET(_request: Request, { params }: Params): Promise<Response> {
  return handleErrors(async () => {
    const { id } = await params;
    const job = await getJob(appContext(), id);
    return Response.json(job, { headers: { 'Cache-Control': 'no-store' } });
  });
}

/** DELETE /api/jobs/:id → 204; stops the download if needed and removes its file and record. */
export function DELETE(_request: Request, { params }: Params): Promise<Response> {
  return handleErrors(async () => {
    await deleteJob(appContext(), (await params).id);
    return new Response(null, { status: 204 });
  });
}
