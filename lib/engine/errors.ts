/**
 * The engine's own failure type: why a download failed, as a stable code, a sentence for people
 * and whether trying again may help. The engine knows no jobs; the worker turns these into a
 * job's error (see the error catalogue). Messages name at most a host, never a full URL, so
 * credentials in a URL never leak.
 */
import { STATUS_CODES } from 'node:http';

export type DownloadErrorCode =
  /** The URL is not an absolute http(s) URL. */
  | 'invalid_url'
  /** The destination is a private, loopback or reserved address and those are not allowed. */
  | 'blocked_destination'
  /** The host name does not resolve. */
  | 'dns_not_found'
  /** Nothing listens at the destination: the connection was refused. */
  | 'connection_refused'
  /** The connection broke while it was in use. */
  | 'connection_reset'
  /** No connection within CONNECT_TIMEOUT_MS. */
  | 'connect_timeout'
  /** No bytes (headers included) for IDLE_TIMEOUT_MS. */
  | 'idle_timeout'
  /** The attempt as a whole took longer than TOTAL_TIMEOUT_MS. */
  | 'total_timeout'
  /** The final answer was not a 2xx; `httpStatus` holds the status. */
  | 'http_error'
  /** More redirects than allowed. */
  | 'too_many_redirects'
  /** A redirect without a Location, or to something other than http(s). */
  | 'invalid_redirect'
  /** Content-Length disagrees with the bytes received. */
  | 'size_mismatch'
  /** The file is larger than MAX_DOWNLOAD_BYTES (said by Content-Length, or counted). */
  | 'too_large'
  /** The disk (or the quota) is full. */
  | 'disk_full'
  /** The file could not be written to disk for another reason. */
  | 'write_failed'
  /** The caller's signal stopped the download. */
  | 'aborted'
  /** Any other network failure (TLS, unreachable host, protocol error). */
  | 'network_error'
  /** Fewer bytes than the minimum speed over a whole window. */
  | 'too_slow';

/** Whether a second attempt may succeed; `http_error` is decided by its status instead. */
const RETRYABLE: Record<DownloadErrorCode, boolean> = {
  invalid_url: false,
  blocked_destination: false,
  dns_not_found: false,
  // Nothing listens there: as curl and wget do by default, no retry (it rarely passes in seconds).
  connection_refused: false,
  connection_reset: true,
  connect_timeout: true,
  idle_timeout: true,
  // With the partial file kept, the next attempt continues where this one was cut off.
  total_timeout: true,
  http_error: false,
  too_many_redirects: false,
  invalid_redirect: false,
  size_mismatch: true,
  too_large: false,
  disk_full: false,
  write_failed: false,
  aborted: false,
  network_error: true,
  // As curl counts a speed-limit failure: a timeout, which may pass; the next attempt resumes.
  too_slow: true,
};

/** Every code the engine fails with. */
export const DOWNLOAD_ERROR_CODES = Object.keys(RETRYABLE) as DownloadErrorCode[];

export interface DownloadErrorOptions {
  httpStatus?: number;
  /** Overrides the default for the code (e.g. a temporary DNS failure is worth retrying). */
  retryable?: boolean;
  cause?: unknown;
}

export class DownloadError extends Error {
  readonly code: DownloadErrorCode;
  readonly retryable: boolean;
  readonly httpStatus?: number;

  constructor(code: DownloadErrorCode, message: string, options: DownloadErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'DownloadError';
    this.code = code;
    this.httpStatus = options.httpStatus;
    this.retryable = options.retryable ?? RETRYABLE[code];
  }
}

/** A non-2xx final answer; 5xx, 408 and 429 are worth retrying, other 4xx are not. */
export function httpError(status: number): DownloadError {
  const reason = STATUS_CODES[status];
  return new DownloadError('http_error', `The server answered ${status}${reason ? ` ${reason}` : ''}.`, {
    httpStatus: status,
    retryable: status >= 500 || status === 408 || status === 429,
  });
}

const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EISDIR: 'a directory is in the way',
  ENOTDIR: 'a file is in the way of the directory',
  EMFILE: 'too many open files',
};

/**
 * A certificate that failed verification: Node's own codes say CERT; OpenSSL's verify results
 * mostly do, but not all (a missing intermediate is UNABLE_TO_VERIFY_LEAF_SIGNATURE).
 */
const CERTIFICATE_FAILURE = /CERT|CRL|^UNABLE_TO_|^(?:INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED|HOSTNAME_MISMATCH|IP_ADDRESS_MISMATCH)$/;

/** OpenSSL's own words for a failure (`…:SSL routines:<function>:<reason>:…`): nothing the peer chose. */
const OPENSSL_REASON = /:SSL routines:[^:]*:([a-z0-9 ]+):/i;

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, errors } = err as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  // Trying several addresses in turn ends in an AggregateError; the first failure speaks for all.
  return Array.isArray(errors) ? errorCode(errors[0]) : undefined;
}

/**
 * Maps anything thrown while downloading to a DownloadError. `host` (never a whole URL) may be
 * named in the message.
 */
export function toDownloadError(err: unknown, host?: string): DownloadError {
  if (err instanceof DownloadError) return err;
  const name = (err as { name?: unknown } | null)?.name;
  const code = errorCode(err);
  const at = host ? ` at ${host}` : '';
  const options = { cause: err };
  if (name === 'AbortError' || code === 'ABORT_ERR') return new DownloadError('aborted', 'The download was stopped.', options);
  switch (code) {
    case 'ENOTFOUND':
      return new DownloadError('dns_not_found', `The name ${host ?? 'of the server'} could not be found.`, options);
    case 'EAI_AGAIN':
      return new DownloadError('dns_not_found', `The name ${host ?? 'of the server'} could not be resolved right now.`, { ...options, retryable: true });
    case 'ECONNREFUSED':
      return new DownloadError('connection_refused', `The server${at} refused the connection.`, options);
    case 'ECONNRESET':
    case 'EPIPE':
      return new DownloadError('connection_reset', `The connection to the server${at} was cut.`, options);
    case 'ETIMEDOUT':
      return new DownloadError('connect_timeout', `The server${at} did not answer in time.`, options);
    case 'ENOSPC':
    case 'EDQUOT':
      return new DownloadError('disk_full', `The file could not be written: ${WRITE_FAILURES[code]}.`, options);
  }
  if (code && code in WRITE_FAILURES) {
    return new DownloadError('write_failed', `The file could not be written: ${WRITE_FAILURES[code]}.`, options);
  }
  if (code && CERTIFICATE_FAILURE.test(code)) {
    return new DownloadError('network_error', `The TLS certificate of the server${at} was not accepted (${code}).`, { ...options, retryable: false });
  }
  // A failed handshake often comes as EPROTO, OpenSSL's reason only in the message (e.g. a server not speaking TLS).
  const sslReason = code === 'EPROTO' ? OPENSSL_REASON.exec(String((err as { message?: unknown }).message))?.[1] : undefined;
  if (sslReason || (code && /_TLS_|SSL/.test(code))) {
    return new DownloadError('network_error', `The TLS handshake with the server${at} failed (${sslReason ?? code}).`, { ...options, retryable: false });
  }
  // Only a bare code is quoted: free-form messages may carry addresses or other details.
  const detail = code && /^[A-Z0-9_]+$/.test(code) ? ` (${code})` : '';
  return new DownloadError('network_error', `The download from the server${at} failed${detail}.`, options);
}
