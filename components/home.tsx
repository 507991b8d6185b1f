'use client';

import { useState } from 'react';
import { useRecentJobs } from '@/hooks/use-recent-jobs';
import type { JobView } from '@/lib/domain/job';
import { ConnectionAnnouncer } from './connection-announcer';
import { JobForm } from './job-form';
import { LiveJob } from './live-job';

/**
 * The home page's live part: the form, and a card for each download started in this browser,
 * newest first, kept across reloads.
 */
export function Home({ retentionMs = null }: { retentionMs?: number | null }) {
  const recent = useRecentJobs();
  // What the API answered for jobs created in this tab: their cards show it at once.
  const [created, setCreated] = useState<Record<string, JobView>>({});

  // A batch's cards show in the order of its lines, above the older ones.
  const onCreated = (jobs: JobView[]) => {
    setCreated((previous) => ({ ...previous, ...Object.fromEntries(jobs.map((job) => [job.id, job])) }));
    recent.add(...jobs.map((job) => job.id));
  };

  return (
    <>
      <JobForm onCreated={onCreated} />
      <ConnectionAnnouncer />
      {recent.ids.length > 0 && (
        <section className="job-list" aria-label="Your downloads">
          {recent.ids.map((id) => (
            <LiveJob key={id} jobId={id} initial={created[id]} onGone={recent.forget} retentionMs={retentionMs} />
          ))}
        </section>
      )}
    </>
  );
}
