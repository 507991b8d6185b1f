'use client';

import { useEffect, useState } from 'react';
import { useJobAction, type JobAction } from '@/hooks/use-job-action';
import { canRetry } from '@/lib/jobs/state';
import type { JobView } from '@/lib/jobs/types';

export interface JobActionsProps {
  job: JobView;
  /** The state an action's answer carried; the live updates bring it too. */
  onChanged(job: JobView): void;
  onDeleted(): void;
}

/** How long "Really delete?" waits for the second click before it reads "Delete" again. */
const CONFIRM_MS = 5_000;

/**
 * Cancel (while queued or active), Retry (once failed or cancelled) and Delete (always, on a
 * second click: the button asks "Really delete?" first). Disabled while a request runs; a
 * failed request says why.
 */
export function JobActions({ job, onChanged, onDeleted }: JobActionsProps) {
  const { pending, failure, run } = useJobAction(job.id);
  const [confirming, setConfirming] = useState(false);
  const busy = pending !== null;

  useEffect(() => {
    if (!confirming) return;
    const timer = setTimeout(() => setConfirming(false), CONFIRM_MS);
    return () => clearTimeout(timer);
  }, [confirming]);

  async function act(action: JobAction) {
    setConfirming(false);
    const result = await run(action);
    if (!result.ok) return;
    if (action === 'delete') onDeleted();
    else if (result.job) onChanged(result.job);
  }

  return (
    <>
      {(job.status === 'queued' || job.status === 'active') && (
        <button type="button" className="button button--small" disabled={busy} aria-busy={pending === 'cancel'} onClick={() => act('cancel')}>
          Cancel
        </button>
      )}
      {canRetry(job.status) && (
        <button type="button" className="button button--small" disabled={busy} aria-busy={pending === 'retry'} onClick={() => act('retry')}>
          Retry
        </button>
      )}
      <button
        type="button"
        className="button button--small button--danger"
        disabled={busy}
        aria-busy={pending === 'delete'}
        onClick={() => (confirming ? act('delete') : setConfirming(true))}
        onBlur={() => setConfirming(false)}
      >
        {confirming ? 'Really delete?' : 'Delete'}
      </button>
      {/* Always in the page, so that screen readers announce the message when it appears. */}
      <p role="alert" className="job-card__action-error" data-testid="job-action-error">
        {failure}
      </p>
    </>
  );
}
