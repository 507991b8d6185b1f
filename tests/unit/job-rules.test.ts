import { describe, expect, it } from '@jest/globals';
import { attemptOf, nextAttemptDelayMs, type QueuedDownload } from '../../lib/infra/queue';
import { newJob } from '../../lib/server/job-service';
import { toJobView, toStateDocument } from '../../lib/infra/job-store';
import { publicUrl } from '../../lib/util/redact-url';

describe('when a URL carries credentials', () => {
  const secretUrl = 'https://user:secret@files.invalid/files/a.iso?x=1';

  it('shows it without them', () => {
    expect(publicUrl(secretUrl)).toBe('https://***@files.invalid/files/a.iso?x=1');
    expect(publicUrl('https://token@files.invalid/a')).toBe('https://***@files.invalid/a');
  });

  it('leaves a URL without credentials as it is', () => {
    expect(publicUrl('https://files.invalid/a b')).toBe('https://files.invalid/a b');
  });

  it('never puts them in a new job', () => {
    expect(JSON.stringify(newJob(secretUrl))).not.toMatch(/secret|user/);
  });

  it('never lets the stored URL out of the document', () => {
    const job = newJob(secretUrl);
    const view = toJobView({ ...toStateDocument(job), sourceUrl: secretUrl } as never);
    expect(view).toEqual(job);
  });
});

describe('when an attempt fails and may be retried', () => {
  const queued = (attemptsMade: number) =>
    ({ attemptsMade, opts: { attempts: 5, backoff: { type: 'exponential', delay: 2000 } } }) as unknown as QueuedDownload;

  it('numbers attempts from 1', () => {
    expect(attemptOf(queued(0))).toEqual({ attempt: 1, maxAttempts: 5 });
    expect(attemptOf(queued(3))).toEqual({ attempt: 4, maxAttempts: 5 });
  });

  it('waits what BullMQ will wait: the delay, doubled for each retry after the first', async () => {
    const delays = await Promise.all([0, 1, 2, 3].map((made) => nextAttemptDelayMs(queued(made), new Error('503'))));
    expect(delays).toEqual([2000, 4000, 8000, 16000]);
  });

  it('counts a job queued without attempts as one attempt with no wait', async () => {
    const bare = { attemptsMade: 0, opts: {} } as unknown as QueuedDownload;
    expect(attemptOf(bare)).toEqual({ attempt: 1, maxAttempts: 1 });
    expect(await nextAttemptDelayMs(bare, new Error('x'))).toBe(0);
  });
});
