/**
 * What MongoDB holds while a download runs, with a real server, worker and MongoDB-wire server:
 * status changes at once, progress (and the stage under way) only as a checkpoint at most every
 * CHECKPOINT_INTERVAL_MS, and the final state before anyone is told of it. The API and the tab
 * show the live state all along. The source holds its bytes at a gate until the checkpoint is
 * stored, so the test waits on states, not on how fast this machine is.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { JobStore } from '../../lib/infra/job-store';
import type { JobView } from '../../lib/domain/job';
import { CHECKPOINT_INTERVAL_MS } from '../../workers/reporter';
import { fixtureSha256 } from '../utils/file-server';
import { latest, recordUpdates, subscribe } from '../utils/job-client';
import { api, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const MB = 1024 * 1024;
const SIZE = 4 * MB;
/** Two seconds of bytes at 1 MB/s, then the source holds the rest until the test releases it. */
const HOLD_AFTER = 2 * MB;
/**
 * A checkpoint stores the latest state as it was stamped when last sent, and the worker refreshes
 * a held download's speed once a second: its `updatedAt` may be that much older than the write.
 */
const STAMP_SLACK_MS = 1_500;

const ctx = useWatchingApp();
let mongo: MongoClient;
let jobs: JobStore;

/** Every state read from MongoDB while the job ran, by version. */
const storedSeen = new Map<number, JobView>();
/** The stored document and the API's answer right after it, while bytes arrived. */
const samples: Array<{ live: JobView; stored: JobView }> = [];
let job: JobView;
let updates: JobView[];
/** What MongoDB held at the moment the tab got the final state. */
let storedWhenSent: Promise<JobView | null> | undefined;

beforeAll(async () => {
  mongo = await new MongoClient(String(ctx.app.settings.env.MONGODB_URI)).connect();
  jobs = new JobStore(mongo.db());

  const created = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${SIZE}?rate=${MB}&gate=checkpoint&holdafter=${HOLD_AFTER}&seed=stored`);
  expect(created.status).toBe(201);
  job = created.body;
  updates = recordUpdates(ctx.tab, job.id);
  ctx.tab.on('job:update', (sent) => {
    if (sent.id === job.id && sent.status === 'completed') storedWhenSent ??= jobs.find(job.id);
  });
  await subscribe(ctx.tab, job.id);

  let polling = true;
  const poller = (async () => {
    while (polling) {
      const stored = await jobs.find(job.id);
      if (stored) storedSeen.set(stored.version, stored);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const shown = () => latest(updates)?.bytesReceived ?? 0;
    await waitFor('the first bytes', () => shown() > 0, 15_000);
    // Read as bytes come in, until the source holds them: the stored document first, so the
    // API's answer, read after it, can only be as new or newer.
    while (samples.at(-1)?.live.bytesReceived !== HOLD_AFTER) {
      const stored = await jobs.find(job.id);
      const { body: live } = await api(ctx.app.server.url, `/api/jobs/${job.id}`);
      samples.push({ live, stored: stored! });
      if (samples.length > 2_000) throw new Error('the download never reached the hold');
    }
    await waitFor('the checkpoint to be stored', async () => (await jobs.find(job.id))?.bytesReceived === HOLD_AFTER, CHECKPOINT_INTERVAL_MS + 20_000);
    ctx.files.release('checkpoint');
    await waitFor('the tab to show completed', () => latest(updates)?.status === 'completed', 30_000);
  } finally {
    polling = false;
    await poller;
  }
}, 90_000);

afterAll(() => mongo?.close());

/** The stored states of the download under way, oldest first. */
const storedWhileDownloading = () =>
  [...storedSeen.values()].filter((s) => s.status === 'active' && s.stage === 'downloading').sort((a, b) => a.version - b.version);

describe('when a throttled download runs', () => {
  it('shows the live bytes through the API while MongoDB keeps those of its last write', () => {
    expect(samples.some(({ live, stored }) => live.bytesReceived > stored.bytesReceived)).toBe(true);
    for (const { live, stored } of samples) {
      expect(live.version).toBeGreaterThanOrEqual(stored.version);
      expect(live.bytesReceived).toBeGreaterThanOrEqual(stored.bytesReceived);
    }
    expect(samples.at(-1)?.live.bytesReceived).toBe(HOLD_AFTER);
  });

  it('sends the tab many progress states meanwhile', () => {
    const shownBytes = new Set(updates.filter((u) => u.stage === 'downloading' && u.bytesReceived < HOLD_AFTER).map((u) => u.bytesReceived));
    expect(shownBytes.size).toBeGreaterThanOrEqual(5);
  });

  it('stores progress at most once per checkpoint interval', () => {
    const stored = storedWhileDownloading();
    // The stage is stored with the first checkpoint, not by a write of its own: no stored
    // `downloading` state is without bytes, and one is the checkpoint the test waited for.
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect(stored[0].bytesReceived).toBeGreaterThan(0);
    expect(stored.some((s) => s.bytesReceived === HOLD_AFTER)).toBe(true);
    // Read every 100 ms, so a write a second, as before, would show here as a short gap.
    stored.forEach((s, i) => {
      if (i > 0) expect(Date.parse(s.updatedAt) - Date.parse(stored[i - 1].updatedAt)).toBeGreaterThanOrEqual(CHECKPOINT_INTERVAL_MS - STAMP_SLACK_MS);
    });
  });

  it('stores the final state before the tab is told of it', async () => {
    const final = latest(updates)!;
    expect(await storedWhenSent).toMatchObject({ status: 'completed', version: final.version });
  });

  it('stores the same final state the tab and the API show', async () => {
    const final = latest(updates)!;
    expect(final).toMatchObject({ status: 'completed', bytesReceived: SIZE, sha256: fixtureSha256(SIZE, 'stored') });
    // A room's states carry the URL without its query; the API gives its owner the whole one.
    expect({ ...(await jobs.find(job.id)), url: final.url }).toEqual(final);
    expect((await api(ctx.app.server.url, `/api/jobs/${job.id}`)).body).toEqual({ ...final, url: job.url, canControl: true });
  });
});
