'use client';

import { useEffect, useState } from 'react';
import { useJobAction, type JobAction } from '@/hooks/use-job-action';
import { canRetry } from '@/lib/domain/job-state';
import type { JobView } from '@/lib/domain/job';

export interface JobActionsProps {
  job: JobView;
  /** What the card calls the download: it completes each button's name ("Cancel disk.iso"). */
  name: string;
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
export function JobActions({ job, name, onChanged, onDeleted }: JobActionsProps) {
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
          Cancel<Named name={name} />
        </button>
      )}
      {canRetry(job.status) && (
        <button type="button" className="button button--small" disabled={busy} aria-busy={pending === 'retry'} onClick={() => act('retry')}>
          Retry<Named name={name} />
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
        <Named name={name} />
      </button>
      {/* Always in the page, so that screen readers announce the message when it appears. */}
      <p role="alert" className="job-card__action-error" data-testid="job-action-error">
        {failure}
      </p>
    </>
  );
}

/** The download a button acts on, for screen readers: a page may list many cards, each with its own buttons. */
function Named({ name }: { name: string }) {
  return <span className="visually-hidden"> {name}</span>;
}
