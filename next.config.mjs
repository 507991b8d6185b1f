/**
 * Next runs inside `server.ts` (see there); this file only shapes what Next itself serves.
 */

/** Sent with every page and API answer. */
const securityHeaders = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  // Job pages are share links: their address must not leak to the sites a user goes on to.
  { key: 'Referrer-Policy', value: 'no-referrer' },
  { key: 'X-Frame-Options', value: 'DENY' },
  {
    key: 'Content-Security-Policy',
    value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Route handlers and server components import lib/server/context.ts: load these with Node's own
  // `require`, as server.ts and the worker do, rather than bundling them.
  serverExternalPackages: ['bullmq', 'ioredis', 'mongodb', 'pino', 'socket.io', '@socket.io/redis-adapter'],
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders }];
  },
};

export default nextConfig;
