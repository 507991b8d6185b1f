/**
 * Submit → first progress in Chromium: a person pastes a URL into the home page's form and
 * submits; timed in the page from the submit event until the new job's card shows bytes. Under
 * load, 100 slow downloads (`BENCH_BACKGROUND`) run meanwhile, submitted through the API and
 * seen receiving before the clock starts; the reference is the same submit with nothing else
 * running, in alternating rounds. The goal is the issue's: a median of at most 150 ms under load.
 *
 * One compiled server node and as many workers as the load needs (one runs at most 100
 * downloads). The measured file sends its first 64 KiB at once and the rest once the card has
 * shown them, so every measured job also completes, and its SHA-256 is checked.
 */
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { createDownloadQueue, type DownloadQueue } from '../../lib/infra/queue';
import type { JobView } from '../../lib/domain/job';
import { startServer, startWorker, type AppProcess } from '../../tests/utils/app-processes';
import { launchBrowser } from '../../tests/utils/chromium';
import { fixtureSha256, startFileServer, type FileServer } from '../../tests/utils/file-server';
import { waitFor } from '../../tests/utils/wait-for';
import { describeBreakdown, type Sample } from '../first-progress-breakdown';
import { armFirstProgress, firstProgressOutcome, preparePages, readTimeline } from '../first-progress-page';
import { alternate, percentile, startHelperProcess, type Scenario } from '../harness';
import { startBenchServices } from '../services';

const KB = 1024;
const SIZE = 1024 * KB;
const SEED = 'first-progress';
/** Slow enough to outlast the run, fast enough to report progress ten times a second. */
const BACKGROUND_RATE = 64 * KB;
/** Background jobs per owner (one batch POST each): a few people with several downloads. */
const PER_OWNER = 10;
/** Worker slots beyond the load's: the measured job never waits for one. */
const SPARE_SLOTS = 8;
/** The most WORKER_CONCURRENCY allows; more downloads take more workers. */
const SLOTS_PER_WORKER = 100;
const PROGRESS_TIMEOUT_MS = 10_000;
const GOAL_MS = 150;

/** The app's API, as a cookie-keeping client would call it; an answer that does not come is an error. */
async function call<T>(url: string, init: RequestInit = {}): Promise<{ body: T; cookie?: string }> {
  const what = `${init.method ?? 'GET'} ${url}`;
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) }).catch((err: unknown) => {
    throw new Error(`${what}: ${String(err)}`);
  });
  const body: unknown = await response.json();
  if (!response.ok) throw new Error(`${what}: ${response.status} ${JSON.stringify(body)}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('ld_owner='))?.split(';')[0];
  return { body: body as T, cookie };
}

/** Calls `work` for every item, `width` at a time. */
async function each<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

interface Load {
  jobs: Array<{ id: string; cookie: string }>;
}

/** The background: `count` throttled downloads, in batches of a few owners, each seen receiving. */
async function startLoad(app: string, source: string, count: number, queue: DownloadQueue): Promise<Load> {
  const jobs: Load['jobs'] = [];
  for (let first = 0; first < count; first += PER_OWNER) {
    const urls = Array.from({ length: Math.min(PER_OWNER, count - first) }, (_, i) => `${source}&seed=background-${first + i}`);
    const { body, cookie } = await call<{ jobs: JobView[] }>(`${app}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ urls }),
    });
    jobs.push(...body.jobs.map((job) => ({ id: job.id, cookie: cookie ?? '' })));
  }
  await waitFor(`${count} background downloads taken by the workers`, async () => (await queue.getActiveCount()) >= count, 60_000);
  await waitFor(`${count} background downloads receiving`, async () => (await receiving(app, jobs)) === count, 30_000);
  return { jobs };
}

/** How many of the load's jobs are active with bytes in, as the API tells anyone. */
async function receiving(app: string, jobs: Load['jobs']): Promise<number> {
  let count = 0;
  await each(jobs, 8, async ({ id }) => {
    const { body } = await call<JobView>(`${app}/api/jobs/${id}`);
    if (body.status === 'active' && body.bytesReceived > 0) count++;
  });
  return count;
}

/** Cancels the load as its owners would, and waits until no worker runs any of it. */
async function stopLoad(app: string, load: Load, queue: DownloadQueue): Promise<void> {
  await each(load.jobs, 16, async ({ id, cookie }) => void (await call(`${app}/api/jobs/${id}/cancel`, { method: 'POST', headers: { Cookie: cookie } })));
  await waitFor('the background downloads to stop', async () => (await queue.getActiveCount()) === 0, 30_000);
}

/** One submit in the page, timed there; then the file is let through and the job must complete. */
async function measure(page: Page, files: FileServer, queue: DownloadQueue, gate: string): Promise<Sample> {
  await page.getByLabel('File URL').fill(`${files.url}/file/${SIZE}?seed=${SEED}&gate=${gate}&holdafter=${64 * KB}`);
  await page.evaluate(armFirstProgress, PROGRESS_TIMEOUT_MS);
  await page.getByRole('button', { name: 'Download' }).click();
  const seen = (await page.evaluate(firstProgressOutcome))!;
  files.release(gate);
  const { jobId } = seen;
  if (!jobId) return { ...seen, completed: false };
  const card = page.locator(`[data-testid="job-card"]:has([href="/jobs/${jobId}"])`);
  const completed = await card
    .locator('[data-testid="job-sha256"]')
    .textContent({ timeout: 30_000 })
    .then((hash) => hash?.trim() === fixtureSha256(SIZE, SEED), () => false);
  const timeline = await page.evaluate(readTimeline, jobId);
  return { ...seen, completed, timeline, takenAt: (await queue.getJob(jobId))?.processedOn };
}

