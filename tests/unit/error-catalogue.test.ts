import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { AppError, ERROR_CATALOGUE, ERROR_CODES, type ApiErrorCode } from '../../lib/domain/errors';
import { DOWNLOAD_ERROR_CODES, DownloadError } from '../../lib/engine/errors';
import { jobErrorFrom } from '../../workers/job-error';

const README = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

/** The rows of the README's "Error codes" table: code, HTTP status (null for —) and whether it is retried. */
function readmeCodes(): Map<string, { status: number | null; retryable: boolean }> {
  const section = README.split(/^## /m).find((part) => part.startsWith('Error codes'));
  if (!section) throw new Error('README.md has no "## Error codes" section');
  const rows = new Map<string, { status: number | null; retryable: boolean }>();
  for (const line of section.split('\n')) {
    const row = /^\| `([a-z_]+)` \| (\d{3}|—) \| (yes|no) \| .+ \|$/.exec(line.trim());
    if (row) rows.set(row[1], { status: row[2] === '—' ? null : Number(row[2]), retryable: row[3] === 'yes' });
  }
  return rows;
}

describe('the error catalogue', () => {
  it("agrees with the README's table of codes, row for row", () => {
    const documented = readmeCodes();
    expect([...documented.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const { status, retryable } = ERROR_CATALOGUE[code];
      expect({ code, ...documented.get(code) }).toEqual({ code, status, retryable });
    }
  });

  it('lists every code the download engine fails with, as transient or not alike', () => {
    for (const code of DOWNLOAD_ERROR_CODES.filter((c) => c !== 'aborted')) {
      expect({ code, retryable: new DownloadError(code, 'x').retryable }).toEqual({ code, retryable: ERROR_CATALOGUE[code].retryable });
    }
  });

  it('never lets an engine code that is not a job code reach a job', () => {
    expect(jobErrorFrom(new DownloadError('aborted', 'The download was stopped.')).code).toBe('interrupted');
    expect(jobErrorFrom(new DownloadError('disk_full', 'Full.'))).toEqual({ code: 'disk_full', message: 'Full.' });
  });

  it('gives every API error its status and, unless told otherwise, its sentence', () => {
    const api = ERROR_CODES.filter((code) => ERROR_CATALOGUE[code].status !== null) as ApiErrorCode[];
    expect(api).toEqual(expect.arrayContaining(['invalid_json', 'not_found', 'unavailable', 'internal_error']));
    for (const code of api) {
      const error = new AppError(code);
      expect({ code: error.code, status: error.status, message: error.message }).toEqual({
        code,
        status: ERROR_CATALOGUE[code].status,
        message: ERROR_CATALOGUE[code].message,
      });
    }
    expect(new AppError('conflict', 'Already ended.').toJSON()).toEqual({ code: 'conflict', message: 'Already ended.' });
  });
});
