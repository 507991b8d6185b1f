/**
 * What a job is called and how its state reads in a tab's title or a retry line: the same on
 * the server (page metadata) and in the browser.
 */
import { formatBytes, formatDuration, formatPercent } from '../util/format';
import type { JobView } from './job';

/** `example.com/files/disk.iso`: what to call a download whose file name is not known yet. */
export function describeUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const { host, pathname } = new URL(url);
  const path = pathname === '/' ? '' : safeDecode(pathname);
  return `${host}${path}`;
}

const STATUS_WORD: Record<JobView['status'], string> = {
  queued: 'Queued',
  active: 'Downloading',
  completed: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/**
 * What a background tab's title says of its job: `42% · disk.iso` while it runs (the bytes
 * when the size is unknown), else its status, so the tab strip shows how it goes.
 */
export function describeTitle(job: Pick<JobView, 'status' | 'stage' | 'progress' | 'bytesReceived' | 'fileName' | 'url'>): string {
  const name = job.fileName ?? describeUrl(job.url);
  if (job.status === 'active' && job.stage === 'downloading') {
    return `${job.progress === null ? formatBytes(job.bytesReceived) : formatPercent(job.progress)} · ${name}`;
  }
  const word = job.stage === 'retrying' ? 'Retrying' : STATUS_WORD[job.status];
  return `${word} · ${name}`;
}

function safeDecode(path: string): string {
  try {
    return decodeURI(path);
  } catch {
    // A malformed escape: show the path as it was sent.
    return path;
  }
}

/**
 * `Retrying in 4 s (attempt 2 of 5)`, counted down from `retryAt`; `Retrying soon (…)` while
 * the time is unknown (`now` null: rendered on the server, or no `retryAt`), `Retrying now (…)`
 * once it has passed.
 */
export function describeRetry(retryAt: string | null, attempt: number, maxAttempts: number, now: number | null): string {
  const which = `(attempt ${attempt} of ${maxAttempts})`;
  const at = retryAt === null ? NaN : Date.parse(retryAt);
  if (now === null || Number.isNaN(at)) return `Retrying soon ${which}`;
  const seconds = Math.ceil((at - now) / 1000);
  return seconds > 0 ? `Retrying in ${formatDuration(seconds)} ${which}` : `Retrying now ${which}`;
}
