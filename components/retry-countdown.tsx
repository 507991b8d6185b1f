'use client';

import { useEffect, useState } from 'react';
import { describeRetry } from '@/lib/domain/job-text';

export interface RetryCountdownProps {
  retryAt: string | null;
  attempt: number;
  maxAttempts: number;
}

/** How often the countdown is redrawn; below a second so that no second is skipped. */
const REDRAW_MS = 250;

/**
 * `Retrying in 4 s (attempt 2 of 5)`, counted down in the browser from the job's `retryAt`:
 * a local timer redraws it, nothing asks the server. Not a live region, so screen readers
 * are not told every second; the card's state line announces the retry once.
 */
export function RetryCountdown({ retryAt, attempt, maxAttempts }: RetryCountdownProps) {
  // Unknown on the server and until mounted, so the server-rendered page hydrates unchanged.
  const [now, setNow] = useState<number | null>(null);

  useEffect(() => {
    setNow(Date.now());
    if (retryAt === null) return;
    const timer = setInterval(() => setNow(Date.now()), REDRAW_MS);
    return () => clearInterval(timer);
  }, [retryAt]);

  return (
    <p className="job-card__retry" data-testid="job-retry">
      {describeRetry(retryAt, attempt, maxAttempts, now)}
    </p>
  );
}
