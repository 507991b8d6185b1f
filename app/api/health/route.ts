import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** GET /api/health → 200 when this node reaches MongoDB and Redis. */
export const GET = route(async ({ mongo, redis }) => {
  await Promise.all([mongo.db().command({ ping: 1 }), redis.ping()]);
  return Response.json({ ok: true }, { headers: { 'Cache-Control': 'no-store' } });
});
