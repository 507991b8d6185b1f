/**
 * What the first-progress scenario runs inside the app's page, so that every time is taken on
 * the page's own clock: from the form's submit event to the moment the new job's card shows
 * bytes, seen by a MutationObserver; and, for the breakdown, when the POST was answered and
 * when each socket.io frame about a job arrived. Times are epoch milliseconds
 * (`performance.timeOrigin + performance.now()`), comparable with the app's `updatedAt` stamps
 * and BullMQ's on the same machine.
 *
 * These functions are serialized into the page: they may use nothing from this module.
 */
import type { BrowserContext } from 'playwright-core';
import type { JobView } from '../lib/domain/job';

/** What one submit showed. */
export interface FirstProgress {
  /** The new card's job, once it appeared; null if none did. */
  jobId: string | null;
  submittedAt: number;
  /** When the card first showed bytes; null if it did not within the time allowed. */
  shownAt: number | null;
}

/** A job's state as it reached the page: in a `job:update` event or a subscribe's snapshot. */
export interface ArrivedState {
  at: number;
  job: JobView;
}

export interface PageTimeline {
  /** When the page had the POST's answer. */
  postAnsweredAt: number | null;
  states: ArrivedState[];
}

interface ProbeWindow {
  __frames: Array<{ at: number; data: string }>;
  __firstProgress?: Promise<FirstProgress>;
}

/**
 * Sets the page up before its own scripts run. tsx compiles bench/ with esbuild's `keepNames`,
 * which wraps named functions in `__name(…)`: the functions below carry those calls into the
 * page, where the helper must exist.
 */
export async function preparePages(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
  await context.addInitScript(recordSocketFrames);
}

/** Notes the arrival of every socket.io event and acknowledgement frame (`42…`, `43…`). */
function recordSocketFrames(): void {
  const probe = window as unknown as ProbeWindow;
  probe.__frames = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.addEventListener('message', (event: MessageEvent) => {
        if (typeof event.data !== 'string' || !/^4[23]/.test(event.data)) return;
        probe.__frames.push({ at: performance.timeOrigin + performance.now(), data: event.data });
        if (probe.__frames.length > 2000) probe.__frames.splice(0, 1000);
      });
    }
  };
}

/**
 * Arms the clock for the next submit: its start is the form's `submit` event; its end, the
 * first mutation after which a card that was not in the page before shows a progress value
 * above 0. The outcome waits in `window.__firstProgress` (see `firstProgressOutcome`).
 */
export function armFirstProgress(timeoutMs: number): void {
  const probe = window as unknown as ProbeWindow;
  const now = () => performance.timeOrigin + performance.now();
  const cards = () => [...document.querySelectorAll('[data-testid="job-card"]')];
  const idOf = (card: Element) => card.querySelector('[data-testid="job-link"]')?.getAttribute('href')?.split('/').pop() ?? null;
  const known = new Set(cards().map(idOf));
  probe.__firstProgress = new Promise<FirstProgress>((resolve) => {
    const outcome: FirstProgress = { jobId: null, submittedAt: NaN, shownAt: null };
    window.addEventListener('submit', () => (outcome.submittedAt = now()), { capture: true, once: true });
    const observer = new MutationObserver(() => {
      const card = cards().find((c) => !known.has(idOf(c)));
      if (!card) return;
      outcome.jobId = idOf(card);
      if (Number(card.querySelector('[data-testid="job-progress"]')?.getAttribute('value')) > 0) finish(now());
    });
    const timer = setTimeout(() => finish(null), timeoutMs);
    function finish(shownAt: number | null) {
      observer.disconnect();
      clearTimeout(timer);
      resolve({ ...outcome, shownAt });
    }
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** Runs in the page: the outcome of the submit that `armFirstProgress` watched. */
export function firstProgressOutcome(): Promise<FirstProgress> | undefined {
  return (window as unknown as ProbeWindow).__firstProgress;
}

/**
 * Runs in the page: the states of `jobId` that arrived, and when the last POST to /api/jobs
 * was answered. Clears what it read, so the next submit starts afresh.
 */
export function readTimeline(jobId: string): PageTimeline {
  const probe = window as unknown as ProbeWindow;
  const posts = performance.getEntriesByType('resource').filter((entry) => new URL(entry.name).pathname === '/api/jobs');
  const post = posts.at(-1) as PerformanceResourceTiming | undefined;
  performance.clearResourceTimings();
  const states: ArrivedState[] = [];
  for (const frame of probe.__frames.splice(0)) {
    // `42["job:update",{…}]`, or a subscribe's answer `43<ack id>[{"ok":true,"job":{…}}]`.
    const payload: unknown = JSON.parse(frame.data.replace(/^4[23]\d*/, ''));
    if (!Array.isArray(payload)) continue;
    const job = (payload[0] === 'job:update' ? payload[1] : payload[0]?.job) as JobView | undefined;
    if (job?.id === jobId) states.push({ at: frame.at, job });
  }
  return { postAnsweredAt: post ? performance.timeOrigin + post.responseEnd : null, states };
}
