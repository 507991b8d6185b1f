/**
 * Sent with every page, API answer and file this server gives (after the request pipeline
 * admitted the request), whether Next or the server's own fast path (./fast-api) answers it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  // Job pages are share links: their address must not leak to the sites a user goes on to.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Wraps Node's request handler: the headers are on the response before `handler` answers. */
export function withSecurityHeaders(handler: NodeHandler): NodeHandler {
  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    handler(req, res);
  };
}
