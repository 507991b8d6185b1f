/**
 * The supervisor of `npm start`'s children, with real child processes: a child that dies is
 * started again and the reason is logged; one that keeps failing at start is given up on; a run
 * that lasted counts as a good start.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnService } from '../../scripts/services/process';
import { supervise, type Supervisor } from '../../scripts/supervisor';
import { waitFor } from '../utils/wait-for';

const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop({ graceMs: 2_000 })));
});

/** A supervised `node -e script`, its log lines and how many times it was started. */
function node(script: string, options: { backoffMs?: number; stableAfterMs?: number; maxFailedStarts?: number } = {}) {
  const lines: string[] = [];
  let starts = 0;
  const supervisor = supervise({
    name: 'test child',
    start: () => {
      starts++;
      return spawnService('test child', process.execPath, ['-e', script]);
    },
    log: (line) => lines.push(line),
    ...options,
  });
  running.push(supervisor);
  return { supervisor, lines, starts: () => starts };
}

describe('supervise', () => {
  it('starts a child that was killed again, and says why it stopped', async () => {
    const { supervisor, lines } = node('setInterval(() => {}, 1000)', { backoffMs: 50 });
    const first = supervisor.current();
    first.child.kill('SIGKILL');
    const second = await waitFor('a new copy', () => (supervisor.current() !== first ? supervisor.current() : null));
    expect(second.child.pid).not.toBe(first.child.pid);
    expect(lines.join('\n')).toMatch(/The test child stopped \(signal SIGKILL\) after [\d.]+ s\. Restarting it in 0\.1 s\./);
    expect(lines.at(-1)).toBe(`The test child started (pid ${second.child.pid}).`);
  });

  it('gives up on a child that keeps failing at start, with backoff between tries', async () => {
    const { supervisor, lines, starts } = node('process.exit(3)', { backoffMs: 20, maxFailedStarts: 3 });
    const began = Date.now();
    await expect(supervisor.gaveUp).resolves.toBe('the test child keeps failing at start (exit code 3)');
    expect(starts()).toBe(3);
    // 20 ms, then 40 ms: the wait doubles.
    expect(Date.now() - began).toBeGreaterThanOrEqual(60);
    expect(lines.filter((line) => line.includes('Restarting it in'))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/failed 3 times in a row within [\d.]+ s of starting; giving up/);
  });

  it('keeps restarting a child that fails only after it ran for a while', async () => {
    const { supervisor, starts } = node('setTimeout(() => process.exit(1), 150)', { backoffMs: 10, stableAfterMs: 100, maxFailedStarts: 2 });
    let gaveUp = false;
    void supervisor.gaveUp.then(() => (gaveUp = true));
    await waitFor('four starts', () => starts() >= 4, 10_000);
    expect(gaveUp).toBe(false);
  });

  it('stops restarting once stopped', async () => {
    const { supervisor, starts } = node('setInterval(() => {}, 1000)', { backoffMs: 10 });
    await supervisor.stop({ graceMs: 2_000 });
    expect(supervisor.current().child.signalCode).toBe('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(starts()).toBe(1);
  });
});
