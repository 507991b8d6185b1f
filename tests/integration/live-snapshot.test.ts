/**
 * A tab that opens mid-download starts from the state the other tabs show right now, not from
 * the one stored up to ten seconds earlier: the snapshot and GET read the newest state sent to
 * the job's room. A state any tab has seen is never newer than what a later reader gets.
 */
import { describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { connectClient, latest, recordUpdates, subscribe } from '../utils/job-client';
import { api, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const MB = 1024 * 1024;
const ctx = useWatchingApp();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('when a tab subscribes to a download under way', () => {
  it('gets a snapshot at least as new as every update another tab has already received', async () => {
    const { body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${6 * MB}?rate=${MB}&seed=fresh`);
    const updates = recordUpdates(ctx.tab, job.id);
    await subscribe(ctx.tab, job.id);
    await waitFor('bytes to arrive', () => (latest(updates)?.bytesReceived ?? 0) > 0, 15_000);

    // Progress is stored as a checkpoint every ten seconds and sent ten times a second: a
    // stored snapshot would fall behind in every one of these samples.
    for (let sample = 0; sample < 4; sample++) {
      await pause(250);
      const seen = latest(updates)!;
      const late = await connectClient(ctx.app.server.url);
      try {
        const ack = await subscribe(late, job.id);
        expect(ack.ok).toBe(true);
        const snapshot = (ack as { job: JobView }).job;
        expect(snapshot.version).toBeGreaterThanOrEqual(seen.version);
        expect(snapshot.bytesReceived).toBeGreaterThanOrEqual(seen.bytesReceived);
      } finally {
        late.disconnect();
      }
      const { body: fetched } = await api(ctx.app.server.url, `/api/jobs/${job.id}`);
      expect(fetched.version).toBeGreaterThanOrEqual(seen.version);
    }
  }, 30_000);
});
