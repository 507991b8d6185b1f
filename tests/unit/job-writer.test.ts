import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { MongoNetworkError } from 'mongodb';
import { pino } from 'pino';
import { JobWriter, MAX_BATCH_WRITES, MAX_BATCHES_IN_FLIGHT, type BatchStore } from '../../workers/job-writer';
import { CHECKPOINT_INTERVAL_MS, JobReporter } from '../../workers/reporter';
import { newJob } from '../../lib/server/job-service';
import type { JobView } from '../../lib/domain/job';

const logger = pino({ level: 'silent' });

type Outcome = PromiseSettledResult<boolean>;

/**
 * A store that records each `saveMany` call; `answer` decides each state's outcome (stored by
 * default); with `hold`, a batch is answered only when the test calls `finish()`.
 */
function fakeStore({ answer = (_job: JobView): Outcome => ({ status: 'fulfilled', value: true }), hold = false } = {}) {
  const batches: JobView[][] = [];
  const held: Array<() => void> = [];
  const store: BatchStore = {
    saveMany: async (jobs) => {
      batches.push([...jobs]);
      if (hold) await new Promise<void>((resolve) => held.push(resolve));
      return jobs.map(answer);
    },
  };
  return { store, batches, finish: () => held.splice(0).forEach((resolve) => resolve()) };
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  jest.useRealTimers();
});

describe('when several jobs change in the same tick', () => {
  it('stores their states in one batch, and tells each reporter its own answer', async () => {
    const cancelled = newJob('https://files.invalid/cancelled');
    const { store, batches } = fakeStore({
      // The API stored `cancelled` for this one: the store's guard refuses the worker's state.
      answer: (job) => ({ status: 'fulfilled', value: job.id !== cancelled.id }),
    });
    const writer = new JobWriter(store);
    const published: JobView[] = [];
    const reporters = [newJob('https://files.invalid/a'), cancelled, newJob('https://files.invalid/b')].map(
      (job) => new JobReporter(job, { publish: (j) => void published.push(j), save: (j) => writer.save(j) }, { logger }),
    );

    const results = await Promise.all(reporters.map((reporter) => reporter.change({ status: 'completed', stage: 'done' })));

    expect(batches).toHaveLength(1);
    expect(batches[0].map((job) => job.id)).toEqual(reporters.map((r) => r.job.id));
    expect(results).toEqual([true, false, true]);
    // A refused final state is not sent; the stored ones are, once stored.
    expect(published.map((job) => job.id).sort()).toEqual([reporters[0].job.id, reporters[2].job.id].sort());
  });

  it("stores several reporters' checkpoints that fall due together in one batch", async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { store, batches } = fakeStore();
    const writer = new JobWriter(store);
    const reporters = ['a', 'b', 'c'].map(
      (name) =>
        new JobReporter(newJob(`https://files.invalid/${name}`), { publish: () => undefined, save: (j) => writer.save(j) }, { logger }),
    );
    const started = Promise.all(reporters.map((reporter) => reporter.change({ status: 'active', stage: 'downloading' })));
    await jest.advanceTimersByTimeAsync(0);
    await started;
    expect(batches).toHaveLength(1);

    // A second of progress, then the checkpoint of every job falls due at the same moment.
    for (let ms = 0; ms < 1000; ms += 100) {
      reporters.forEach((reporter, i) => reporter.progress({ bytesReceived: ms + i }));
      await jest.advanceTimersByTimeAsync(100);
    }
    expect(batches).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(CHECKPOINT_INTERVAL_MS);
    await Promise.all(reporters.map((reporter) => reporter.close()));

    expect(batches).toHaveLength(2);
    expect(batches[1].map((job) => job.bytesReceived)).toEqual([900, 901, 902]);
  });
});

describe('when states come in while batches are being stored', () => {
  it('sends a batch of its own for each tick, up to the most batches in flight', async () => {
    const { store, batches, finish } = fakeStore({ hold: true });
    const writer = new JobWriter(store);
    const saves: Array<Promise<boolean>> = [];
    for (let i = 0; i < MAX_BATCHES_IN_FLIGHT; i++) {
      saves.push(writer.save(newJob(`https://files.invalid/${i}`)));
      await nextTick();
    }
    expect(batches.map((batch) => batch.length)).toEqual(Array.from({ length: MAX_BATCHES_IN_FLIGHT }, () => 1));
    finish();
    expect(await Promise.all(saves)).toEqual(saves.map(() => true));
  });

  it('gathers them into the next batch while the most are in flight, one write for all', async () => {
    const { store, batches, finish } = fakeStore({ hold: true });
    const writer = new JobWriter(store, { maxInFlight: 2 });
    const first = [writer.save(newJob('https://files.invalid/first'))];
    await nextTick();
    first.push(writer.save(newJob('https://files.invalid/second')));
    await nextTick();
    expect(batches).toHaveLength(2);
    // Both slots are taken: what comes now waits for one of them.

    const later = [writer.save(newJob('https://files.invalid/a'))];
    await nextTick();
    later.push(writer.save(newJob('https://files.invalid/b')));
    await nextTick();
    later.push(writer.save(newJob('https://files.invalid/c')));
    await nextTick();
    expect(batches).toHaveLength(2);

    finish();
    expect(await Promise.all(first)).toEqual([true, true]);
    await nextTick();
    expect(batches).toHaveLength(3);
    expect(batches[2]).toHaveLength(3);
    finish();
    expect(await Promise.all(later)).toEqual([true, true, true]);
  });
});

