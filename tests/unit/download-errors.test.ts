import { describe, expect, it } from '@jest/globals';
import { DownloadError, httpError, toDownloadError } from '../../lib/engine/errors';
import { jobErrorFrom } from '../../workers/job-error';

const errno = (code: string, message = `connect ${code} 10.0.0.1:80`) => Object.assign(new Error(message), { code });

describe('toDownloadError', () => {
  it.each([
    ['ECONNREFUSED', 'connection_refused', false],
    ['ENOTFOUND', 'dns_not_found', false],
    ['EAI_AGAIN', 'dns_not_found', true],
    ['ECONNRESET', 'connection_reset', true],
    ['EPIPE', 'connection_reset', true],
    ['ETIMEDOUT', 'connect_timeout', true],
    ['ENOSPC', 'disk_full', false],
    ['EDQUOT', 'disk_full', false],
    ['EACCES', 'write_failed', false],
    ['EROFS', 'write_failed', false],
    ['EHOSTUNREACH', 'network_error', true],
    ['CERT_HAS_EXPIRED', 'network_error', false],
  ])('maps %s to %s (retryable: %p)', (code, expected, retryable) => {
    const err = toDownloadError(errno(code), 'files.test');
    expect(err).toMatchObject({ code: expected, retryable });
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('maps an AbortError to aborted', () => {
    expect(toDownloadError(new DOMException('This operation was aborted', 'AbortError')).code).toBe('aborted');
  });

  it('reads the code of the first failure inside an AggregateError', () => {
    expect(toDownloadError(new AggregateError([errno('ECONNREFUSED')])).code).toBe('connection_refused');
  });

  it('returns a DownloadError unchanged', () => {
    const original = new DownloadError('blocked_destination', 'no');
    expect(toDownloadError(original)).toBe(original);
  });

  it('never repeats the original message, which may carry addresses or URLs', () => {
    const err = toDownloadError(new Error('failed for http://user:secret@10.0.0.1/x'), 'files.test');
    expect(err.code).toBe('network_error');
    expect(err.message).not.toMatch(/secret|10\.0\.0\.1/);
    expect(toDownloadError('a string').code).toBe('network_error');
  });

  it('names the host in the message when given one', () => {
    expect(toDownloadError(errno('ENOTFOUND'), 'files.test').message).toBe('The name files.test could not be found.');
  });
});

describe('httpError', () => {
  it.each([
    [404, 'The server answered 404 Not Found.', false],
    [403, 'The server answered 403 Forbidden.', false],
    [429, 'The server answered 429 Too Many Requests.', true],
    [500, 'The server answered 500 Internal Server Error.', true],
    [599, 'The server answered 599.', true],
  ])('%d reads "%s" (retryable: %p)', (status, message, retryable) => {
    expect(httpError(status)).toMatchObject({ code: 'http_error', httpStatus: status, message, retryable });
  });

  it("becomes a job's error with its code and message", () => {
    expect(jobErrorFrom(httpError(404))).toEqual({ code: 'http_error', message: 'The server answered 404 Not Found.' });
  });
});
