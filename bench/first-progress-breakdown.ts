/**
 * Where the time from submit to first progress goes, from the stamps one submit leaves: the
 * page's (submit, POST answered, each state's arrival, card shows bytes), BullMQ's (the worker
 * took the job) and the worker's (each state's `updatedAt`, stamped as it leaves). All are
 * epoch milliseconds on one machine.
 */
import { percentile } from './harness';
import type { FirstProgress, PageTimeline } from './first-progress-page';

/** One measured submit. */
export interface Sample extends FirstProgress {
  /** The job completed with the right SHA-256. */
  completed: boolean;
  timeline?: PageTimeline;
  /** When a worker took the job from the queue (BullMQ's `processedOn`). */
  takenAt?: number;
}

/**
 * Each stage, in order; together they make up submit → shown. Each ends at a moment something
 * was seen, so no stage hangs on what a stamp means: the page got the POST's answer, a worker
 * took the job, the page got the `active` state (the worker read the job, claimed a slot,
 * stored the state and sent it), the page got the first state with bytes (the worker
 * connected, had the answer and its first bytes, and sent them), the card showed them.
 */
const STAGES = ['POST', 'queue', 'to active', 'to bytes', 'render'] as const;

type Stage = (typeof STAGES)[number] | 'delivery';

function stagesOf(sample: Sample): Partial<Record<Stage, number>> {
  const { timeline, takenAt, submittedAt, shownAt } = sample;
  if (!timeline || shownAt === null) return {};
  const active = timeline.states.find((s) => s.job.status === 'active');
  const bytes = timeline.states.find((s) => s.job.bytesReceived > 0);
  const posted = timeline.postAnsweredAt ?? NaN;
  const taken = takenAt ?? NaN;
  return {
    POST: posted - submittedAt,
    queue: taken - posted,
    'to active': (active?.at ?? NaN) - taken,
    'to bytes': (bytes?.at ?? NaN) - (active?.at ?? NaN),
    render: shownAt - (bytes?.at ?? NaN),
    // A state with bytes is stamped as it leaves the worker: from there to the page.
    delivery: bytes ? bytes.at - Date.parse(bytes.job.updatedAt) : NaN,
  };
}

/** `POST 12 · queue 3 · …` (ms): the median of each stage over the samples that have it. */
export function describeBreakdown(samples: Sample[]): string {
  const each = samples.map(stagesOf);
  const median = (stage: Stage) => {
    const values = each.map((s) => s[stage] ?? NaN).filter(Number.isFinite);
    return values.length ? percentile(values, 50).toFixed(0) : '?';
  };
  return `${STAGES.map((stage) => `${stage} ${median(stage)}`).join(' · ')} (worker → page, of the bytes' state: ${median('delivery')})`;
}
