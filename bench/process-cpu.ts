/**
 * CPU time of groups of processes and everything they started, read from Linux's /proc: what a
 * server such as PostgreSQL costs, whose work is done by backends it forks. A process that ended
 * still counts, in its parent's figures for reaped children (`cutime`, `cstime`).
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

interface ProcessTimes {
  ppid: number;
  /** Clock ticks: user and system time of the process, plus those of its reaped children. */
  ticks: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    ticksPerSecond = 100; // Linux's USER_HZ nearly everywhere
  }
  return ticksPerSecond;
}

async function readTimes(pid: number): Promise<ProcessTimes | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The name, in parentheses, may hold spaces: the fields that follow start after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
    return { ppid: Number(fields[1]), ticks: utime + stime + cutime + cstime };
  } catch {
    return null; // ended between the listing and the read
  }
}

/** True where /proc can be read (Linux) and every one of `pids` is there. */
export async function canMeasureCpu(pids: number[]): Promise<boolean> {
  if (pids.length === 0) return false;
  return (await Promise.all(pids.map(readTimes))).every((times) => times !== null);
}

/** CPU seconds that each group of `roots`, with all their descendants, has used so far. */
async function groupCpuSeconds<G extends string>(groups: Record<G, number[]>): Promise<Record<G, number>> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const all = new Map<number, ProcessTimes>();
  for (const [i, times] of (await Promise.all(pids.map(readTimes))).entries()) if (times) all.set(pids[i], times);
  const seconds = {} as Record<G, number>;
  for (const group of Object.keys(groups) as G[]) {
    const tree = new Set(groups[group].filter((pid) => all.has(pid)));
    // Parents come before children in no particular order: repeat until no process joins.
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, times] of all) {
        if (tree.has(pid) || !tree.has(times.ppid)) continue;
        tree.add(pid);
        grew = true;
      }
    }
    let ticks = 0;
    for (const pid of tree) ticks += all.get(pid)!.ticks;
    seconds[group] = ticks / clockTicks();
  }
  return seconds;
}

export interface CpuTimeline<G extends string> {
  /** Cores a group used on average between two moments (epoch ms), read between the samples around them. */
  share(group: G, from: number, to: number): number;
  /** Takes a last sample; idempotent. */
  stop(): Promise<void>;
}

/** Samples the CPU time of each group every `everyMs` until stopped. */
export async function sampleCpu<G extends string>(groups: Record<G, number[]>, everyMs: number): Promise<CpuTimeline<G>> {
  const samples: Array<{ at: number; seconds: Record<G, number> }> = [];
  const take = async () => {
    const seconds = await groupCpuSeconds(groups);
    samples.push({ at: Date.now(), seconds });
  };
  await take();
  let sampling: Promise<void> = Promise.resolve();
  let stopped: Promise<void> | undefined;
  const timer = setInterval(() => (sampling = sampling.then(take)), everyMs);
  // Cumulative CPU at a moment, on the straight line between the samples either side of it.
  const at = (group: G, moment: number): number => {
    const after = samples.findIndex((s) => s.at >= moment);
    if (after === -1) return samples[samples.length - 1].seconds[group];
    if (after === 0) return samples[0].seconds[group];
    const [a, b] = [samples[after - 1], samples[after]];
    return a.seconds[group] + ((b.seconds[group] - a.seconds[group]) * (moment - a.at)) / (b.at - a.at);
  };
  return {
    share: (group, from, to) => (at(group, to) - at(group, from)) / ((to - from) / 1000),
    stop() {
      clearInterval(timer);
      stopped ??= sampling.then(take);
      return stopped;
    },
  };
}
