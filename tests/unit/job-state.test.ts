import { describe, expect, it } from '@jest/globals';
import { canRetry, canTransition, isFinished, newerJob, nextVersion, statusesThatMayBecome } from '../../lib/domain/job-state';
import { JOB_STATUSES, type JobStatus } from '../../lib/domain/job';

describe('job state machine', () => {
  it('moves a queued job to active, and an active one to any end', () => {
    expect(canTransition('queued', 'active')).toBe(true);
    expect(canTransition('active', 'completed')).toBe(true);
    expect(canTransition('active', 'failed')).toBe(true);
    expect(canTransition('active', 'cancelled')).toBe(true);
  });

  it('lets progress keep an active job active, and a failed attempt wait for the next', () => {
    expect(canTransition('active', 'active')).toBe(true);
    expect(canTransition('active', 'queued')).toBe(true);
  });

  it('cancels or fails a queued job, but does not complete one that never started', () => {
    expect(canTransition('queued', 'cancelled')).toBe(true);
    expect(canTransition('queued', 'failed')).toBe(true);
    expect(canTransition('queued', 'completed')).toBe(false);
  });

  it('never moves a finished job by an ordinary write, but for the cancelling worker confirming it', () => {
    for (const from of ['completed', 'failed', 'cancelled'] as const) {
      for (const to of JOB_STATUSES) {
        expect(canTransition(from, to)).toBe(from === 'cancelled' && to === 'cancelled');
      }
    }
  });

  it('lets a retry queue a failed or cancelled job again, and do nothing else', () => {
    const allowed = JOB_STATUSES.flatMap((from) => JOB_STATUSES.filter((to) => canTransition(from, to, { retry: true })).map((to) => `${from}→${to}`));
    expect(allowed).toEqual(['failed→queued', 'cancelled→queued']);
  });

  it('calls completed, failed and cancelled finished', () => {
    expect(JOB_STATUSES.filter(isFinished)).toEqual(['completed', 'failed', 'cancelled']);
  });
});

describe("the store's guard", () => {
  it('lets a state replace only the statuses that may become it', () => {
    expect(statusesThatMayBecome('active')).toEqual(['queued', 'active']);
    expect(statusesThatMayBecome('queued')).toEqual(['active']);
    expect(statusesThatMayBecome('completed')).toEqual(['active']);
    expect(statusesThatMayBecome('failed')).toEqual(['queued', 'active']);
    expect(statusesThatMayBecome('cancelled')).toEqual(['queued', 'active', 'cancelled']);
    expect(statusesThatMayBecome('queued', { retry: true })).toEqual(['failed', 'cancelled']);
  });
});

describe('retrying by hand', () => {
  it('applies to failed and cancelled jobs only', () => {
    expect(JOB_STATUSES.filter(canRetry)).toEqual(['failed', 'cancelled']);
  });
});

describe('versions', () => {
  it('follow the clock when it moves forward', () => {
    expect(nextVersion(1_000, 5_000)).toBe(5_000);
  });

  it('still grow when the clock stands still or steps back', () => {
    expect(nextVersion(5_000, 5_000)).toBe(5_001);
    expect(nextVersion(5_000, 1_000)).toBe(5_001);
  });

  it('grow strictly over a burst of updates in the same millisecond', () => {
    let version = 0;
    const seen: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      version = nextVersion(version, 42);
      seen.push(version);
    }
    expect(seen.every((v, i) => i === 0 || v > seen[i - 1])).toBe(true);
  });
});

describe('when updates arrive out of order', () => {
  const at = (version: number, status: JobStatus = 'active', run = 1) => ({ id: 'a', run, status, version });

  it('keeps the highest version whatever the order', () => {
    const orders = [
      [1, 2, 3],
      [3, 1, 2],
      [2, 3, 1],
    ];
    for (const order of orders) {
      const shown = order.map((v) => at(v)).reduce<ReturnType<typeof at> | null>(newerJob, null);
      expect(shown?.version).toBe(3);
    }
  });

  it('ignores a stale snapshot that arrives after a live event', () => {
    const live = at(10);
    expect(newerJob(live, at(7))).toBe(live);
  });

  it('ignores a repeat of the version it shows', () => {
    const first = at(5);
    expect(newerJob(first, at(5))).toBe(first);
  });

  it('keeps a cancel over progress the worker sent before the cancel reached it', () => {
    const cancelled = at(10, 'cancelled');
    expect(newerJob(cancelled, at(12, 'active'))).toBe(cancelled);
    expect(newerJob(cancelled, at(13, 'queued'))).toBe(cancelled);
    // The worker's own confirmation, with its last numbers, still replaces the API's.
    const confirmed = at(14, 'cancelled');
    expect(newerJob(cancelled, confirmed)).toBe(confirmed);
  });

  it('shows a finished state even when progress with a higher version arrived first', () => {
    const shown = [at(12, 'active'), at(10, 'failed')].reduce<ReturnType<typeof at> | null>(newerJob, null);
    expect(shown?.status).toBe('failed');
  });

  it("takes a retry's first state over anything of the run before, whatever the versions", () => {
    const retried = at(50, 'queued', 2);
    expect(newerJob(at(100, 'cancelled', 1), retried)).toBe(retried);
    expect(newerJob(retried, at(200, 'active', 1))).toBe(retried);
    expect(newerJob(retried, at(60, 'active', 2)).version).toBe(60);
  });
});
