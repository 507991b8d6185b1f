/** The sign-in form's one input, checked the same way by the page and by the API. */
import { z } from 'zod';

export const signInSchema = z.object(
  { token: z.string({ error: 'Enter the access token.' }).min(1, 'Enter the access token.').max(512, 'That is not the access token.') },
  { error: 'Send a JSON object with the token, like {"token": "…"}.' },
);

/**
 * Where to go after signing in: a path of this app only (`/…`, never `//host` or a full URL),
 * so a crafted sign-in link cannot send people to another site.
 */
export function safeNextPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}