describe('when the store cannot write', () => {
  it('fails only the write that failed when the others were stored', async () => {
    const broken = newJob('https://files.invalid/broken');
    const { store } = fakeStore({
      answer: (job) => (job.id === broken.id ? { status: 'rejected', reason: new Error('write error') } : { status: 'fulfilled', value: true }),
    });
    const writer = new JobWriter(store);
    const results = await Promise.allSettled([writer.save(newJob('https://files.invalid/a')), writer.save(broken)]);
    expect(results).toEqual([
      { status: 'fulfilled', value: true },
      { status: 'rejected', reason: new Error('write error') },
    ]);
  });

  it('fails every write of a batch whose outcome is unknown, and goes on with the next', async () => {
    let down = true;
    const writer = new JobWriter({
      saveMany: async (jobs) => {
        if (down) throw new Error('store down');
        return jobs.map(() => ({ status: 'fulfilled', value: true }));
      },
    });
    const failed = await Promise.allSettled([writer.save(newJob('https://files.invalid/a')), writer.save(newJob('https://files.invalid/b'))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    down = false;
    expect(await writer.save(newJob('https://files.invalid/c'))).toBe(true);
  });
});

describe('while the store is out of reach', () => {
  const unreachable = () => new MongoNetworkError('connection to the store was closed');

  it('keeps each write and stores it once the store is back, in order, and says so once', async () => {
    let downFor = 3;
    const batches: string[][] = [];
    const events: string[] = [];
    const writer = new JobWriter(
      {
        saveMany: async (jobs) => {
          batches.push(jobs.map((job) => job.status));
          if (downFor-- > 0) throw unreachable();
          return jobs.map(() => ({ status: 'fulfilled', value: true }));
        },
      },
      { retryMs: [1], onOutage: (event) => void events.push(event) },
    );
    const job = newJob('https://files.invalid/final');
    expect(await writer.save({ ...job, status: 'completed' })).toBe(true);
    expect(batches).toEqual([['completed'], ['completed'], ['completed'], ['completed']]);
    expect(events).toEqual(['down', 'back']);
  });

  it('writes again only the writes that met the outage when the others were stored', async () => {
    const lost = newJob('https://files.invalid/lost');
    let refusedOnce = false;
    const seen: string[] = [];
    const writer = new JobWriter(
      {
        saveMany: async (jobs) => {
          seen.push(...jobs.map((job) => job.id));
          return jobs.map((job) => {
            if (job.id !== lost.id || refusedOnce) return { status: 'fulfilled', value: true };
            refusedOnce = true;
            return { status: 'rejected', reason: unreachable() };
          });
        },
      },
      { retryMs: [1] },
    );
    const other = newJob('https://files.invalid/other');
    expect(await Promise.all([writer.save(other), writer.save(lost)])).toEqual([true, true]);
    expect(seen).toEqual([other.id, lost.id, lost.id]);
  });
});

describe('when more jobs change at once than a batch holds', () => {
  it(`sends batches of at most ${MAX_BATCH_WRITES} writes, with at most ${MAX_BATCHES_IN_FLIGHT} in flight`, async () => {
    const { store, batches, finish } = fakeStore({ hold: true });
    const writer = new JobWriter(store);
    const count = MAX_BATCH_WRITES * (MAX_BATCHES_IN_FLIGHT + 2);
    const saved = Array.from({ length: count }, (_, i) => writer.save(newJob(`https://files.invalid/${i}`)));
    const ticks = async (n: number) => {
      for (let i = 0; i < n; i++) await nextTick();
    };
    await ticks(MAX_BATCHES_IN_FLIGHT + 2);
    // The store is slow: only so many batches go out, and the rest wait for one to end.
    expect(batches.map((batch) => batch.length)).toEqual(Array(MAX_BATCHES_IN_FLIGHT).fill(MAX_BATCH_WRITES));
    for (let round = 0; round < 3; round++) {
      finish();
      await ticks(MAX_BATCHES_IN_FLIGHT + 2);
    }
    expect(batches.flat()).toHaveLength(count);
    expect(Math.max(...batches.map((batch) => batch.length))).toBe(MAX_BATCH_WRITES);
    expect(await Promise.all(saved)).toEqual(Array(count).fill(true));
  });
});
