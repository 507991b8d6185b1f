/**
 * Who is asking: the owner id of their browser (or cookie-keeping API client), whether they
 * are signed in, and whether they hold the access token itself. Both cookies are signed with
 * the node's cookie secret (see ./secrets), so a client can neither forge nor pick an owner
 * id; the session cookie is also bound to the access token, so changing the token signs
 * everyone out.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export const OWNER_COOKIE = 'ld_owner';
export const SESSION_COOKIE = 'ld_session';
/** A browser keeps its owner id for a year, and a session for 30 days. */
const OWNER_MAX_AGE_S = 365 * 86_400;
export const SESSION_MAX_AGE_S = 30 * 86_400;

export interface Caller {
  /** The owner id from the signed cookie; null when the request carried none. */
  owner: string | null;
  /** Sent the access token as a bearer token (or socket `auth.token`): may control every job. */
  admin: boolean;
  /** May use the app: no access token is set, or it carried a valid session or the token. */
  signedIn: boolean;
  /** Sent a token, and it was wrong (a failed sign-in attempt). */
  wrongToken: boolean;
}

/** A caller that sent nothing: watches, controls nothing. */
export const STRANGER: Caller = { owner: null, admin: false, signedIn: true, wrongToken: false };

export interface IdentitySettings {
  secret: string;
  accessToken: string | null;
  /** Cookies get `Secure` when the app is reached over https. */
  secureCookies: boolean;
}

export interface Identity {
  /** Reads the caller from a request's headers; `socketToken` is a socket's `auth.token`. */
  identify(headers: IncomingHttpHeaders | Headers, socketToken?: unknown): Caller;
  /** Whether `token` is the access token (always false when none is set). */
  isAccessToken(token: unknown): boolean;
  /** The `Set-Cookie` value of a new session. */
  sessionCookie(now?: number): string;
  /** The `Set-Cookie` value that ends the session. */
  endSessionCookie(): string;
  /**
   * Wraps Node's request handler: a request without a valid owner cookie gets one, set on
   * the response and added to the request, so every handler after it sees the owner.
   */
  assignOwner(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void;
}

export function createIdentity({ secret, accessToken, secureCookies }: IdentitySettings): Identity {
  const sign = (value: string) => createHmac('sha256', secret).update(value).digest('base64url');
  const signed = (value: string) => `${value}.${sign(value)}`;
  const verified = (cookie: string | undefined): string | null => {
    const dot = cookie?.lastIndexOf('.') ?? -1;
    if (!cookie || dot <= 0) return null;
    const value = cookie.slice(0, dot);
    return sameText(cookie.slice(dot + 1), sign(value)) ? value : null;
  };
  // The session is bound to the token: a new token makes every old session invalid.
  const tokenTag = accessToken ? createHash('sha256').update(accessToken).digest('base64url').slice(0, 16) : '';
  const attributes = `Path=/; HttpOnly; SameSite=Lax${secureCookies ? '; Secure' : ''}`;

  const isAccessToken = (token: unknown) => accessToken !== null && typeof token === 'string' && sameText(token, accessToken);
  const validSession = (cookie: string | undefined, now: number) => {
    const value = verified(cookie);
    const [tag, issued] = value?.split(':') ?? [];
    return tag === tokenTag && Number(issued) > now - SESSION_MAX_AGE_S * 1000 && Number(issued) <= now + 60_000;
  };

  const identify: Identity['identify'] = (headers, socketToken) => {
    const cookies = parseCookies(header(headers, 'cookie'));
    const bearer = /^Bearer (.+)$/i.exec(header(headers, 'authorization') ?? '')?.[1];
    const token = bearer ?? (typeof socketToken === 'string' ? socketToken : undefined);
    const admin = isAccessToken(token);
    const owner = verified(cookies.get(OWNER_COOKIE));
    return {
      owner: owner && /^[\w-]{1,64}$/.test(owner) ? owner : null,
      admin,
      signedIn: accessToken === null || admin || validSession(cookies.get(SESSION_COOKIE), Date.now()),
      wrongToken: accessToken !== null && token !== undefined && !admin,
    };
  };

  return {
    identify,
    isAccessToken,
    sessionCookie: (now = Date.now()) => `${SESSION_COOKIE}=${signed(`${tokenTag}:${now}`)}; Max-Age=${SESSION_MAX_AGE_S}; ${attributes}`,
    endSessionCookie: () => `${SESSION_COOKIE}=; Max-Age=0; ${attributes}`,
    assignOwner: (handler) => (req, res) => {
      if (!identify(req.headers).owner) {
        const cookie = `${OWNER_COOKIE}=${signed(randomUUID())}`;
        res.appendHeader('Set-Cookie', `${cookie}; Max-Age=${OWNER_MAX_AGE_S}; ${attributes}`);
        // Later cookies of the same name win in parseCookies: the new one replaces a forged one.
        req.headers.cookie = req.headers.cookie ? `${req.headers.cookie}; ${cookie}` : cookie;
      }
      handler(req, res);
    },
  };
}

function header(headers: IncomingHttpHeaders | Headers, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as IncomingHttpHeaders)[name];
  return Array.isArray(value) ? value.join('; ') : value;
}

function parseCookies(cookieHeader: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of cookieHeader?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

/** Compares without leaking, through timing, how much of a guess was right. */
function sameText(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}
