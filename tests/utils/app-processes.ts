/**
 * Starts the real entry points (`server.ts`, `workers/download-worker.ts`) as child processes,
 * the way `npm start` does, with settings of the test's own: a Redis prefix, a database and a
 * data folder nobody else uses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { testMongoUri, testRedisUrl } from './services-env';

/** Environment variables for a child process. */
export type Env = Record<string, string | undefined>;

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface TestSettings {
  env: Env;
  dataDir: string;
  /** Removes the data folder. */
  cleanup(): Promise<void>;
}

/** Settings for one test file: unique prefix, database and data folder on the shared services. */
export async function createTestSettings(overrides: Env = {}): Promise<TestSettings> {
  const id = randomUUID().slice(0, 8);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'downloader-test-'));
  return {
    dataDir,
    env: {
      REDIS_URL: testRedisUrl(),
      MONGODB_URI: testMongoUri(`test_${id}`),
      REDIS_PREFIX: `test-${id}`,
      DATA_DIR: dataDir,
      ALLOW_PRIVATE_ADDRESSES: 'true',
      // Tests submit faster than people do; tests/integration/limits.test.ts turns these on.
      JOBS_PER_MINUTE: '0',
      JOBS_PER_MINUTE_PER_IP: '0',
      MAX_OPEN_JOBS: '0',
      LOG_LEVEL: 'info',
      NEXT_TELEMETRY_DISABLED: '1',
      ...overrides,
    },
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

export interface AppProcess {
  child: ChildProcess;
  /** What the process logged, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface ServerProcess extends AppProcess {
  url: string;
}

/**
 * How a test runs an entry point: from its TypeScript through tsx's loader (the default, which
 * coverage maps back to the sources), or `compiled` ahead of time as `npm start` runs it.
 */
export type EntryForm = 'typescript' | 'compiled';

function entryArgs(kind: 'server' | 'worker', form: EntryForm): string[] {
  if (form === 'compiled') return ['scripts/entry.mjs', kind];
  return ['--import', 'tsx', kind === 'server' ? 'server.ts' : 'workers/download-worker.ts'];
}

export async function startServer(
  env: Env,
  mode: 'production' | 'development' = 'production',
  port = 0,
  form: EntryForm = 'typescript',
): Promise<ServerProcess> {
  const proc = spawnEntry(entryArgs('server', form), { ...env, NODE_ENV: mode, PORT: String(port), HOST: '127.0.0.1' });
  const line = await proc.waitForLog((entry) => entry.msg === 'server listening', mode === 'development' ? 90_000 : 30_000);
  return { ...proc, url: String(line.url) };
}

export async function startWorker(env: Env, form: EntryForm = 'typescript'): Promise<AppProcess> {
  const proc = spawnEntry(entryArgs('worker', form), { ...env, NODE_ENV: 'production' });
  await proc.waitForLog((entry) => entry.msg === 'worker ready', 30_000);
  return proc;
}

type LogEntry = Record<string, unknown>;

function spawnEntry(args: string[], env: Env) {
  const entry = args.join(' ');
  // Node with tsx's loader rather than the tsx CLI, whose own child process would outlive a SIGKILL.
  // Node refuses some flags in NODE_OPTIONS (`--cpu-prof`): ENTRY_NODE_FLAGS passes them, to profile an entry.
  const flags = (env.ENTRY_NODE_FLAGS ?? process.env.ENTRY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<(entry: LogEntry) => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const line of chunk.toString().split('\n')) {
      const parsed = parseLogLine(line);
      if (parsed) for (const waiter of waiters) waiter(parsed);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitForLog = (match: (entry: LogEntry) => boolean, timeoutMs: number) =>
    new Promise<LogEntry>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${entry} did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const waiter = (logged: LogEntry) => match(logged) && finish(undefined, logged);
      const onExit = () => finish(new Error(`${entry} exited before it was ready:\n${output}`));
      function finish(error?: Error, logged?: LogEntry) {
        clearTimeout(timer);
        waiters.delete(waiter);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(logged as LogEntry);
      }
      waiters.add(waiter);
      child.once('exit', onExit);
    });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, output: () => output, stop, waitForLog };
}

function parseLogLine(line: string): LogEntry | null {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line) as LogEntry;
  } catch {
    return null; // Not one of pino's lines (a line cut in two by the pipe, or Next's own output).
  }
}
