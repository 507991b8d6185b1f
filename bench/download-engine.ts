/**
 * `npm run bench`: what the download engine costs over the least any downloader must do.
 *
 * Both sides fetch the same file from a local fixture server in a child process: the baseline
 * with a bare `http.get` piped through SHA-256 into a file, the engine with everything it adds
 * (address guard, limits, timers, progress callbacks, the resume note). Printed: throughput and
 * peak memory of each (rounds alternate, the best of each counts), then each target with its
 * verdict. Exits 1 if a target is missed.
 *
 * Loopback only: the fixture listens on 127.0.0.1 and nothing else is dialled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { downloadToFile } from '../lib/engine/download';
import { fixtureSha256 } from '../tests/utils/file-server';

const MB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MB ?? 256) * MB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The engine may be this much slower than the bare pipe at most. */
const MIN_SPEED_RATIO = 0.8;
/** Peak memory above the baseline's peak: a download must stream, never hold the file. */
const MAX_EXTRA_MEMORY_MB = 48;

interface Figures {
  seconds: number;
  peakRssMb: number;
  sha256: string;
}

/** Runs `task` once while sampling this process's resident memory. */
async function measure(task: () => Promise<string>): Promise<Figures> {
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
  const sha256 = await task();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  return { seconds, peakRssMb: Math.max(peak, process.memoryUsage().rss) / MB, sha256 };
}

/** The fastest round's time and hash, and the highest peak memory of any round. */
function best(rounds: Figures[]): Figures {
  const fastest = rounds.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...fastest, peakRssMb: Math.max(...rounds.map((r) => r.peakRssMb)) };
}

async function startFixtureProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'serve-fixture.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (line: Buffer) => resolve((JSON.parse(line.toString()) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the fixture server exited (${code})`)));
  });
  return { url, child };
}

/** The least a downloader does: GET, hash, write. */
function barePipe(url: string, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        const hash = createHash('sha256');
        const hashing = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            done(null, chunk);
          },
        });
        pipeline(response, hashing, createWriteStream(file)).then(() => resolve(hash.digest('hex')), reject);
      })
      .on('error', reject);
  });
}

async function main(): Promise<void> {
  const fixture = await startFixtureProcess();
  const directory = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
  const url = `${fixture.url}/file/${SIZE}?seed=bench`;
  let progressCalls = 0;
  const engineRound = async (name: string, source = url) => {
    const result = await downloadToFile({
      url: source,
      directory: path.join(directory, name),
      allowPrivateAddresses: true,
      resume: true,
      limits: { maxBytes: 2 * SIZE, totalTimeoutMs: 600_000 },
      onProgress: () => void progressCalls++,
    });
    return result.sha256;
  };
  try {
    // Warm-up, so that neither side pays for first-use compilation.
    await barePipe(`${fixture.url}/file/${8 * MB}`, path.join(directory, 'warm-bare'));
    await engineRound('warm', `${fixture.url}/file/${8 * MB}`);
    console.log(`Downloading ${SIZE / MB} MB from a local server, ${ROUNDS} alternating rounds each…`);
    const bare: Figures[] = [];
    const engineRounds: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await measure(() => barePipe(url, path.join(directory, `bare-${round}`))));
      engineRounds.push(await measure(() => engineRound(`engine-${round}`)));
      await rm(path.join(directory, `bare-${round}`), { force: true });
      await rm(path.join(directory, `engine-${round}`), { recursive: true, force: true });
    }
    const baseline = best(bare);
    const engine = best(engineRounds);

    const expected = fixtureSha256(SIZE, 'bench');
    const speed = (f: Figures) => SIZE / MB / f.seconds;
    const row = (name: string, f: Figures) =>
      `${name.padEnd(10)} ${f.seconds.toFixed(2).padStart(7)} s ${speed(f).toFixed(0).padStart(6)} MB/s ${f.peakRssMb.toFixed(0).padStart(6)} MB peak RSS`;
    console.log(row('baseline', baseline));
    console.log(row('engine', engine));

    const ratio = speed(engine) / speed(baseline);
    const extraMemory = engine.peakRssMb - baseline.peakRssMb;
    const targets: Array<[string, boolean]> = [
      [`both stored the right SHA-256`, baseline.sha256 === expected && engine.sha256 === expected],
      [`engine speed ≥ ${MIN_SPEED_RATIO * 100}% of baseline: ${(ratio * 100).toFixed(0)}%`, ratio >= MIN_SPEED_RATIO],
      [`engine peak memory ≤ baseline + ${MAX_EXTRA_MEMORY_MB} MB: ${extraMemory >= 0 ? '+' : ''}${extraMemory.toFixed(0)} MB`, extraMemory <= MAX_EXTRA_MEMORY_MB],
    ];
    for (const [target, met] of targets) console.log(`${met ? 'ok  ' : 'MISS'} ${target}`);
    console.log(`(${progressCalls} progress callbacks over ${ROUNDS} engine rounds)`);
    process.exitCode = targets.every(([, met]) => met) ? 0 : 1;
  } finally {
    fixture.child.kill('SIGTERM');
    await rm(directory, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
