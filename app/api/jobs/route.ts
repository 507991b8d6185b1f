import { createJobs, MAX_CREATE_JOBS_BODY_BYTES } from '@/lib/server/create-jobs';
import { readJsonBody } from '@/lib/server/http';
import { clientAddress } from '@/lib/server/pipeline';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/**
 * POST /api/jobs {"url": "..."} → 201 with the new job; {"urls": [...]} → 201 {"jobs": [...]},
 * all or none. The server answers it itself (lib/server/fast-api.ts) without passing it to
 * Next; this handler is what Next would run, with the same answers.
 */
export const POST = route(async (context, request, _params, caller) => {
  const body = await readJsonBody(request, MAX_CREATE_JOBS_BODY_BYTES);
  const created = await createJobs(context, body, caller, clientAddress(request.headers));
  return Response.json(created.body, { status: 201, headers: created.location ? { Location: created.location } : {} });
});
