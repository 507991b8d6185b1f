/**
 * What every benchmark scenario shares: how a goal is stated and checked (a ratio against a
 * reference measured in the same run, never a fixed time), rounds that alternate between the
 * app and its reference, and the child processes a scenario starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface BenchOptions {
  /** `BENCH_QUICK=1`: a smoke run, small sizes and one round, for `npm test`. */
  quick: boolean;
}

/** One goal: a measured ratio and the bound it must keep. */
export interface Check {
  label: string;
  value: number;
  /** `min`: the value must be at least `goal`; `max`: at most. */
  bound: 'min' | 'max';
  goal: number;
  /** How the value reads: `×` for a ratio, or a unit. */
  unit: string;
  /**
   * `outcome`: what was done was right (every file's hash, every watcher's final state). The
   * quick run, on a busy machine in `npm test`, holds only these; the speed and memory goals
   * are judged in full runs.
   */
  kind?: 'outcome';
}

export interface ScenarioResult {
  /** What was measured, one line each (for people). */
  lines: string[];
  checks: Check[];
}

export interface Scenario {
  name: string;
  /** One line: what runs against what. */
  title: string;
  run(options: BenchOptions): Promise<ScenarioResult>;
}

export function met(check: Check): boolean {
  return check.bound === 'min' ? check.value >= check.goal : check.value <= check.goal;
}

export function describeCheck(check: Check): string {
  const digits = check.unit === '×' ? 2 : 1;
  return `${check.label}: ${check.value.toFixed(digits)}${check.unit} (goal ${check.bound === 'min' ? '≥' : '≤'} ${check.goal}${check.unit})`;
}

/**
 * Runs each side once per round, in turn, so that drift of the machine hits all alike; each
 * round starts one side further on, so that no side always runs right after the same other
 * one (measured: the side that ran second after a 1 GiB download was about 30% slower, which
 * ever it was). With as many rounds as sides, each side runs once in each place.
 */
export async function alternate<T>(rounds: number, sides: Record<string, () => Promise<T>>): Promise<Record<string, T[]>> {
  const entries = Object.entries(sides);
  const results: Record<string, T[]> = Object.fromEntries(entries.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < entries.length; i++) {
      const [name, side] = entries[(round + i) % entries.length];
      results[name].push(await side());
    }
  }
  return results;
}

/** The `p`-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A TypeScript file of bench/ in a process of its own, which prints one JSON line when ready. */
export async function startHelperProcess<T>(file: string, env: Record<string, string> = {}, args: string[] = []): Promise<{ ready: T; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(import.meta.dirname, file), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const ready = await new Promise<T>((resolve, reject) => {
    child.stdout!.once('data', (line: Buffer) => resolve(JSON.parse(line.toString()) as T));
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
  });
  return { ready, child };
}

/** SIGTERM, and resolves once the process has exited (at once if it already had). */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
