import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { pino } from 'pino';
import { CHECKPOINT_INTERVAL_MS, EMIT_INTERVAL_MS, JobReporter } from '../../workers/reporter';
import { newJob } from '../../lib/server/job-service';
import type { JobView } from '../../lib/domain/job';

const logger = pino({ level: 'silent' });

/** Sinks that record what was sent and stored, in order; with `holdSaves`, stores finish on demand. */
function recordingSinks({ holdSaves = false } = {}) {
  const calls: Array<{ kind: 'publish' | 'save'; job: JobView; at: number }> = [];
  const pendingSaves: Array<() => void> = [];
  return {
    calls,
    finishSaves: () => pendingSaves.splice(0).forEach((finish) => finish()),
    sinks: {
      publish: (job: JobView) => void calls.push({ kind: 'publish', job, at: Date.now() }),
      save: (job: JobView) => {
        calls.push({ kind: 'save', job, at: Date.now() });
        return holdSaves ? new Promise<void>((resolve) => pendingSaves.push(resolve)) : Promise.resolve();
      },
    },
  };
}

afterEach(() => {
  jest.useRealTimers();
});

describe('when the status changes', () => {
  it('stores the new state before it sends it', async () => {
    const { calls, sinks, finishSaves } = recordingSinks({ holdSaves: true });
    const reporter = new JobReporter(newJob('https://files.invalid/a'), sinks, { logger });
    const change = reporter.change({ status: 'failed', stage: 'done' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.map((c) => c.kind)).toEqual(['save']);
    finishSaves();
    await change;
    expect(calls.map((c) => c.kind)).toEqual(['save', 'publish']);
    expect(calls[1].job).toEqual(calls[0].job);
  });

  it('still sends a running state when storing it failed, and says so', async () => {
    const published: JobView[] = [];
    const reporter = new JobReporter(
      newJob('https://files.invalid/a'),
      { publish: (job) => void published.push(job), save: () => Promise.reject(new Error('store down')) },
      { logger },
    );
    await expect(reporter.change({ status: 'active' })).rejects.toThrow('store down');
    await expect(reporter.change({ status: 'queued', stage: 'retrying' })).rejects.toThrow('store down');
    expect(published.map((j) => j.status)).toEqual(['active', 'queued']);
  });

  it('does not send a finished state it could not store: the job goes on after the failure', async () => {
    const published: JobView[] = [];
    const reporter = new JobReporter(
      newJob('https://files.invalid/a'),
      { publish: (job) => void published.push(job), save: () => Promise.reject(new Error('store down')) },
      { logger },
    );
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      await expect(reporter.change({ status })).rejects.toThrow('store down');
    }
    expect(published).toEqual([]);
  });

  it('does not send a state the store refused, and says so', async () => {
    const published: JobView[] = [];
    const reporter = new JobReporter(
      newJob('https://files.invalid/a'),
      { publish: (job) => void published.push(job), save: () => Promise.resolve(false) },
      { logger },
    );
    expect(await reporter.change({ status: 'completed' })).toBe(false);
    expect(published).toEqual([]);
  });

  it('gives every change a higher version', async () => {
    const { calls, sinks } = recordingSinks();
    const reporter = new JobReporter(newJob('https://files.invalid/a'), sinks, { logger });
    await reporter.change({ status: 'active' });
    await reporter.change({ status: 'completed' });
    const versions = calls.filter((c) => c.kind === 'publish').map((c) => c.job.version);
    expect(versions[1]).toBeGreaterThan(versions[0]);
  });
});

describe('when progress streams in', () => {
  it('sends at most one state per interval, always the latest, and stores less often', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { calls, sinks } = recordingSinks();
    const reporter = new JobReporter(newJob('https://files.invalid/a'), sinks, {
      logger,
      emitIntervalMs: 100,
      checkpointIntervalMs: 1000,
    });
    // 2 seconds of a chunk every 5 ms.
    for (let ms = 0; ms < 2000; ms += 5) {
      reporter.progress({ bytesReceived: ms });
      jest.advanceTimersByTime(5);
    }
    await jest.runOnlyPendingTimersAsync();
    const sent = calls.filter((c) => c.kind === 'publish');
    const stored = calls.filter((c) => c.kind === 'save');
    expect(sent.length).toBeGreaterThanOrEqual(19);
    // One more than the rhythm allows: the first bytes go out at once.
    expect(sent.length).toBeLessThanOrEqual(22);
    expect(stored.length).toBeLessThanOrEqual(3);
    expect(sent.at(-1)?.job.bytesReceived).toBe(1995);
    await reporter.close();
  });
  it('keeps versions at the clock however many chunks arrive between two sends', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { calls, sinks } = recordingSinks();
    const reporter = new JobReporter({ ...newJob('https://files.invalid/a'), version: 1_000_000 }, sinks, { logger });
    // A fast local download: 1,000 chunks within each millisecond, for a second.
    for (let ms = 0; ms < 1000; ms++) {
      for (let chunk = 0; chunk < 1000; chunk++) reporter.progress({ bytesReceived: ms * 1000 + chunk });
      jest.advanceTimersByTime(1);
    }
    await jest.runOnlyPendingTimersAsync();
    expect(Math.max(...calls.map((c) => c.job.version))).toBeLessThanOrEqual(Date.now());
    const sent = calls.filter((c) => c.kind === 'publish').map((c) => c.job.version);
    expect(sent.every((version, i) => i === 0 || version > sent[i - 1])).toBe(true);
    await reporter.close();
  });
});

