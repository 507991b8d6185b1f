/**
 * One large file to a verified file on disk: the app's download engine (address guard, limits,
 * timers, progress, the resume note, SHA-256) against the least any downloader must do, a bare
 * `http.get` piped through SHA-256 into a file, and against what people would type, `curl -o`
 * then `sha256sum`. The file comes from a fixture server in a process of its own, on loopback.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { downloadToFile } from '../../lib/engine/download';
import { fixtureSha256 } from '../../tests/utils/file-server';
import { barePipe } from '../bare-pipe';
import { alternate, startHelperProcess, type Scenario } from '../harness';

const MB = 1024 * 1024;
const run = promisify(execFile);

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

/** What a person would run: download, then hash the file. */
async function curlThenHash(url: string, file: string): Promise<string> {
  await run('curl', ['--silent', '--fail', '--noproxy', '*', '-o', file, url]);
  const { stdout } = await run('sha256sum', [file]);
  return stdout.split(' ')[0];
}

export const verifiedFile: Scenario = {
  name: 'verified-file',
  title: 'one large file to a verified file: the engine against a bare Node pipe and curl + sha256sum',
  async run({ quick }) {
    const size = (quick ? 64 : Number(process.env.BENCH_MB ?? 1024)) * MB;
    const rounds = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
    const fixture = await startHelperProcess<{ url: string }>('serve-fixture.ts');
    const directory = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
    const url = `${fixture.ready.url}/file/${size}?seed=bench`;
    const engine = async (name: string, source = url) => {
      const result = await downloadToFile({
        url: source,
        directory: path.join(directory, name),
        allowPrivateAddresses: true,
        resume: true,
        limits: { maxBytes: 2 * size, totalTimeoutMs: 600_000 },
        onProgress: () => undefined,
      });
      return result.sha256;
    };
    const once = (name: string, task: (file: string) => Promise<string>) => async () => {
      const file = path.join(directory, name);
      const figures = await measure(() => task(file));
      // Outside the measured time: removing a large file is no part of downloading it, and no
      // side may start while dirty pages (its own or the machine's) still wait to be written.
      await rm(file, { recursive: true, force: true });
      await run('sync');
      return figures;
    };
    try {
      // Warm-up, so that no side pays for first-use compilation or a cold page cache.
      await barePipe(`${fixture.ready.url}/file/${8 * MB}`, path.join(directory, 'warm'));
      await engine('warm-engine', `${fixture.ready.url}/file/${8 * MB}`);
      const results = await alternate(rounds, {
        bare: once('bare', (file) => barePipe(url, file)),
        engine: once('engine', (file) => engine(path.basename(file))),
        curl: once('curl', (file) => curlThenHash(url, file)),
      });
      const [bare, app, curl] = [best(results.bare), best(results.engine), best(results.curl)];
      const expected = fixtureSha256(size, 'bench');
      const speed = (f: Figures) => size / MB / f.seconds;
      // Every round's speed too: on a shared machine the spread says how far to trust the best.
      const line = (name: string, f: Figures, all: Figures[]) =>
        `${name.padEnd(16)} ${speed(f).toFixed(0).padStart(6)} MiB/s ${f.peakRssMb.toFixed(0).padStart(5)} MB peak RSS${f.sha256 === expected ? '' : '  WRONG SHA-256'}  (rounds: ${all.map((r) => speed(r).toFixed(0)).join(', ')})`;
      return {
        lines: [
          `${size / MB} MiB, best of ${rounds} alternating round(s)`,
          line('engine (app)', app, results.engine),
          line('bare Node pipe', bare, results.bare),
          line('curl + sha256sum', curl, results.curl),
        ],
        checks: [
          { label: 'every side stored the right SHA-256', value: [bare, app, curl].every((f) => f.sha256 === expected) ? 1 : 0, bound: 'min', goal: 1, unit: '', kind: 'outcome' },
          { label: 'engine / bare Node pipe, speed', value: speed(app) / speed(bare), bound: 'min', goal: 0.95, unit: '×' },
          { label: 'engine / curl + sha256sum, speed', value: speed(app) / speed(curl), bound: 'min', goal: 1.2, unit: '×' },
          // It streams: it never holds the file.
          { label: 'engine peak memory above the bare pipe', value: app.peakRssMb - bare.peakRssMb, bound: 'max', goal: 48, unit: ' MB' },
        ],
      };
    } finally {
      fixture.child.kill('SIGTERM');
      await rm(directory, { recursive: true, force: true });
    }
  },
};
