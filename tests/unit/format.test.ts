import { describe, expect, it } from '@jest/globals';
import { describeRetry, describeTitle, describeUrl } from '../../lib/domain/job-text';
import {
  formatBytes,
  formatDateTime,
  formatDuration,
  formatEta,
  formatPercent,
  formatSpeed,
  formatTransferred,
  NO_VALUE,
} from '../../lib/util/format';

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

describe('formatBytes', () => {
  it('shows whole bytes below a kilobyte', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1)).toBe('1 B');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('uses binary steps with one decimal from KB up', () => {
    expect(formatBytes(KB)).toBe('1.0 KB');
    expect(formatBytes(1.5 * KB)).toBe('1.5 KB');
    expect(formatBytes(8 * MB)).toBe('8.0 MB');
    expect(formatBytes(12.34 * MB)).toBe('12.3 MB');
    expect(formatBytes(2 * GB)).toBe('2.0 GB');
    expect(formatBytes(3 * 1024 * GB)).toBe('3.0 TB');
  });

  it('moves to the next unit when rounding would reach 1024', () => {
    expect(formatBytes(MB - 1)).toBe('1.0 MB');
    expect(formatBytes(1023.94 * KB)).toBe('1023.9 KB');
  });

  it('reads nonsense as nothing', () => {
    expect(formatBytes(-5)).toBe('0 B');
    expect(formatBytes(Number.NaN)).toBe('0 B');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('0 B');
  });
});

describe('formatTransferred', () => {
  it('shows received of total', () => {
    expect(formatTransferred(12.3 * MB, 20 * MB)).toBe('12.3 MB of 20.0 MB');
  });

  it("shows both in the total's unit", () => {
    expect(formatTransferred(576 * KB, 8 * MB)).toBe('0.6 MB of 8.0 MB');
    expect(formatTransferred(0, 2 * GB)).toBe('0.0 GB of 2.0 GB');
    expect(formatTransferred(100, 900)).toBe('100 B of 900 B');
    expect(formatTransferred(1536, 2 * KB)).toBe('1.5 KB of 2.0 KB');
  });

  it('shows what was received when the total is unknown', () => {
    expect(formatTransferred(12.3 * MB, null)).toBe('12.3 MB received');
  });

  it('shows an empty file as 0 B of 0 B', () => {
    expect(formatTransferred(0, 0)).toBe('0 B of 0 B');
  });
});

describe('formatSpeed', () => {
  it('shows bytes per second', () => {
    expect(formatSpeed(2.1 * MB)).toBe('2.1 MB/s');
    expect(formatSpeed(300)).toBe('300 B/s');
  });

  it('shows a stall as 0 B/s', () => {
    expect(formatSpeed(0)).toBe('0 B/s');
  });
});

describe('formatDuration', () => {
  it('rounds to seconds under a minute, never below one', () => {
    expect(formatDuration(0)).toBe('1 s');
    expect(formatDuration(0.4)).toBe('1 s');
    expect(formatDuration(5.4)).toBe('5 s');
    expect(formatDuration(59.4)).toBe('59 s');
  });

  it('rounds to minutes under an hour', () => {
    expect(formatDuration(60)).toBe('1 min');
    expect(formatDuration(150)).toBe('3 min');
    expect(formatDuration(59 * 60 + 20)).toBe('59 min');
  });

  it('shows hours and minutes from an hour up', () => {
    expect(formatDuration(59 * 60 + 40)).toBe('1 h');
    expect(formatDuration(3600 + 5 * 60)).toBe('1 h 5 min');
    expect(formatDuration(26 * 3600)).toBe('26 h');
  });
});

describe('formatEta', () => {
  it('says about how long is left', () => {
    expect(formatEta(5)).toBe('about 5 s left');
    expect(formatEta(3600 + 5 * 60)).toBe('about 1 h 5 min left');
  });

  it('shows a dash when it cannot be estimated', () => {
    expect(formatEta(null)).toBe(NO_VALUE);
    expect(formatEta(-1)).toBe(NO_VALUE);
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe(NO_VALUE);
    expect(formatEta(Number.NaN)).toBe(NO_VALUE);
  });
});

describe('formatPercent', () => {
  it('rounds down so that 100% means done', () => {
    expect(formatPercent(61.9)).toBe('61%');
    expect(formatPercent(99.99)).toBe('99%');
    expect(formatPercent(100)).toBe('100%');
  });

  it('clamps to 0–100', () => {
    expect(formatPercent(-3)).toBe('0%');
    expect(formatPercent(130)).toBe('100%');
  });
});