export const firstProgress: Scenario = {
  name: 'first-progress',
  title: 'submit → first progress on the job card in Chromium, under 100 active downloads — median ≤ 150 ms',
  async run({ quick }) {
    const background = quick ? 10 : Number(process.env.BENCH_BACKGROUND ?? 100);
    const rounds = quick ? 1 : 2;
    const perRound = quick ? 5 : 10;
    const workers = Math.ceil((background + SPARE_SLOTS) / SLOTS_PER_WORKER);
    const services = await startBenchServices();
    const files = await startFileServer();
    const processes: AppProcess[] = [];
    let slowFiles: ChildProcess | undefined;
    let browser: Browser | undefined;
    const redis = new Redis(services.env.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createDownloadQueue({ connection: redis, prefix: services.env.REDIS_PREFIX });
    try {
      const env = {
        ...services.env,
        LOG_LEVEL: 'info', // startServer waits for the "server listening" line
        NEXT_TELEMETRY_DISABLED: '1',
        JOBS_PER_MINUTE: '0',
        JOBS_PER_MINUTE_PER_IP: '0',
        MAX_OPEN_JOBS: '0',
        // Room for the whole load and the measured job; the slot share (OWNER_SLOT_SHARE, left
        // as it is) holds an owner back only while another owner's job waits for a slot.
        WORKER_CONCURRENCY: String(Math.ceil((background + SPARE_SLOTS) / workers)),
      };
      const started = await Promise.allSettled([
        startServer(env, 'production', 0, 'compiled'),
        ...Array.from({ length: workers }, () => startWorker(env, 'compiled')),
      ]);
      processes.push(...started.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : [])));
      const failed = started.find((p) => p.status === 'rejected');
      if (failed) throw failed.reason;
      const app = (started[0] as PromiseFulfilledResult<{ url: string }>).value.url;
      const slow = await startHelperProcess<{ url: string }>('serve-fixture.ts');
      slowFiles = slow.child;
      const slowSource = `${slow.ready.url}/file/${BACKGROUND_RATE * 3600}?rate=${BACKGROUND_RATE}`;
      browser = await launchBrowser();

      let gates = 0;
      const firstOnPage: Sample[] = [];
      const loadActive: boolean[] = [];
      /** A fresh profile's home page: its first submit also opens the socket, so it is kept apart. */
      const session = async (): Promise<Sample[]> => {
        const context = await browser!.newContext();
        try {
          await preparePages(context);
          const page = await context.newPage();
          await page.goto(`${app}/`);
          firstOnPage.push(await measure(page, files, queue, `fp-${++gates}`));
          const samples: Sample[] = [];
          for (let i = 0; i < perRound; i++) samples.push(await measure(page, files, queue, `fp-${++gates}`));
          return samples;
        } finally {
          await context.close();
        }
      };
      const results = await alternate(rounds, {
        loaded: async () => {
          const load = await startLoad(app, slowSource, background, queue);
          try {
            const samples = await session();
            loadActive.push((await receiving(app, load.jobs)) === background);
            return samples;
          } finally {
            await stopLoad(app, load, queue);
          }
        },
        idle: session,
      });

      const loaded = results.loaded.flat();
      const idle = results.idle.flat();
      const all = [...loaded, ...idle, ...firstOnPage];
      const times = (samples: Sample[]) => samples.flatMap((s) => (s.shownAt === null ? [] : [s.shownAt - s.submittedAt]));
      const median = (samples: Sample[]) => percentile(times(samples), 50);
      const figures = (samples: Sample[]) =>
        `median ${median(samples).toFixed(0).padStart(4)} ms  p90 ${percentile(times(samples), 90).toFixed(0).padStart(4)} ms  max ${percentile(times(samples), 100).toFixed(0).padStart(4)} ms  (${times(samples).length}/${samples.length})`;
      const everyJob = all.every((s) => s.shownAt !== null && s.completed);
      return {
        lines: [
          `${background} background downloads at ${BACKGROUND_RATE / KB} KiB/s each, ${workers} worker(s) of ${env.WORKER_CONCURRENCY}; ${rounds} alternating round(s) of ${perRound} submits per side, each on a fresh page after one submit that opens its socket`,
          `under load   ${figures(loaded)}`,
          `no load      ${figures(idle)}`,
          `under load / no load, median: ${(median(loaded) / median(idle)).toFixed(2)}×; a fresh page's first submit: median ${median(firstOnPage).toFixed(0)} ms`,
          `where the time went, medians (under load): ${describeBreakdown(loaded)}`,
          `where the time went, medians (no load):    ${describeBreakdown(idle)}`,
        ],
        checks: [
          { label: 'every measured job showed progress and completed with the right SHA-256', value: everyJob ? 1 : 0, bound: 'min', goal: 1, unit: '', kind: 'outcome' },
          { label: 'the background downloads stayed active through every loaded round', value: loadActive.every(Boolean) ? 1 : 0, bound: 'min', goal: 1, unit: '', kind: 'outcome' },
          { label: `submit → first progress under ${background} downloads, median`, value: median(loaded), bound: 'max', goal: GOAL_MS, unit: ' ms' },
        ],
      };
    } finally {
      await browser?.close();
      slowFiles?.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.stop()));
      await queue.close();
      redis.disconnect();
      await files.close();
      await services.stop();
    }
  },
};
