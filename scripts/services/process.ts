/**
 * Small process helpers shared by the service starters (redis.ts, mongo.ts, postgres.ts) and
 * scripts/start.ts.
 * Imported by jest's globalSetup, which loads TypeScript through a CommonJS require hook: so no
 * `import.meta`, no `.js` suffixes on local imports, and nothing runs at import time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A child process we started and therefore must stop. */
export interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the process is gone, whatever the reason. */
  readonly exited: Promise<void>;
  /** The last few KB of its output: enough to explain a failed start. */
  tail(): string;
  /**
   * Sends `signal` (default SIGTERM), then SIGKILL if it is still there after `graceMs`.
   * Later calls return the first call's promise: a second signal would cut a graceful exit short.
   */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

const TAIL_BYTES = 8192;

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Own process group, so a Ctrl-C in the terminal reaches only the supervisor, which then stops
   * the app before the databases it writes to. Without it the terminal signals everyone at once.
   */
  detached?: boolean;
  /** Let the output through to our terminal instead of capturing its tail. */
  inheritOutput?: boolean;
  /** Run as this user and group (when we are root). */
  uid?: number;
  gid?: number;
  /**
   * The signal the child gets when this process dies, however it dies (SIGKILL included), so a
   * database server is never left behind. Linux only, through util-linux's `setpriv`; where that
   * is missing the child just outlives us, as without this option.
   */
  exitWithParent?: NodeJS.Signals;
}

let setprivPath: string | null | undefined;

/** util-linux's `setpriv` if it has `--pdeathsig` (2.33+), looked up once. */
function pdeathsigTool(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  const found = process.platform === 'linux' ? findExecutable('setpriv', ['/usr/bin/setpriv']) : null;
  const help = found ? spawnSync(found, ['--help'], { encoding: 'utf8' }).stdout ?? '' : '';
  setprivPath = help.includes('--pdeathsig') ? found : null;
  return setprivPath;
}

export function spawnService(name: string, command: string, args: string[], opts: SpawnOptions = {}): Service {
  const { inheritOutput, exitWithParent, ...spawnOpts } = opts;
  // setpriv sets the parent-death signal and then execs the command: same pid, same signals.
  const setpriv = exitWithParent ? pdeathsigTool() : null;
  const [file, argv] = exitWithParent && setpriv ? [setpriv, ['--pdeathsig', exitWithParent, '--', command, ...args]] : [command, args];
  const child = spawn(file, argv, { ...spawnOpts, stdio: ['ignore', inheritOutput ? 'inherit' : 'pipe', inheritOutput ? 'inherit' : 'pipe'] });
  // Always drain the pipes: FerretDB logs every connection, and a full pipe would block it.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // 'close' also waits for the pipes, which a grandchild may hold open long after the process
  // itself is gone: wait for it only briefly, to catch the last lines of output.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      keep(Buffer.from(`\n${err.message}\n`));
      resolve();
    });
    child.once('exit', () => resolve(Promise.race([closed, new Promise<void>((r) => setTimeout(r, 500))])));
  });
  let stopping: Promise<void> | undefined;
  const gone = () => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  return {
    name,
    child,
    exited,
    tail: () => tail.trim(),
    stop({ signal = 'SIGTERM', graceMs = 10_000 } = {}) {
      stopping ??= (async () => {
        if (!gone()) child.kill(signal);
        const timer = setTimeout(() => {
          if (!gone()) child.kill('SIGKILL');
        }, graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/**
 * Polls `probe` until it answers true. Fails early, with the service's output, if the process
 * dies first: that output is almost always the real reason (port taken, bad flag, …).
 */
export async function waitUntilReady(service: Service, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  let died = false;
  void service.exited.then(() => (died = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (died) break;
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const why = died ? 'exited during start-up' : `did not answer within ${Math.round(timeoutMs / 1000)} s`;
  if (!died) await service.stop({ graceMs: 2_000 });
  const output = service.tail();
  throw new Error(`${service.name} ${why}.${output ? `\nIts output:\n${output}` : ''}`);
}

/** Where `name` would run from: a PATH entry, else the first of `fallbacks` that exists. */
export function findExecutable(name: string, fallbacks: string[] = []): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((dir) => path.join(dir, name)), ...fallbacks]) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; try the next one
    }
  }
  return null;
}

/** True when something accepts TCP connections there: a cheap check before a protocol ping. */
export function portIsOpen(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A port that was free a moment ago (the OS picks it; racy only against other processes). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The project root, found from the working directory (npm scripts and jest run from it, but a
 * user may run a script from a subfolder). `import.meta.url` is not an option here: see top.
 */
export function repoRoot(from = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'tools', 'ferretdb'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}
