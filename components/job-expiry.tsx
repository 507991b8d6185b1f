'use client';

import { useSyncExternalStore } from 'react';
import { formatDateTime } from '@/lib/util/format';

export interface JobExpiryProps {
  /** When the job ended (ISO). */
  finishedAt: string;
  /** How long finished jobs are kept (RETENTION_DAYS). */
  retentionMs: number;
  /** Whether there is a file to keep, or only the job's record. */
  hasFile: boolean;
}

const noSubscription = () => () => {};

/**
 * `File kept until 10 Dec, 14:03`: when retention removes the job. In UTC on the server and
 * while the page hydrates, so the two renders agree; then on the browser's own clock. Not a
 * live region: it changes only when the job ends, which the card's state line announces.
 */
export function JobExpiry({ finishedAt, retentionMs, hasFile }: JobExpiryProps) {
  const inBrowser = useSyncExternalStore(noSubscription, () => true, () => false);
  const at = Date.parse(finishedAt) + retentionMs;
  if (Number.isNaN(at)) return null;
  const what = hasFile ? 'File' : 'Record';
  const iso = new Date(at).toISOString();
  if (inBrowser && at <= Date.now()) {
    return (
      <p className="job-card__expiry" data-testid="job-expiry">
        {what} expired at <time dateTime={iso}>{formatDateTime(at, Date.now())}</time>: it is removed soon.
      </p>
    );
  }
  return (
    <p className="job-card__expiry" data-testid="job-expiry">
      {what} kept until <time dateTime={iso}>{inBrowser ? formatDateTime(at, Date.now()) : `${formatDateTime(at, at, true)} UTC`}</time>
    </p>
  );
}
