/**
 * `npm start` (production) and `npm run dev`: builds Next when needed, finds or starts Redis and
 * a MongoDB-wire server, then runs the web server and the download worker, restarting either
 * when it dies (./supervisor), until the user presses Ctrl-C (or SIGTERM) or a child keeps
 * failing at start. It stops everything it started, app first, databases last, so in-flight
 * jobs can still write their final state.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureMongo } from './services/mongo';
import { portIsOpen, repoRoot, spawnService, type Service } from './services/process';
import { ensureRedis } from './services/redis';
import { howItEnded, supervise, type Supervisor } from './supervisor';

const root = repoRoot();
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function parseArgs(argv: string[]): { dev: boolean } {
  const unknown = argv.filter((a) => a !== '--dev');
  if (unknown.length > 0) fail(`Unknown option ${unknown.join(' ')}. Usage: npm start | npm run dev`);
  return { dev: argv.includes('--dev') };
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Newest modification time under `target` (a file or a folder), ignoring what does not exist. */
function newestMtime(target: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(target).reduce((max, entry) => Math.max(max, newestMtime(path.join(target, entry))), stat.mtimeMs);
}

/** A production build is stale when any input to it changed after its BUILD_ID was written. */
function buildIsStale(): boolean {
  const builtAt = newestMtime(path.join(root, '.next', 'BUILD_ID'));
  if (builtAt === 0) return true;
  const inputs = ['app', 'components', 'hooks', 'lib', 'next.config.mjs', 'package.json'];
  return inputs.some((input) => newestMtime(path.join(root, input)) > builtAt);
}

function runBuild(): Promise<number | null> {
  console.log('Building the app for production (next build)...');
  return new Promise((resolve, reject) => {
    const child = spawn(bin('next'), ['build'], { cwd: root, stdio: 'inherit', env: process.env });
    child.once('error', reject);
    child.once('close', resolve);
  });
}

/** Where to look for the web server once it listens: a wildcard bind is reachable on localhost. */
function probeHost(): string {
  const host = process.env.HOST ?? '';
  return ['', '0.0.0.0', '::'].includes(host) ? 'localhost' : host;
}

/** Exited as a stop request asks: 0, or the signal itself, or its conventional exit code. */
function stoppedCleanly(service: Service): boolean {
  const { exitCode, signalCode } = service.child;
  return exitCode === 0 || signalCode !== null || exitCode === 130 || exitCode === 143;
}

async function main(): Promise<void> {
  const { dev } = parseArgs(process.argv.slice(2));
  // Next picks dev or prod from NODE_ENV; left unset, `npm start` would silently serve dev mode.
  // (Next's types declare NODE_ENV read-only; it is an ordinary variable at run time.)
  Object.assign(process.env, { NODE_ENV: dev ? 'development' : 'production' });
  process.env.NEXT_TELEMETRY_DISABLED ??= '1';

  if (!dev && buildIsStale()) {
    const code = await runBuild();
    if (code !== 0) fail(`next build failed (exit code ${code}).`);
  }

  const port = Number(process.env.PORT ?? 3000);
  if (await portIsOpen(port, probeHost())) fail(`Port ${port} is already in use (another copy running?). Stop it, or set PORT.`);

  // Registered before anything starts, so a Ctrl-C during start-up still cleans up: detached
  // services ignore the terminal's signals, and we stop them ourselves, after the app.
  let supervisors: Supervisor[] = [];
  let stopRequested = false;
  let stopSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopAsked = new Promise<NodeJS.Signals>((resolve) => (stopSignal = resolve));
  const stopChildren = (signal: NodeJS.Signals) => Promise.all(supervisors.map((s) => s.stop({ signal, graceMs: 15_000 })));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stopRequested) console.log(`\nStopping (${signal})...`);
      stopRequested = true;
      stopSignal(signal);
    });
  }

  const serviceStops: Array<() => Promise<void>> = [];
  const stopServices = async () => {
    for (const stop of serviceStops.reverse()) await stop().catch((err: Error) => console.error(err.message));
  };
  let env: NodeJS.ProcessEnv = process.env;
  try {
    const redis = await ensureRedis({ detached: true });
    serviceStops.push(redis.stop);
    const dataRoot = path.resolve(root, process.env.DATA_DIR ?? '.data');
    const mongo = await ensureMongo({ dataDir: path.join(dataRoot, 'db'), postgresDir: path.join(dataRoot, 'pg'), detached: true });
    serviceStops.push(mongo.stop);
    env = { ...process.env, REDIS_URL: redis.url, MONGODB_URI: mongo.uri };
  } catch (err) {
    await stopServices();
    fail(stopRequested ? 'Stopped.' : (err as Error).message);
  }
  if (stopRequested) {
    await stopServices();
    process.exit(130);
  }

  // Node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a child process
  // of its own, and a signal sent to it (SIGKILL above all) would miss the process doing the work.
  // In production, JavaScript compiled ahead of time (scripts/entry.mjs): no TypeScript loader
  // in the running processes, which start faster and hold less memory. In development, the
  // sources themselves through tsx's loader.
  const spawnApp = (name: string, entry: 'server' | 'worker', script: string) =>
    spawnService(name, process.execPath, dev ? ['--import', 'tsx', script] : ['scripts/entry.mjs', entry], {
      cwd: root,
      env,
      detached: true,
      inheritOutput: true,
      exitWithParent: 'SIGTERM',
    });
  // A child that dies is started again (./supervisor): one crash must not take the app down.
  const keep = (name: string, entry: 'server' | 'worker', script: string) =>
    supervise({ name, start: () => spawnApp(name, entry, script), log: (line) => console.error(line) });
  supervisors = [keep('web server', 'server', 'server.ts'), keep('download worker', 'worker', 'workers/download-worker.ts')];
  const url = `http://localhost:${port}`;
  console.log(`Starting Live Downloader (${dev ? 'development' : 'production'}) at ${url}`);

  void (async () => {
    while (!stopRequested) {
      if (await portIsOpen(port, probeHost())) return console.log(`Ready: ${url}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  const gaveUp = Promise.race(supervisors.map((s) => s.gaveUp));
  const outcome = await Promise.race([stopAsked.then((signal) => ({ signal })), gaveUp.then((reason) => ({ reason }))]);
  if ('reason' in outcome) console.error(`Stopping everything: ${outcome.reason}.`);
  await stopChildren('signal' in outcome ? outcome.signal : 'SIGTERM');
  await stopServices();

  // A child that did not take our stop request as a clean exit is worth a line.
  const unclean = supervisors.map((s) => s.current()).filter((child) => !stoppedCleanly(child));
  for (const child of unclean) console.error(`The ${child.name} did not stop cleanly (${howItEnded(child)}).`);
  process.exit('reason' in outcome ? 1 : unclean.length > 0 ? 1 : 0);
}

main().catch((err: Error) => fail(err.message));
