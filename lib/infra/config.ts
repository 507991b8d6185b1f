/**
 * Settings, read once from the environment by each entry point and passed down.
 * Every setting is documented in the README with its default.
 */
import path from 'node:path';
import { z } from 'zod';
import type { DownloadLimits } from '../engine/download';

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').default('mongodb://127.0.0.1:27017/downloader'),
  /** Namespaces every Redis key (BullMQ and socket.io) so several apps or test runs share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, _ . - only').default('downloader'),
  DATA_DIR: z.string().min(1).default('./.data'),
  ALLOW_PRIVATE_ADDRESSES: flag,
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  MAX_DOWNLOAD_BYTES: z.coerce.number().int().positive().default(10 * 1024 ** 3),
  CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  IDLE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  TOTAL_TIMEOUT_MS: z.coerce.number().int().positive().default(6 * 3600_000),
  MIN_FREE_BYTES: z.coerce.number().int().min(0).default(1024 ** 3),
  MIN_SPEED_BYTES_PER_S: z.coerce.number().int().min(0).default(1024),
  MIN_SPEED_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
  MAX_REDIRECTS: z.coerce.number().int().min(0).max(20).default(5),
  DOWNLOAD_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(3600_000).default(2000),
  /** The address people reach the app at; its host is the one the Host header may name besides loopback. */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Other origins whose pages may change jobs and open sockets, comma-separated. */
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).refine((origin) => URL.canParse(origin) && new URL(origin).origin === origin, 'must be an origin: scheme://host[:port], no path'))),
  /** The shared secret of sign-in; unset, the app is open to whoever reaches it. */
  ACCESS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Lets a server listening beyond loopback start without ACCESS_TOKEN. */
  ALLOW_ANONYMOUS: flag,
  /** Signs the session and owner cookies; unset, one is made once and kept in the database. */
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JOBS_PER_MINUTE: z.coerce.number().int().min(0).default(30),
  JOBS_PER_MINUTE_PER_IP: z.coerce.number().int().min(0).default(60),
  MAX_OPEN_JOBS: z.coerce.number().int().min(0).default(100),
  SIGN_IN_FAILURES_PER_15_MIN: z.coerce.number().int().min(1).default(10),
  SOCKET_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(10_000).default(100),
  SOCKET_SUBSCRIBES_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  SOCKET_CONNECTIONS_PER_IP: z.coerce.number().int().min(0).default(100),
  SLOW_CLIENT_MS: z.coerce.number().int().min(100).default(30_000),
  OWNER_SLOT_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
  RETENTION_DAYS: z.coerce.number().min(0).default(7),
  RETENTION_SWEEP_MS: z.coerce.number().int().min(1000).default(3600_000),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  dev: boolean;
  host: string;
  port: number;
  redisUrl: string;
  mongoUri: string;
  redisPrefix: string;
  /** Absolute. */
  dataDir: string;
  allowPrivateAddresses: boolean;
  workerConcurrency: number;
  limits: DownloadLimits;
  /** How many times a job is tried before a transient failure is final. */
  downloadAttempts: number;
  /** Wait before the second attempt; it doubles for each one after (exponential backoff). */
  retryBackoffMs: number;
  /** Where people reach the app, when it is not on loopback only. */
  publicUrl: string | null;
  /** Origins besides the app's own whose pages may change jobs and open sockets. */
  allowedOrigins: string[];
  /** How often an idle event stream sends a comment line, so proxies keep it open. */
  sseHeartbeatMs: number;
  auth: {
    /** null: no sign-in. */
    accessToken: string | null;
    allowAnonymous: boolean;
    /** null: made once and kept in the database (see lib/server/secrets). */
    sessionSecret: string | null;
  };
  /** Each 0 turns its limit off. */
  quotas: {
    jobsPerMinute: number;
    jobsPerMinutePerIp: number;
    /** Jobs queued or active per owner. */
    maxOpenJobs: number;
    signInFailuresPer15Min: number;
    socketMaxSubscriptions: number;
    socketSubscribesPerMinute: number;
    socketConnectionsPerIp: number;
  };
  /** How long a socket whose writes do not drain may stay behind before it is disconnected. */
  slowClientMs: number;
  /** The largest share of all worker slots one owner's jobs may take while others' jobs wait. */
  ownerSlotShare: number;
  retention: {
    /** Finished jobs older than this are removed; 0 keeps them for ever. */
    maxAgeMs: number;
    sweepMs: number;
  };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid settings:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses settings from `env`; throws a ConfigError that names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  return {
    dev: e.NODE_ENV !== 'production',
    host: e.HOST,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    mongoUri: e.MONGODB_URI,
    redisPrefix: e.REDIS_PREFIX,
    dataDir: path.resolve(e.DATA_DIR),
    allowPrivateAddresses: e.ALLOW_PRIVATE_ADDRESSES,
    workerConcurrency: e.WORKER_CONCURRENCY,
    limits: {
      maxBytes: e.MAX_DOWNLOAD_BYTES,
      connectTimeoutMs: e.CONNECT_TIMEOUT_MS,
      idleTimeoutMs: e.IDLE_TIMEOUT_MS,
      totalTimeoutMs: e.TOTAL_TIMEOUT_MS,
      maxRedirects: e.MAX_REDIRECTS,
      minFreeBytes: e.MIN_FREE_BYTES,
      minSpeedBytesPerS: e.MIN_SPEED_BYTES_PER_S,
      minSpeedWindowMs: e.MIN_SPEED_WINDOW_MS,
    },
    downloadAttempts: e.DOWNLOAD_ATTEMPTS,
    retryBackoffMs: e.RETRY_BACKOFF_MS,
    publicUrl: e.PUBLIC_URL ?? null,
    allowedOrigins: e.ALLOWED_ORIGINS,
    sseHeartbeatMs: e.SSE_HEARTBEAT_MS,
    auth: { accessToken: e.ACCESS_TOKEN ?? null, allowAnonymous: e.ALLOW_ANONYMOUS, sessionSecret: e.SESSION_SECRET ?? null },
    quotas: {
      jobsPerMinute: e.JOBS_PER_MINUTE,
      jobsPerMinutePerIp: e.JOBS_PER_MINUTE_PER_IP,
      maxOpenJobs: e.MAX_OPEN_JOBS,
      signInFailuresPer15Min: e.SIGN_IN_FAILURES_PER_15_MIN,
      socketMaxSubscriptions: e.SOCKET_MAX_SUBSCRIPTIONS,
      socketSubscribesPerMinute: e.SOCKET_SUBSCRIBES_PER_MINUTE,
      socketConnectionsPerIp: e.SOCKET_CONNECTIONS_PER_IP,
    },
    slowClientMs: e.SLOW_CLIENT_MS,
    ownerSlotShare: e.OWNER_SLOT_SHARE,
    retention: { maxAgeMs: Math.round(e.RETENTION_DAYS * 86_400_000), sweepMs: e.RETENTION_SWEEP_MS },
    logLevel: e.LOG_LEVEL,
  };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Why a server with these settings must not start, or null: listening beyond loopback
 * without `ACCESS_TOKEN` would let anyone who reaches it download through this machine, unless
 * `ALLOW_ANONYMOUS=true` says that is meant.
 */
export function exposureProblem({ host, auth }: Pick<Config, 'host' | 'auth'>): string | null {
  if (isLoopbackHost(host) || auth.accessToken || auth.allowAnonymous) return null;
  return (
    `HOST=${host} lets other machines reach this server, and ACCESS_TOKEN is not set, so anyone could use it. ` +
    'Set ACCESS_TOKEN (people then sign in with it), or ALLOW_ANONYMOUS=true to serve everyone who can reach it.'
  );
}
