import { route } from '@/lib/server/route';
import { checkHealth } from '@/lib/server/health';

export const dynamic = 'force-dynamic';

/**
 * GET /api/health → 200 `{"ok": true, "parts": {"redis": "up", "store": "up"}}` when this node
 * reaches Redis and the MongoDB-wire store; 503 with the same `parts`, and the usual `error`
 * naming the first part that is down, when it does not.
 */
export const GET = route(async (context) => {
  const health = await checkHealth(context);
  return Response.json(health, { status: health.ok ? 200 : 503, headers: { 'Cache-Control': 'no-store' } });
});
