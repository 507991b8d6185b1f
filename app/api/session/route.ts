import { AppError } from '@/lib/domain/errors';
import { signInSchema } from '@/lib/domain/sign-in-input';
import { readJsonBody } from '@/lib/server/http';
import { clientAddress } from '@/lib/server/pipeline';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

const MAX_BODY_BYTES = 2 * 1024;

/**
 * POST /api/session {"token": "..."} → 204 with the session cookie; 401 `unauthorized` for a
 * wrong token, 429 `rate_limited` after too many from one address. Without an access token
 * set there is nothing to sign in to: 204 as well.
 */
export const POST = route(async (context, request) => {
  const input = signInSchema.safeParse(await readJsonBody(request, MAX_BODY_BYTES));
  if (!input.success) throw new AppError('invalid_request', input.error.issues[0]?.message);
  if (context.config.auth.accessToken === null) return new Response(null, { status: 204 });
  const address = clientAddress(request.headers);
  await context.limits.assertMaySignIn(address);
  if (!context.identity.isAccessToken(input.data.token)) {
    await context.limits.signInFailed(address);
    throw new AppError('unauthorized', 'That is not the access token.');
  }
  return new Response(null, { status: 204, headers: { 'Set-Cookie': context.identity.sessionCookie(), 'Cache-Control': 'no-store' } });
});

/** DELETE /api/session → 204; the session cookie is cleared. */
export const DELETE = route(async (context) =>
  new Response(null, { status: 204, headers: { 'Set-Cookie': context.identity.endSessionCookie(), 'Cache-Control': 'no-store' } }),
);
