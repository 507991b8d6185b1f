import { describe, expect, it } from '@jest/globals';
import { controlChannel, parseControlMessage } from '../../lib/infra/control';
import { CANCELLED, RunningJobs } from '../../workers/running-jobs';

const jobId = '3b241101-e2bb-4255-8caf-4136c566a962';

describe('when a control message arrives', () => {
  it('takes a cancel request for a job id', () => {
    expect(parseControlMessage(JSON.stringify({ type: 'cancel', jobId, run: 2 }))).toEqual({ type: 'cancel', jobId, run: 2 });
  });

  it.each([
    ['text that is not JSON', 'cancel everything'],
    ['an unknown type', JSON.stringify({ type: 'explode', jobId })],
    ['an id that is not a job id', JSON.stringify({ type: 'cancel', jobId: '../../etc' })],
    ['no id', JSON.stringify({ type: 'cancel' })],
    ['a bare value', '42'],
  ])('ignores %s', (_what, raw) => {
    expect(parseControlMessage(raw)).toBeNull();
  });

  it('travels on a channel under the app prefix, so two apps on one Redis never mix', () => {
    expect(controlChannel('downloader')).toBe('downloader:control');
    expect(controlChannel('a')).not.toBe(controlChannel('b'));
  });
});

describe('when a worker is asked to cancel a job', () => {
  it('stops that job only, with the cancelled reason', () => {
    const running = new RunningJobs();
    const mine = running.start(jobId);
    const other = running.start('other');
    expect(running.cancel(jobId)).toBe(true);
    expect(mine.signal.aborted).toBe(true);
    expect(mine.signal.reason).toBe(CANCELLED);
    expect(other.signal.aborted).toBe(false);
  });

  it('answers false for a job it does not run', () => {
    expect(new RunningJobs().cancel(jobId)).toBe(false);
  });

  it('forgets a finished run but not a newer run of the same job', () => {
    const running = new RunningJobs();
    const first = running.start(jobId);
    const second = running.start(jobId);
    running.finish(jobId, first);
    expect(running.cancel(jobId)).toBe(true);
    expect(second.signal.aborted).toBe(true);
    running.finish(jobId, second);
    expect(running.size).toBe(0);
  });
});
