/**
 * Next runs inside `server.ts` (see there); this file only shapes what Next itself serves. The
 * security headers of every answer are set by the server (lib/server/security-headers.ts).
 */

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Route handlers and server components import lib/server/context.ts: load these with Node's own
  // `require`, as server.ts and the worker do, rather than bundling them.
  serverExternalPackages: ['bullmq', 'ioredis', 'mongodb', 'pino', 'socket.io', '@socket.io/redis-adapter'],
};

export default nextConfig;
