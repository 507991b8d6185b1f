'use client';

import Link from 'next/link';
import { useId, useRef, useState } from 'react';
import type { ConnectionStatus } from '@/hooks/use-connection-status';
import { describeUrl } from '@/lib/domain/job-text';
import {
  formatEta,
  formatPercent,
  formatSpeed,
  formatTransferred,
  NO_VALUE,
} from '@/lib/util/format';
import { isFinished } from '@/lib/domain/job-state';
import type { JobStage, JobStatus, JobView } from '@/lib/domain/job';
import { JobActions } from './job-actions';
import { JobExpiry } from './job-expiry';
import { RetryCountdown } from './retry-countdown';

export interface JobCardProps {
  job: JobView;
  /** The tab's socket: while it is down the numbers may be stale, and the card says so. */
  connection: ConnectionStatus;
  /** The state an action (cancel, retry) answered with. */
  onChanged(job: JobView): void;
  /** This tab deleted the job. */
  onDeleted(): void;
  /** Shown on the job's own page, which it then does not link to. */
  onOwnPage?: boolean;
  /** How long finished jobs are kept (RETENTION_DAYS); null when they are kept for ever. */
  retentionMs?: number | null;
}

const STAGE_TEXT: Record<JobStage, string> = {
  waiting: 'Waiting for a worker',
  connecting: 'Connecting to the server',
  downloading: 'Downloading',
  retrying: 'Waiting to try again',
  done: 'Done',
};

const DONE_TEXT: Record<JobStatus, string> = {
  queued: STAGE_TEXT.done,
  active: STAGE_TEXT.done,
  completed: 'File ready',
  failed: 'Stopped with an error',
  cancelled: 'Cancelled',
};

/** One download: what it is, where it stands, and the file once it is there. */
export function JobCard({ job, connection, onChanged, onDeleted, onOwnPage = false, retentionMs = null }: JobCardProps) {
  const titleId = useId();
  const finished = isFinished(job.status);
  const active = job.status === 'active';
  const stage = job.stage === 'done' ? DONE_TEXT[job.status] : STAGE_TEXT[job.stage];
  // Indeterminate (no value) only while the size is unknown and something may still come.
  const progress = job.status === 'completed' ? 100 : (job.progress ?? (finished ? 0 : undefined));
  const name = job.fileName ?? describeUrl(job.url);

  return (
    <article className="job-card" data-testid="job-card" data-status={job.status} data-version={job.version} aria-labelledby={titleId}>
      <header className="job-card__header">
        <h2 id={titleId} className="job-card__title">
          {name}
        </h2>
        <ConnectionIndicator connection={connection} />
      </header>
      <p className="job-card__url">{job.url}</p>

      {/* The one live region: it changes a few times per job, never with the ticking numbers. */}
      <p className="job-card__state" aria-live="polite">
        <span className={`badge badge--${job.status}`} data-testid="job-status">
          {job.status}
        </span>{' '}
        <span className="job-card__stage">{stage}</span>
      </p>

      <div className="job-card__progress">
        <progress data-testid="job-progress" aria-label={`Progress of ${name}`} max={100} value={progress} />
        <span className="job-card__percent" aria-hidden="true">
          {progress === undefined ? '' : formatPercent(progress)}
        </span>
      </div>

      <dl className="job-card__stats">
        <div>
          <dt>Received</dt>
          <dd data-testid="job-bytes">{formatTransferred(job.bytesReceived, job.bytesTotal)}</dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd data-testid="job-speed">{active ? formatSpeed(job.speed) : NO_VALUE}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd data-testid="job-eta">{active ? formatEta(job.eta) : NO_VALUE}</dd>
        </div>
      </dl>

      {job.stage === 'retrying' && <RetryCountdown retryAt={job.retryAt} attempt={job.attempt} maxAttempts={job.maxAttempts} />}
      {active && job.attempt > 1 && (
        <p className="job-card__attempt" data-testid="job-attempt">
          Attempt {job.attempt} of {job.maxAttempts}
        </p>
      )}

      {job.notice && (
        <p className="job-card__notice" role="status" data-testid="job-notice">
          {job.notice}
        </p>
      )}

      {job.status === 'completed' && job.sha256 && <Checksum sha256={job.sha256} />}

      {/* Always in the page and not an alert: a failure is announced when it happens, but a
          list of cards that failed earlier is not read out as it loads. */}
      <div aria-live="assertive">
        {job.error && (
          <p className="job-card__error" data-testid="job-error">
            {job.stage === 'retrying' ? `The last attempt failed: ${job.error.message}` : job.error.message}
          </p>
        )}
      </div>

      {finished && job.finishedAt && retentionMs !== null && (
        <JobExpiry finishedAt={job.finishedAt} retentionMs={retentionMs} hasFile={job.status === 'completed'} />
      )}

      <footer className="job-card__actions">
        {job.status === 'completed' && (
          <a className="button button--primary" href={`/api/jobs/${job.id}/file`} download data-testid="job-file-link">
            Download file
          </a>
        )}
        {!onOwnPage && (
          <Link className="job-card__link" href={`/jobs/${job.id}`} data-testid="job-link">
            Job page
          </Link>
        )}
        {/* A shared link is for watching: only the owner (or the token's holder) gets the controls. */}
        {job.canControl && <JobActions job={job} name={name} onChanged={onChanged} onDeleted={onDeleted} />}
      </footer>
    </article>
  );
}

const CONNECTION_TEXT: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
};

function ConnectionIndicator({ connection }: { connection: ConnectionStatus }) {
  return (
    // Plain text: the page's ConnectionAnnouncer is the one live region for the connection.
    <p className="connection" data-state={connection} data-testid="connection-status">
      {CONNECTION_TEXT[connection]}
    </p>
  );
}

function Checksum({ sha256 }: { sha256: string }) {
  const hashRef = useRef<HTMLElement>(null);
  const [note, setNote] = useState('');

  async function copy() {
    try {
      await navigator.clipboard.writeText(sha256);
      setNote('Copied');
    } catch {
      // No clipboard (an http:// address other than localhost, or permission refused): select
      // the hash so that the usual copy shortcut works.
      if (hashRef.current) window.getSelection()?.selectAllChildren(hashRef.current);
      setNote('Selected: press Ctrl+C (⌘C) to copy');
    }
  }

  return (
    <div className="job-card__checksum">
      <p className="job-card__checksum-label">SHA-256</p>
      <code ref={hashRef} className="job-card__hash" data-testid="job-sha256">
        {sha256}
      </code>
      <p className="job-card__checksum-actions">
        <button type="button" className="button button--small" onClick={copy}>
          Copy SHA-256
        </button>
        <span role="status" className="job-card__note">
          {note}
        </span>
      </p>
    </div>
  );
}
