/**
 * Finds a MongoDB-wire server for the app: MONGODB_URI if set, else a local `mongod`, else the
 * project's embedded FerretDB (tools/ferretdb, built with Go on first use) over an embedded
 * PostgreSQL from npm (./postgres), or over SQLite when that PostgreSQL cannot start. The app
 * itself only ever sees MONGODB_URI, so any of these is interchangeable.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startPostgres } from './postgres';
import { findExecutable, portIsOpen, repoRoot, spawnService, waitUntilReady, type Service } from './process';

const DB_NAME = 'downloader';
/** Go's default install location, often not on PATH for non-login shells. */
const GO_FALLBACKS = ['/usr/local/go/bin/go'];
const FERRETDB_SOURCES = ['main.go', 'go.mod', 'go.sum'];

const NO_BACKEND =
  'No MongoDB available. Either install MongoDB 6+ and set MONGODB_URI (or put `mongod` on PATH), ' +
  'or install Go (https://go.dev/dl/) so the project can build its embedded MongoDB-wire server.';

export interface RunningMongo {
  /** Includes the database, e.g. mongodb://127.0.0.1:27018/downloader. */
  uri: string;
  /**
   * The processes of the server this call started (`mongod`, or FerretDB and PostgreSQL's
   * postmaster, whose backends are its children), for measuring what the store costs; empty
   * when the server is someone else's.
   */
  pids: number[];
  /** Stops the server only if this call started it. */
  stop(): Promise<void>;
}

/** True if a server answers `ping` there within the timeout. */
export async function pingMongo(uri: string, timeoutMs = 2_000): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

export function findGo(): string | null {
  return findExecutable('go', GO_FALLBACKS);
}

export function ferretdbBinary(root = repoRoot()): string {
  return path.join(root, '.cache', 'bin', 'ferretdb');
}

function mtimeMs(file: string): number | null {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Builds .cache/bin/ferretdb when it is missing or older than its sources, and returns its path.
 * Go's own cache makes a rebuild take seconds; only the first build (module downloads) is slow.
 */
export async function buildFerretDB(root = repoRoot()): Promise<string> {
  const binary = ferretdbBinary(root);
  const srcDir = path.join(root, 'tools', 'ferretdb');
  const builtAt = mtimeMs(binary);
  const stale = builtAt === null || FERRETDB_SOURCES.some((f) => (mtimeMs(path.join(srcDir, f)) ?? 0) > builtAt);
  if (!stale) return binary;

  const go = findGo();
  if (!go) {
    // A checkout can make sources look newer than a perfectly good binary: use it rather than fail.
    if (builtAt !== null) return binary;
    throw new Error(NO_BACKEND);
  }
  console.log(`Building the embedded MongoDB-wire server (FerretDB) into ${path.relative(root, binary)}; the first build takes ~2 minutes.`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(go, ['build', '-o', binary, '.'], { cwd: srcDir, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`Building FerretDB failed (go build exited with ${code}); see the output above.`);
  // Go may leave an up-to-date binary untouched; mark it fresh or every start would rebuild.
  const now = new Date();
  fs.utimesSync(binary, now, now);
  return binary;
}

/** Hides credentials before a URI goes into an error message. */
function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

/** A folder as the user knows it: relative to the working directory when inside it. */
function shown(dir: string): string {
  const rel = path.relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
}

export interface MongoOptions {
  /** Where a local `mongod` and the SQLite fallback keep their data. */
  dataDir: string;
  /**
   * Where the embedded PostgreSQL keeps its cluster. Omitted: a throwaway cluster in a temp
   * folder, without fsync, removed by stop() (tests, benchmarks).
   */
  postgresDir?: string;
  port?: number;
  detached?: boolean;
}

export async function ensureMongo(opts: MongoOptions): Promise<RunningMongo> {
  const nothingToStop = async () => {};
  const configured = process.env.MONGODB_URI;
  if (configured) {
    if (await pingMongo(configured, 5_000)) return { uri: configured, pids: [], stop: nothingToStop };
    throw new Error(`MONGODB_URI is set to ${redact(configured)}, but no MongoDB answers there. Start it, or unset MONGODB_URI.`);
  }

  const mongod = findExecutable('mongod');
  const port = opts.port ?? (mongod ? 27017 : 27018);
  const uri = `mongodb://127.0.0.1:${port}/${DB_NAME}`;

  // Typically our own server left over from a run that was killed: reuse it rather than fail.
  if (await portIsOpen(port)) {
    if (await pingMongo(uri)) return { uri, pids: [], stop: nothingToStop };
    throw new Error(`Port ${port} on 127.0.0.1 is taken by something that does not speak the MongoDB protocol. Free it, or set MONGODB_URI.`);
  }

  if (mongod) {
    const dbPath = path.join(opts.dataDir, 'mongod');
    fs.mkdirSync(dbPath, { recursive: true });
    const args = ['--dbpath', dbPath, '--bind_ip', '127.0.0.1', '--port', String(port), '--quiet'];
    const service = spawnService('mongod', mongod, args, { detached: opts.detached });
    await waitUntilReady(service, () => pingMongo(uri, 1_000), 30_000);
    return { uri, pids: pidsOf(service.child.pid), stop: () => service.stop() };
  }
  return startEmbedded(uri, port, opts);
}

/**
 * FerretDB over the embedded PostgreSQL; over SQLite when PostgreSQL cannot start here (no
 * binaries for this platform, root without a `postgres` user, …), said in one line. Both servers
 * die with this process; stop() stops FerretDB, then PostgreSQL.
 */
async function startEmbedded(uri: string, port: number, opts: MongoOptions): Promise<RunningMongo> {
  const binary = await buildFerretDB();
  const start = async (postgresUrl: string | null): Promise<Service> => {
    const args = ['-listen-addr', `127.0.0.1:${port}`];
    if (postgresUrl === null) {
      fs.mkdirSync(opts.dataDir, { recursive: true });
      args.push('-sqlite-dir', opts.dataDir);
    }
    // The URL holds a password: through the environment, not the process list.
    const env = { ...process.env, FERRETDB_POSTGRESQL_URL: postgresUrl ?? '' };
    const service = spawnService('FerretDB', binary, args, { env, detached: opts.detached, exitWithParent: 'SIGTERM' });
    // ping reaches the backend too, so this also proves FerretDB can use PostgreSQL.
    await waitUntilReady(service, () => pingMongo(uri, 1_000), 30_000);
    return service;
  };

  let why: string;
  try {
    const postgres = await startPostgres({ dir: opts.postgresDir, detached: opts.detached });
    try {
      const ferretdb = await start(postgres.url);
      if (opts.postgresDir) console.log(`Database: FerretDB over the embedded PostgreSQL, data in ${shown(opts.postgresDir)}.`);
      return {
        uri,
        pids: pidsOf(ferretdb.child.pid, postgres.pid),
        async stop() {
          await ferretdb.stop();
          await postgres.stop();
        },
      };
    } catch (err) {
      await postgres.stop();
      why = `FerretDB could not use it: ${firstLine(err)}`;
    }
  } catch (err) {
    why = firstLine(err);
  }
  console.warn(`Embedded PostgreSQL not used (${why}); using FerretDB over SQLite in ${shown(opts.dataDir)}.`);
  const ferretdb = await start(null);
  return { uri, pids: pidsOf(ferretdb.child.pid), stop: () => ferretdb.stop() };
}

function pidsOf(...pids: Array<number | undefined>): number[] {
  return pids.filter((pid): pid is number => pid !== undefined);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