describe('when the first bytes arrive right after the download started', () => {
  it('sends them at once, then keeps the rhythm', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { calls, sinks } = recordingSinks();
    const reporter = new JobReporter(newJob('https://files.invalid/a'), sinks, { logger });
    const sentBytes = () => calls.filter((c) => c.kind === 'publish').map((c) => c.job.bytesReceived);
    await reporter.change({ status: 'active', stage: 'connecting' });
    reporter.progress({ stage: 'downloading', bytesTotal: 1000, bytesReceived: 0 });
    reporter.progress({ bytesReceived: 10 });
    expect(sentBytes()).toEqual([0, 10]);
    reporter.progress({ bytesReceived: 20 });
    expect(sentBytes()).toEqual([0, 10]);
    await jest.advanceTimersByTimeAsync(EMIT_INTERVAL_MS);
    expect(sentBytes()).toEqual([0, 10, 20]);
    await reporter.close();
  });
});

describe('when a download runs for 30 seconds with progress every 100 ms', () => {
  const SECONDS = 30;

  async function simulate() {
    jest.useFakeTimers({ now: 1_000_000 });
    const { calls, sinks } = recordingSinks();
    const reporter = new JobReporter(newJob('https://files.invalid/a'), sinks, { logger });
    await reporter.change({ status: 'active', stage: 'downloading' });
    const changes = calls.length;
    for (let ms = 100; ms <= SECONDS * 1000; ms += 100) {
      await jest.advanceTimersByTimeAsync(100);
      reporter.progress({ bytesReceived: ms });
    }
    const progressCalls = calls.slice(changes);
    await reporter.change({ status: 'completed', stage: 'done' });
    await reporter.close();
    return { calls, progressCalls };
  }

  it('stores progress only as a checkpoint at most every 10 seconds', async () => {
    const { progressCalls } = await simulate();
    const checkpoints = progressCalls.filter((c) => c.kind === 'save');
    expect(checkpoints.length).toBeGreaterThanOrEqual((SECONDS * 1000) / CHECKPOINT_INTERVAL_MS - 1);
    expect(checkpoints.length).toBeLessThanOrEqual(4);
    const times = checkpoints.map((c) => c.at);
    times.forEach((t, i) => i > 0 && expect(t - times[i - 1]).toBeGreaterThanOrEqual(CHECKPOINT_INTERVAL_MS));
    // Each checkpoint holds the bytes of its moment, not those of the first one.
    expect(new Set(checkpoints.map((c) => c.job.bytesReceived)).size).toBe(checkpoints.length);
  });

  it('sends the live progress about ten times a second all the same', async () => {
    const { progressCalls } = await simulate();
    const sent = progressCalls.filter((c) => c.kind === 'publish');
    expect(sent.length).toBeGreaterThanOrEqual(SECONDS * 10 - 5);
    expect(sent.at(-1)?.job.bytesReceived).toBe(SECONDS * 1000);
  });

  it('stores the status changes at once, the final state with the last bytes', async () => {
    const { calls } = await simulate();
    const stored = calls.filter((c) => c.kind === 'save').map((c) => c.job);
    expect(stored[0]).toMatchObject({ status: 'active', stage: 'downloading' });
    expect(stored.at(-1)).toMatchObject({ status: 'completed', bytesReceived: SECONDS * 1000 });
    expect(calls.at(-1)).toMatchObject({ kind: 'publish', job: stored.at(-1) });
  });
});

describe('when another writer stored a newer version', () => {
  it('outranks it with the next change, even when the clock has not moved past it', async () => {
    const { calls, sinks } = recordingSinks();
    const reporter = new JobReporter(newJob('https://files.invalid/a'), sinks, { logger });
    // The API stored `cancelled` at a version ahead of this reporter's (and of the clock).
    const stored = reporter.job.version + 60_000;
    reporter.observe(stored);
    reporter.observe(stored - 5); // an older one changes nothing
    await reporter.change({ status: 'cancelled', stage: 'done' });
    expect(calls.at(-1)?.job.version).toBe(stored + 1);
  });
});
