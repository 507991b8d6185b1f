import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { cache } from 'react';
import { ConnectionAnnouncer } from '@/components/connection-announcer';
import { LiveJob } from '@/components/live-job';
import { serverContext } from '@/lib/server/context';
import { AppError } from '@/lib/domain/errors';
import { describeTitle } from '@/lib/domain/job-text';
import { headers } from 'next/headers';
import { viewJob } from '@/lib/server/job-service';
import type { JobView } from '@/lib/domain/job';

export const dynamic = 'force-dynamic';

interface JobPageProps {
  params: Promise<{ id: string }>;
}

/** The stored job, read once per request (metadata and page share it); 404 when there is none. */
const loadJob = cache(async (id: string): Promise<JobView> => {
  try {
    const context = serverContext();
    // As this visitor may see it: the owner gets the controls and the whole URL.
    return await viewJob(context, id, context.identity.identify(await headers()));
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  }
});

export async function generateMetadata({ params }: JobPageProps): Promise<Metadata> {
  const job = await loadJob((await params).id);
  // A job's address is a share link: keep it out of search engines.
  return { title: describeTitle(job), robots: { index: false, follow: false } };
}

/** One job, rendered with its stored state (a finished job shows at once), then followed live. */
export default async function JobPage({ params }: JobPageProps) {
  const { id } = await params;
  const job = await loadJob(id);
  const { maxAgeMs } = serverContext().config.retention;
  return (
    <>
      <h1>Download</h1>
      <LiveJob jobId={job.id} initial={job} onOwnPage retentionMs={maxAgeMs > 0 ? maxAgeMs : null} />
      <ConnectionAnnouncer />
      <p className="back-link">
        <Link href="/">Download another file</Link>
      </p>
    </>
  );
}
