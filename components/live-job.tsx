'use client';

import { useEffect } from 'react';
import { useJob } from '@/hooks/use-job';
import { APP_NAME } from '@/lib/domain/app-name';
import { describeTitle } from '@/lib/domain/job-text';
import type { JobView } from '@/lib/domain/job';
import { JobCard } from './job-card';

export interface LiveJobProps {
  jobId: string;
  /** The state known when the page was made (server render or POST answer): shown at once. */
  initial?: JobView | null;
  /** On the job's own page: the card does not link to it, and the tab's title follows the job. */
  onOwnPage?: boolean;
  /** Called once the job turns out deleted or unknown: nothing more will come for it. */
  onGone?(jobId: string): void;
  /** How long finished jobs are kept (RETENTION_DAYS); null when they are kept for ever. */
  retentionMs?: number | null;
}

/** A job card that follows the job live over the tab's socket. */
export function LiveJob({ jobId, initial, onOwnPage = false, onGone, retentionMs = null }: LiveJobProps) {
  const { job, error, deleted, connection, receive, markDeleted } = useJob(jobId, initial);
  const title = !onOwnPage ? null : deleted ? 'Deleted' : job ? describeTitle(job) : null;
  useEffect(() => {
    if (title !== null) document.title = `${title} · ${APP_NAME}`;
  }, [title]);
  const gone = deleted || error?.code === 'not_found';
  useEffect(() => {
    if (gone) onGone?.(jobId);
  }, [gone, onGone, jobId]);
  if (deleted) {
    return (
      <article className="job-card job-card--deleted" data-testid="job-deleted" aria-label="Deleted download">
        <p role="status">This download was deleted.</p>
      </article>
    );
  }
  if (job) return <JobCard job={job} connection={connection} onChanged={receive} onDeleted={markDeleted} onOwnPage={onOwnPage} retentionMs={retentionMs} />;
  if (error) {
    return (
      <p className="notice notice--error" role="alert">
        {error.message}
      </p>
    );
  }
  return (
    <p className="notice" role="status">
      Loading the download…
    </p>
  );
}
