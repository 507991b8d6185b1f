/**
 * The checks of this node's request pipeline (see ./pipeline). Each is written once and holds
 * for pages, API routes and socket.io handshakes alike.
 */
import { AppError } from '../domain/errors';
import type { Identity } from './identity';
import type { Limits } from './limits';
import type { RequestCheck, RequestFacts } from './pipeline';

/**
 * While the node shuts down it takes nothing new: a client that asks now (on a connection kept
 * alive, or a reconnecting socket) is told to try again, which behind a balancer means another
 * node.
 */
export function refuseWhileClosing(closing: () => boolean): RequestCheck {
  return () => {
    if (closing()) throw new AppError('unavailable', 'This server is shutting down. Try again in a moment.');
  };
}

/** What the Host and Origin checks need to know of the app. */
export interface AppAddress {
  /** Where people reach the app, when not on loopback only. */
  publicUrl: string | null;
  /** Other origins whose pages may change jobs and open sockets. */
  allowedOrigins: string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The Host header as a URL's host, or null when it is missing or no host at all. */
function hostOf(request: RequestFacts): URL | null {
  const host = request.headers.host;
  if (!host || !URL.canParse(`http://${host}`)) return null;
  const url = new URL(`http://${host}`);
  return url.username || url.password || url.pathname !== '/' ? null : url;
}

function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname.startsWith('127.') || hostname === '[::1]';
}

/**
 * The Host header must name the app: `PUBLIC_URL`'s host, or a loopback name. A page on another
 * site whose name was made to resolve to this machine (DNS rebinding) sends its own name, and is
 * refused with `forbidden_host`.
 */
export function requireKnownHost({ publicUrl }: AppAddress): RequestCheck {
  const publicHost = publicUrl ? new URL(publicUrl).hostname : null;
  return (request) => {
    const host = hostOf(request);
    if (!host || !(host.hostname === publicHost || isLoopbackName(host.hostname))) throw new AppError('forbidden_host');
  };
}

/**
 * Requests that change something, and every socket.io handshake, must come from the app's own
 * pages or an allowed origin: by `Origin`, or `Sec-Fetch-Site` where a browser sent no Origin.
 * A request with neither comes from no browser page (curl, a script) and goes on. A body sent
 * with such a request must be JSON: a form or `text/plain` body is what a foreign page can send
 * without asking. Refused with `forbidden_origin`.
 */
export function requireOwnOrigin({ publicUrl, allowedOrigins }: AppAddress): RequestCheck {
  const allowed = new Set([...allowedOrigins, ...(publicUrl ? [new URL(publicUrl).origin] : [])]);
  const isOwn = (origin: string, request: RequestFacts) => {
    if (!URL.canParse(origin)) return false; // `null` (a sandboxed or opaque page) included
    const { host, origin: normalized } = new URL(origin);
    return allowed.has(normalized) || host === hostOf(request)?.host;
  };
  return (request) => {
    if (request.kind === 'http' && SAFE_METHODS.has(request.method)) return;
    const origin = headerValue(request, 'origin');
    const site = headerValue(request, 'sec-fetch-site');
    const fromOwnPage = origin !== undefined ? isOwn(origin, request) : site === undefined || site === 'same-origin' || site === 'none';
    if (!fromOwnPage || (request.kind === 'http' && hasBody(request) && !isJson(request))) throw new AppError('forbidden_origin');
  };
}

function headerValue(request: RequestFacts, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function hasBody(request: RequestFacts): boolean {
  return Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
}

function isJson(request: RequestFacts): boolean {
  const type = headerValue(request, 'content-type')?.split(';')[0].trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

/** What anyone may fetch without signing in: the sign-in page and API, its assets, health. */
function isOpenPath(url: string): boolean {
  const path = url.split('?')[0];
  return path === '/signin' || path === '/api/session' || path === '/api/health' || path === '/favicon.ico' || path.startsWith('/_next/static/');
}

/**
 * With an access token set, every request and handshake needs a valid session cookie, the
 * token as `Authorization: Bearer`, or (sockets) `auth.token`; else `unauthorized` (pages are
 * sent to the sign-in page instead). Wrong tokens count against their address, which is
 * refused with `rate_limited` once it has failed too often.
 */
export function requireSignIn(identity: Pick<Identity, 'identify'>, limits: Pick<Limits, 'assertMaySignIn' | 'signInFailed'>): RequestCheck {
  return async (request) => {
    if (request.kind === 'http' && isOpenPath(request.url)) return;
    const caller = identity.identify(request.headers, request.socketToken);
    if (caller.signedIn) return;
    const address = request.remoteAddress ?? 'unknown';
    if (caller.wrongToken) {
      await limits.assertMaySignIn(address);
      await limits.signInFailed(address);
    }
    throw new AppError('unauthorized');
  };
}
