import { appContext } from '@/lib/server/context';
import { handleErrors } from '@/lib/server/http';

export const dynamic = 'force-dynamic';

/** GET /api/health → 200 when this node reaches MongoDB and Redis. */
export function GET(): Promise<Response> {
  return handleErrors(async () => {
    const { mongo, redis } = appContext();
    await Promise.all([mongo.db().command({ ping: 1 }), redis.ping()]);
    return Response.json({ ok: true }, { headers: { 'Cache-Control': 'no-store' } });
  });
}
