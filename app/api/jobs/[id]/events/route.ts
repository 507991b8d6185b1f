import { route } from '@/lib/server/route';
import { openJobStream } from '@/lib/server/job-stream';

export const dynamic = 'force-dynamic';

/** GET /api/jobs/:id/events → the job's states as Server-Sent Events; 404 `not_found` before any. */
export const GET = route<{ id: string }>((context, request, { id }, caller) =>
  openJobStream(context, id, { signal: request.signal, heartbeatMs: context.config.sseHeartbeatMs, caller }),
);
