'use client';

import { useCallback, useState } from 'react';
import { callApi, isJobView } from '@/lib/browser/api-client';
import type { JobView } from '@/lib/domain/job';

/** What a person can do to a job from its card. */
export type JobAction = 'cancel' | 'retry' | 'delete';

/** The job's new state (null after a delete), or why the request failed. */
export type JobActionResult = { ok: true; job: JobView | null } | { ok: false; message: string };

const REQUESTS: Record<JobAction, (id: string) => [string, RequestInit]> = {
  cancel: (id) => [`/api/jobs/${id}/cancel`, { method: 'POST' }],
  retry: (id) => [`/api/jobs/${id}/retry`, { method: 'POST' }],
  delete: (id) => [`/api/jobs/${id}`, { method: 'DELETE' }],
};

export interface UseJobActionResult {
  /** The request under way, if any: the buttons stay disabled meanwhile. */
  pending: JobAction | null;
  /** Why the last request failed, for people; null after a success. */
  failure: string | null;
  run(action: JobAction): Promise<JobActionResult>;
}

/** Sends the card's requests for one job, one at a time. */
export function useJobAction(jobId: string): UseJobActionResult {
  const [pending, setPending] = useState<JobAction | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const run = useCallback(
    async (action: JobAction): Promise<JobActionResult> => {
      setPending(action);
      setFailure(null);
      try {
        const result = await callApi(...REQUESTS[action](encodeURIComponent(jobId)));
        if (!result.ok) {
          setFailure(result.message);
          return result;
        }
        return { ok: true, job: isJobView(result.body) ? result.body : null };
      } finally {
        setPending(null);
      }
    },
    [jobId],
  );

  return { pending, failure, run };
}