describe('describeUrl', () => {
  it('shows the host and path without the scheme, query or fragment', () => {
    expect(describeUrl('https://files.invalid/files/disk.iso?token=abc#x')).toBe('files.invalid/files/disk.iso');
  });

  it('shows only the host for the root path, with its port', () => {
    expect(describeUrl('http://127.0.0.1:8080/')).toBe('127.0.0.1:8080');
  });

  it('decodes escaped characters in the path', () => {
    expect(describeUrl('https://files.invalid/my%20file.zip')).toBe('files.invalid/my file.zip');
  });

  it('keeps a malformed escape as it was', () => {
    expect(describeUrl('https://files.invalid/100%25%zz')).toBe('files.invalid/100%25%zz');
  });

  it('returns what it cannot parse unchanged', () => {
    expect(describeUrl('not a url')).toBe('not a url');
  });
});

describe('describeRetry', () => {
  const retryAt = '2030-01-01T00:00:10.000Z';
  const at = (iso: string) => Date.parse(iso);

  it('counts down to the next attempt in whole seconds, rounded up', () => {
    expect(describeRetry(retryAt, 2, 5, at('2030-01-01T00:00:06.000Z'))).toBe('Retrying in 4 s (attempt 2 of 5)');
    expect(describeRetry(retryAt, 2, 5, at('2030-01-01T00:00:06.500Z'))).toBe('Retrying in 4 s (attempt 2 of 5)');
  });

  it('says now once the time has come, and never counts below zero', () => {
    expect(describeRetry(retryAt, 3, 3, at('2030-01-01T00:00:10.000Z'))).toBe('Retrying now (attempt 3 of 3)');
    expect(describeRetry(retryAt, 3, 3, at('2030-01-01T00:01:00.000Z'))).toBe('Retrying now (attempt 3 of 3)');
  });

  it('says soon while the time is unknown: rendered on the server, or no retry time', () => {
    expect(describeRetry(retryAt, 2, 5, null)).toBe('Retrying soon (attempt 2 of 5)');
    expect(describeRetry(null, 2, 5, at(retryAt))).toBe('Retrying soon (attempt 2 of 5)');
  });

  it('reads long waits in minutes', () => {
    expect(describeRetry(retryAt, 4, 5, at('2030-01-01T00:00:10.000Z') - 120_000)).toBe('Retrying in 2 min (attempt 4 of 5)');
  });
});

describe('describeTitle', () => {
  const job = { status: 'active', stage: 'downloading', progress: 42.9, bytesReceived: 3 * 1024 * 1024, fileName: 'disk.iso', url: 'https://files.invalid/get?id=1' } as const;

  it('shows the percentage while downloading', () => {
    expect(describeTitle(job)).toBe('42% · disk.iso');
  });

  it('shows the bytes when the size is unknown', () => {
    expect(describeTitle({ ...job, progress: null })).toBe('3.0 MB · disk.iso');
  });

  it.each([
    ['queued', 'waiting', 'Queued'],
    ['queued', 'retrying', 'Retrying'],
    ['active', 'connecting', 'Downloading'],
    ['completed', 'done', 'Done'],
    ['failed', 'done', 'Failed'],
    ['cancelled', 'done', 'Cancelled'],
  ] as const)('says %s (%s) as %s', (status, stage, word) => {
    expect(describeTitle({ ...job, status, stage })).toBe(`${word} · disk.iso`);
  });

  it('names the URL while the file name is unknown', () => {
    expect(describeTitle({ ...job, fileName: null })).toBe('42% · files.invalid/get');
  });
});

describe('formatDateTime', () => {
  const at = Date.UTC(2026, 11, 10, 14, 3, 59);

  it('shows day, month and minute in UTC, the same everywhere', () => {
    expect(formatDateTime(at, at, true)).toBe('10 Dec, 14:03');
    expect(formatDateTime(Date.UTC(2026, 0, 1, 0, 0), Date.UTC(2026, 5, 1), true)).toBe('1 Jan, 00:00');
  });

  it('adds the year only outside the year of now', () => {
    expect(formatDateTime(at, Date.UTC(2027, 0, 2), true)).toBe('10 Dec 2026, 14:03');
  });

  it('uses the local clock without utc', () => {
    const local = new Date(at);
    const hhmm = `${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}`;
    expect(formatDateTime(at, at)).toBe(`${local.getDate()} ${local.toString().slice(4, 7)}, ${hhmm}`);
  });
});
